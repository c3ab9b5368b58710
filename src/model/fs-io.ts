import { mkdir, readFile, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../errors.js';
import { readJsonFile } from '../json-file.js';
import { writeCause } from '../report/write-file.js';

const MODEL_JSON = 'model.json';
const WEIGHTS_FILE = 'weights.bin';

/** Resolves a manifest path and refuses any that leaves the model folder (`../x`, `/etc/x`). */
export function resolveWeightPath(dir: string, relative: string): string {
  const root = path.resolve(dir);
  const full = path.resolve(root, relative);
  if (path.isAbsolute(relative) || !full.startsWith(root + path.sep)) {
    throw new UserError(`${path.join(dir, MODEL_JSON)}: weight path "${relative}" points outside the model folder; weight files must sit inside ${root}`);
  }
  return full;
}

/**
 * Refuses a weight file that is a symbolic link (or sits behind one) leading out of the model
 * folder: the same escape as a `../` path in the manifest, by another route.
 */
async function checkStaysInside(dir: string, relative: string, full: string): Promise<void> {
  let real: string;
  let root: string;
  try {
    [real, root] = await Promise.all([realpath(full), realpath(dir)]);
  } catch {
    return; // A missing file is reported by the read that follows, with its own advice.
  }
  if (!real.startsWith(root + path.sep)) {
    throw new UserError(`${path.join(dir, MODEL_JSON)}: weight file "${relative}" is a symbolic link to ${real}, outside the model folder; copy the weight file into ${path.resolve(dir)} instead of linking it`);
  }
}

/** Reads and checks model.json (JSON, a topology, a weights manifest). */
export async function readModelJson(dir: string): Promise<tf.io.ModelJSON> {
  const file = path.join(dir, MODEL_JSON);
  const json = await readJsonFile(file, '--model must be a folder holding model.json and its weight files', 're-export the model with model.save or tensorflowjs_converter');
  const obj = json as Partial<tf.io.ModelJSON>;
  if (typeof obj !== 'object' || obj === null || obj.modelTopology === undefined) {
    throw new UserError(`${file} has no "modelTopology": it is not a TF.js model file`);
  }
  if (!Array.isArray(obj.weightsManifest)) {
    throw new UserError(`${file} has no "weightsManifest": re-export the model with its weights`);
  }
  return obj as tf.io.ModelJSON;
}

/** Loads model.json and its weight shards from a folder, checking paths and sizes. */
export function fileLoader(dir: string): tf.io.IOHandler {
  return {
    async load(): Promise<tf.io.ModelArtifacts> {
      const modelJson = await readModelJson(dir);
      return tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
        const specs: tf.io.WeightsManifestEntry[] = [];
        const buffers: ArrayBuffer[] = [];
        for (const group of manifest) {
          for (const p of group.paths) {
            const full = resolveWeightPath(dir, p);
            await checkStaysInside(dir, p, full);
            let bytes: Buffer;
            try {
              bytes = await readFile(full);
            } catch (err) {
              throw new UserError(`weight file ${full} listed in model.json cannot be read (${(err as NodeJS.ErrnoException).code ?? ''}): copy it next to model.json`);
            }
            buffers.push(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
          }
          specs.push(...group.weights);
        }
        const data = tf.io.CompositeArrayBuffer.join(buffers);
        const expected = specs.reduce((sum, s) => sum + s.shape.reduce((a, b) => a * b, 1) * bytesPerElement(s), 0);
        if (data.byteLength !== expected) {
          throw new UserError(`${path.join(dir, MODEL_JSON)}: weight files hold ${data.byteLength} bytes but the manifest describes ${expected}: the weight files are truncated or belong to another model; copy them again or re-export the model`);
        }
        return [specs, data];
      });
    },
  };
}

function bytesPerElement(spec: tf.io.WeightsManifestEntry): number {
  // Quantized weights are stored as uint8 (1 byte) or uint16 / float16 (2 bytes).
  if (spec.quantization) return spec.quantization.dtype === 'uint8' ? 1 : 2;
  return spec.dtype === 'bool' ? 1 : 4;
}

/**
 * Checks before any work that a model can be saved to dir (not a file; its parent folder can be
 * created), so that a long training run does not end in an error — or leave checkpoints beside a
 * path that was never usable. True when the folder exists already.
 */
export async function checkModelDestination(dir: string): Promise<boolean> {
  const target = path.resolve(dir);
  const existing = await stat(target).catch(() => undefined);
  if (existing && !existing.isDirectory()) {
    throw new UserError(`cannot save the model to ${dir}: it is a file, not a folder; choose another folder (the file was left untouched)`);
  }
  try {
    await mkdir(path.dirname(target), { recursive: true });
  } catch (err) {
    // mkdir says EEXIST when a file stands where a folder of the path should be.
    const code = (err as NodeJS.ErrnoException).code === 'EEXIST' ? 'ENOTDIR' : ((err as NodeJS.ErrnoException).code ?? 'error');
    const cause = writeCause({ code });
    throw new UserError(`cannot save the model to ${dir}: ${cause ? `${cause.text}; ${cause.fix}` : `${code}; choose a folder you can write to`}`);
  }
  return existing !== undefined;
}

/**
 * Saves model.json + one weights.bin. Writes into a temporary sibling folder and renames it,
 * so an interrupted save never leaves a half-written model behind.
 */
export function fileSaver(dir: string): tf.io.IOHandler {
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      const target = path.resolve(dir);
      // The rm below replaces an older model folder, never a file (refused here).
      const existing = await checkModelDestination(dir);
      const tmp = `${target}.tmp-${process.pid}`;
      try {
        await rm(tmp, { recursive: true, force: true });
        await writeModelFolder(tmp, artifacts);
      } catch (err) {
        await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
        const code = (err as NodeJS.ErrnoException).code;
        // The temporary folder's name would only confuse: name the folder the user asked for, and
        // the cause as the file writer does ("disk full (ENOSPC)").
        const cause = writeCause(err);
        // Only an earlier model in that folder can be "left as it was": say so then, not otherwise.
        const kept = existing ? '; the model already there was left as it was' : '';
        if (cause !== undefined) throw new UserError(`cannot save the model to ${dir}: ${cause.text}${kept}; ${cause.fix}`);
        if (code !== undefined) throw new UserError(`cannot save the model to ${dir}: ${code}; choose a folder you can write to`);
        throw err;
      }
      await rm(target, { recursive: true, force: true });
      await rename(tmp, target);
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
  };
}

/** model.json and weights.bin into a fresh folder (created with its parents). */
async function writeModelFolder(tmp: string, artifacts: tf.io.ModelArtifacts): Promise<void> {
  await mkdir(tmp, { recursive: true });
  const weightData = artifacts.weightData ? tf.io.CompositeArrayBuffer.join(artifacts.weightData) : new ArrayBuffer(0);
  const modelJson: tf.io.ModelJSON = {
    modelTopology: artifacts.modelTopology as tf.io.ModelJSON['modelTopology'],
    format: artifacts.format ?? 'layers-model',
    generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
    convertedBy: 'advtest',
    weightsManifest: [{ paths: [`./${WEIGHTS_FILE}`], weights: artifacts.weightSpecs ?? [] }],
  };
  if (artifacts.userDefinedMetadata) modelJson.userDefinedMetadata = artifacts.userDefinedMetadata;
  await writeFile(path.join(tmp, WEIGHTS_FILE), Buffer.from(weightData));
  await writeFile(path.join(tmp, MODEL_JSON), JSON.stringify(modelJson));
}
