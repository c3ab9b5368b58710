import { constants } from 'node:fs';
import { access, mkdir, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import writeFileAtomic from 'write-file-atomic';
import { backendInfo } from '../backend/select.js';
import { decodeImage, encodePng } from '../data/image-codec.js';
import { UserError } from '../errors.js';
import { toolVersion } from '../package-info.js';
import type { Attack, Classifier } from '../types.js';
import { scoresOf } from '../model/scores.js';
import { quantize8WithinBudget } from './finalize.js';
import { runAttack } from './run-attack.js';
import { round6 } from './stats.js';
import { checkFiniteScores } from './evaluate.js';
import { chooseTargets, describeTarget, type TargetSpec } from './targets.js';

export interface ImageInput {
  /** Where the image came from (shown in the manifest). */
  source: string;
  /** h·w·c values in the model's range. */
  pixels: Float32Array;
  /** True label; when absent, the model's own clean prediction is the label to move away from. */
  label?: number;
}

/** One batch to attack: what a worker thread needs besides the model and the attack. */
export interface AttackBatch {
  /** Index of the batch's first image among all inputs (per-example randomness is keyed on it). */
  start: number;
  /** The batch's pixels, image after image. */
  pixels: Float32Array;
  /** True labels (untargeted) or target classes (targeted). */
  labels: Int32Array;
  targeted: boolean;
}

/** Computes a batch's adversarial images, 8-bit quantised within the budget (in any thread). */
export type AttackBatchRunner = (batch: AttackBatch) => Promise<Float32Array>;

export interface AttackImagesOptions {
  attack: Attack;
  eps: number;
  outDir: string;
  seed?: number;
  target?: TargetSpec;
  batchSize?: number;
  /**
   * Where batches are attacked (default: this thread, one at a time). With `concurrency` > 1, that
   * many batches are in flight while finished ones are written, in input order.
   */
  runner?: { concurrency: number; run: AttackBatchRunner };
}

/**
 * The attack step of attackImages: runAttack, then the 8-bit image closest to the result whose
 * change from the original stays within ε. Deterministic for a seed: the attack's randomness is
 * drawn per example from its global index.
 */
export async function adversarialBatch(model: Classifier, attack: Attack, eps: number, seed: number, batch: AttackBatch): Promise<Float32Array> {
  const n = batch.labels.length;
  const x = tf.tensor4d(batch.pixels, [n, ...model.inputShape]);
  const labels = tf.tensor1d(batch.labels, 'int32');
  try {
    const indices = Int32Array.from({ length: n }, (_, i) => batch.start + i);
    const { adv } = await runAttack(model, attack, x, { labels, targeted: batch.targeted }, eps, seed, indices);
    const q = quantize8WithinBudget(adv, x, model.bounds);
    adv.dispose();
    const out = q.dataSync() as Float32Array;
    q.dispose();
    return out;
  } finally {
    tf.dispose([x, labels]);
  }
}

export interface ManifestEntry {
  source: string;
  output: string;
  label: number;
  labelSource: 'file name' | 'clean prediction';
  target?: number;
  original: { prediction: number; confidence: number };
  adversarial: { prediction: number; confidence: number };
  /** Untargeted: prediction differs from the label; targeted: prediction equals the target. */
  success: boolean;
  /** Measured between the decoded input and the 8-bit PNG written, decoded again. */
  linf: number;
  l2: number;
}

export interface AttackManifest {
  tool: { name: 'advtest'; version: string };
  backend: string;
  attack: { name: string; norm: string; config: Record<string, unknown> };
  eps: number;
  target: string;
  seed: number;
  model: Record<string, unknown>;
  images: ManifestEntry[];
}

function outputName(source: string, index: number, used: Set<string>): string {
  const base = path.basename(source).replace(/\.[^.]+$/, '') || `image-${index}`;
  let name = `${base}-adv.png`;
  for (let k = 2; used.has(name); k++) name = `${base}-adv-${k}.png`;
  used.add(name);
  return name;
}

/** Creates the output folder if needed; true when it did (so that a failed run can remove it). */
async function prepareOutDir(dir: string): Promise<boolean> {
  const info = await stat(dir).catch(() => undefined);
  if (info && !info.isDirectory()) throw new UserError(`--out ${dir} is a file, not a folder: choose a folder name`);
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    const why = code === 'ENOTDIR' ? 'ENOTDIR: part of the path is a file' : code === 'EACCES' || code === 'EPERM' ? `${code}: permission denied` : code;
    throw new UserError(`cannot create output folder ${dir} (${why}): choose a writable --out`);
  }
  // An existing read-only folder would otherwise fail on the first image, after the attack ran.
  try {
    await access(dir, constants.W_OK);
  } catch {
    throw new UserError(`output folder ${dir} is not writable: choose a writable --out`);
  }
  return info === undefined;
}

function softmaxTop(logits: tf.Tensor2D): { prediction: Int32Array; probs: Float32Array } {
  return tf.tidy(() => ({ prediction: tf.argMax(logits, 1).dataSync() as Int32Array, probs: tf.softmax(logits).dataSync() as Float32Array }));
}

/**
 * Attacks a set of decoded images and writes each adversarial example as a lossless 8-bit PNG
 * plus manifest.json. The 8-bit image never exceeds the budget (changes are truncated toward the
 * original), and every figure in the manifest is measured on the PNG as written and re-decoded.
 */
export async function attackImages(model: Classifier, inputs: ImageInput[], options: AttackImagesOptions): Promise<AttackManifest> {
  const { attack, eps, outDir } = options;
  const seed = options.seed ?? 0;
  const target = options.target ?? 'untargeted';
  const batchSize = options.batchSize ?? 64;
  const shape = model.inputShape;
  const pixels = shape[0] * shape[1] * shape[2];
  const k = model.numClasses;
  const createdOutDir = await prepareOutDir(outDir);
  const entries: ManifestEntry[] = [];
  const used = new Set<string>();
  const written: string[] = [];
  /** The clean pass of one batch: labels, targets, and the attack started on the runner. */
  interface Started {
    start: number;
    batch: ImageInput[];
    clean: { prediction: Int32Array; probs: Float32Array };
    labels: Int32Array;
    targets?: Int32Array;
    adversarial: Promise<Float32Array>;
  }
  const runner = options.runner ?? { concurrency: 1, run: (b: AttackBatch) => adversarialBatch(model, attack, eps, seed, b) };
  const begin = async (start: number): Promise<Started> => {
    const batch = inputs.slice(start, start + batchSize);
    const flat = Float32Array.from(batch.flatMap((b) => Array.from(b.pixels)));
    const x = tf.tensor4d(flat, [batch.length, ...shape]);
    const cleanLogits = await scoresOf(model, x).finally(() => x.dispose());
    try {
      checkFiniteScores(model, cleanLogits, (row) => batch[row]!.source);
      const clean = softmaxTop(cleanLogits);
      const labels = Int32Array.from(batch, (b, i) => b.label ?? clean.prediction[i]!);
      const targets = target === 'untargeted' ? undefined : chooseTargets(target, cleanLogits, labels, start, seed);
      const adversarial = runner.run({ start, pixels: flat, labels: targets ?? labels, targeted: targets !== undefined });
      // Awaited in order below; a failure meanwhile must not surface as an unhandled rejection.
      adversarial.catch(() => undefined);
      return { start, batch, clean, labels, ...(targets ? { targets } : {}), adversarial };
    } finally {
      cleanLogits.dispose();
    }
  };
  const starts = Array.from({ length: Math.ceil(inputs.length / batchSize) }, (_, b) => b * batchSize);
  const inFlight: Started[] = [];
  try {
    for (let next = 0; next < starts.length || inFlight.length > 0; ) {
      while (next < starts.length && inFlight.length < Math.max(1, runner.concurrency)) inFlight.push(await begin(starts[next++]!));
      const { start, batch, clean, labels, targets, adversarial } = inFlight.shift()!;
      const qData = await adversarial;
      // Re-decode what was written: the manifest describes the file, not the tensor.
      const decoded: Float32Array[] = [];
      for (let i = 0; i < batch.length; i++) {
        const name = outputName(batch[i]!.source, start + i, used);
        const png = await encodePng(qData.subarray(i * pixels, (i + 1) * pixels), shape);
        const tmp = path.join(outDir, `.${name}.tmp-${process.pid}`);
        try {
          await writeFile(tmp, png);
          await rename(tmp, path.join(outDir, name));
        } catch (err) {
          await rm(tmp, { force: true });
          throw err;
        }
        written.push(path.join(outDir, name));
        decoded.push(await decodeImage(png, shape));
      }
      const xa = tf.tensor4d(Float32Array.from(decoded.flatMap((d) => Array.from(d))), [batch.length, ...shape]);
      const advLogits = await scoresOf(model, xa);
      const after = softmaxTop(advLogits);
      advLogits.dispose();
      xa.dispose();
      batch.forEach((b, i) => {
        let linf = 0;
        let sq = 0;
        for (let j = 0; j < pixels; j++) {
          const d = decoded[i]![j]! - b.pixels[j]!;
          linf = Math.max(linf, Math.abs(d));
          sq += d * d;
        }
        const label = labels[i]!;
        const advPred = after.prediction[i]!;
        const entry: ManifestEntry = {
          source: b.source,
          output: path.basename(written[start + i]!),
          label,
          labelSource: b.label !== undefined ? 'file name' : 'clean prediction',
          original: { prediction: clean.prediction[i]!, confidence: round6(clean.probs[i * k + clean.prediction[i]!]!) },
          adversarial: { prediction: advPred, confidence: round6(after.probs[i * k + advPred]!) },
          success: targets ? advPred === targets[i] : advPred !== label,
          linf: round6(linf),
          l2: round6(Math.sqrt(sq)),
        };
        if (targets) entry.target = targets[i]!;
        entries.push(entry);
      });
    }
  } catch (err) {
    // Nothing half-done stays on disk: remove this run's images before reporting the error.
    await Promise.all(written.map((f) => rm(f, { force: true })));
    // A folder this run created goes too; rmdir leaves it if anything else landed in it meanwhile.
    if (createdOutDir) await rmdir(outDir).catch(() => undefined);
    throw err;
  }
  const manifest: AttackManifest = {
    tool: { name: 'advtest', version: toolVersion() },
    backend: (await backendInfo()).name,
    attack: { name: attack.name, norm: attack.norm.name, config: attack.config },
    eps,
    target: describeTarget(target),
    seed,
    model: model.describe?.() ?? {},
    images: entries,
  };
  await writeFileAtomic(path.join(outDir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  return manifest;
}
