import { constants } from 'node:fs';
import { access, mkdir, readFile, readdir, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { backendInfo } from '../backend/select.js';
import { decodeImage, encodePng, type DecodeRecord } from '../data/image-codec.js';
import { UserError } from '../errors.js';
import { toolVersion } from '../package-info.js';
import type { Attack, Classifier } from '../types.js';
import { scoresOf } from '../model/scores.js';
import { isOutOfMemory, outOfMemoryError } from './batch-size.js';
import { quantize8WithinBudget } from '../tensor/finalize.js';
import { formatEps } from '../number-format.js';
import { runAttack } from '../../attacks/run-attack.js';
import { round6 } from './stats.js';
import { writeFailure, writeFileSafely } from '../report/write-file.js';
import { checkFiniteScores } from './evaluate.js';
import { chooseTargets, describeTarget, type TargetSpec } from './targets.js';

export interface ImageInput {
  /** Where the image came from (shown in the manifest). */
  source: string;
  /** h·w·c values in the model's range. */
  pixels: Float32Array;
  /** True label; when absent, the model's own clean prediction is the label to move away from. */
  label?: number;
  /** What decoding did (original size, resize, colour, alpha), recorded in the manifest. */
  decoded?: DecodeRecord;
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
  /** The budget of this batch (default: the one the runner was made with). */
  eps?: number;
  /** Global index of each image when they are not start, start + 1, … (some were left out). */
  indices?: Int32Array;
}

/** Computes a batch's adversarial images, 8-bit quantised within the budget (in any thread). */
export type AttackBatchRunner = (batch: AttackBatch) => Promise<Float32Array>;

/** What to do when the output folder already holds files. */
export type ExistingOutput = 'refuse' | 'replace';

export interface AttackImagesOptions {
  attack: Attack;
  /** One budget, or several: one output per image per ε (in sub-folders eps-<ε>/ when several). */
  eps: number | number[];
  outDir: string;
  seed?: number;
  target?: TargetSpec;
  /** Images per batch (default 64). */
  batchSize?: number;
  /**
   * A non-empty output folder: 'refuse' it, or 'replace' (default) the earlier results: the files
   * its manifest.json lists are removed first. Files no manifest lists are never removed, nor
   * overwritten (refused).
   */
  existing?: ExistingOutput;
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
  const budget = batch.eps ?? eps;
  const x = tf.tensor4d(batch.pixels, [n, ...model.inputShape]);
  const labels = tf.tensor1d(batch.labels, 'int32');
  try {
    const indices = batch.indices ?? Int32Array.from({ length: n }, (_, i) => batch.start + i);
    const { adv } = await runAttack(model, attack, x, { labels, targeted: batch.targeted }, budget, seed, indices);
    const q = quantize8WithinBudget(adv, x, model.bounds);
    adv.dispose();
    const out = q.dataSync() as Float32Array;
    q.dispose();
    return out;
  } finally {
    tf.dispose([x, labels]);
  }
}

/** One class with its softmax probability. */
export interface RankedClass {
  class: number;
  /** The model's name for it, when the model has class names. */
  name?: string;
  probability: number;
}

export interface ManifestPrediction {
  prediction: number;
  name?: string;
  confidence: number;
  /** The top min(5, classes) classes, most probable first. */
  top: RankedClass[];
}

export interface ManifestEntry {
  source: string;
  /** The PNG written, relative to the output folder; null when the image was not attacked. */
  output: string | null;
  eps: number;
  label: number;
  labelName?: string;
  labelSource: 'file name' | 'clean prediction';
  target?: number;
  targetName?: string;
  /**
   * fooled / resisted: the attack's outcome; misclassified: the model already got the labelled
   * image wrong, so it was not attacked (and does not count as a success).
   */
  status: 'fooled' | 'resisted' | 'misclassified';
  original: ManifestPrediction;
  /** Absent when not attacked. */
  adversarial?: ManifestPrediction;
  /** Untargeted: prediction differs from the label; targeted: prediction equals the target. */
  success: boolean;
  /** Measured between the decoded input and the 8-bit PNG written, decoded again (0 when not attacked). */
  linf: number;
  l2: number;
  /** How the source file was decoded: original size and format, resize, kernel, colour, alpha. */
  decoded?: DecodeRecord;
}

/** Per ε: how many images were attacked, how many the attack fooled, how many were wrong before. */
export interface ManifestSummary {
  eps: number;
  images: number;
  attacked: number;
  fooled: number;
  misclassified: number;
}

export interface AttackManifest {
  tool: { name: 'advtest'; version: string };
  backend: string;
  attack: { name: string; norm: string; config: Record<string, unknown> };
  epsilons: number[];
  target: string;
  seed: number;
  batchSize: number;
  model: Record<string, unknown>;
  summary: ManifestSummary[];
  images: ManifestEntry[];
}

const MANIFEST = 'manifest.json';

function outputName(source: string, index: number, used: Set<string>): string {
  const base = path.basename(source).replace(/\.[^.]+$/, '') || `image-${index}`;
  let name = `${base}-adv.png`;
  for (let k = 2; used.has(name); k++) name = `${base}-adv-${k}.png`;
  used.add(name);
  return name;
}

/** The sub-folder of one ε when there are several: eps-8_255, eps-0.1. */
export function epsFolder(eps: number): string {
  return `eps-${formatEps(eps).replace('/', '_')}`;
}

/** The files an earlier manifest.json in dir lists (inside dir only), with the manifest itself. */
async function previousResults(dir: string): Promise<string[]> {
  const file = path.join(dir, MANIFEST);
  let listed: unknown;
  try {
    listed = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new UserError(`${file} cannot be read as an advtest manifest (${(err as Error).message.split('\n')[0]}): move it away or choose another --out`);
  }
  const images = (listed as { images?: { output?: unknown }[] }).images;
  const outputs = Array.isArray(images) ? images.map((e) => e?.output).filter((o): o is string => typeof o === 'string') : [];
  const root = path.resolve(dir);
  const inside = outputs.map((o) => path.resolve(root, o)).filter((f) => f.startsWith(root + path.sep));
  return [...inside, file];
}

/**
 * Checks the output folder before any work: a file, an unwritable place, or (with `existing`
 * 'refuse') a folder that already holds something are refused.
 */
export async function checkOutDir(dir: string, existing: ExistingOutput = 'replace'): Promise<void> {
  const info = await stat(dir).catch(() => undefined);
  if (info && !info.isDirectory()) throw new UserError(`--out ${dir} is a file, not a folder: choose a folder name`);
  if (info && existing === 'refuse') {
    const entries = await readdir(dir);
    if (entries.length > 0) {
      const what = entries.includes(MANIFEST) ? `earlier results (${MANIFEST} and ${entries.length - 1} more)` : `${entries.length} file${entries.length === 1 ? '' : 's'}`;
      throw new UserError(`--out ${dir} is not empty: it holds ${what}; choose a new folder, or pass --force to replace the results its ${MANIFEST} lists`);
    }
  }
}

/** Creates the output folder if needed; true when it did (so that a failed run can remove it). */
async function prepareOutDir(dir: string, existing: ExistingOutput): Promise<boolean> {
  await checkOutDir(dir, existing);
  const info = await stat(dir).catch(() => undefined);
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

interface CleanPass {
  prediction: Int32Array;
  probs: Float32Array;
}

function softmaxTop(logits: tf.Tensor2D): CleanPass {
  return tf.tidy(() => ({ prediction: tf.argMax(logits, 1).dataSync() as Int32Array, probs: tf.softmax(logits).dataSync() as Float32Array }));
}

/** Row i's prediction with its top-k classes (k = min(5, classes)) and names. */
function predictionOf(p: CleanPass, i: number, k: number, names: readonly string[] | undefined): ManifestPrediction {
  const row = p.probs.subarray(i * k, (i + 1) * k);
  const order = Array.from(row.keys()).sort((a, b) => row[b]! - row[a]! || a - b).slice(0, Math.min(5, k));
  const named = (c: number): { name?: string } => (names?.[c] !== undefined ? { name: names[c] } : {});
  const prediction = p.prediction[i]!;
  return {
    prediction,
    ...named(prediction),
    confidence: round6(row[prediction]!),
    top: order.map((c) => ({ class: c, ...named(c), probability: round6(row[c]!) })),
  };
}

/** Refuses a file-name label the model does not have (eval refuses the same). */
function checkLabels(inputs: ImageInput[], numClasses: number): void {
  const bad = inputs.find((b) => b.label !== undefined && !(Number.isInteger(b.label) && b.label >= 0 && b.label < numClasses));
  if (bad) {
    throw new UserError(
      `image ${bad.source} has label ${bad.label} (from its name), outside the model's classes 0..${numClasses - 1}: rename the file (label<k> with k < ${numClasses}) or use the model it was labelled for`,
    );
  }
}

/**
 * Attacks a set of decoded images and writes each adversarial example as a lossless 8-bit PNG
 * plus manifest.json. The 8-bit image never exceeds the budget (changes are truncated toward the
 * original), and every figure in the manifest is measured on the PNG as written and re-decoded.
 * Images whose file-name label the model already gets wrong are not attacked (status
 * 'misclassified'). A batch too large for memory fails with a UserError naming the batch size;
 * on any failure this run's files are removed.
 */
export async function attackImages(model: Classifier, inputs: ImageInput[], options: AttackImagesOptions): Promise<AttackManifest> {
  const { attack, outDir } = options;
  const epsilons = Array.isArray(options.eps) ? [...options.eps] : [options.eps];
  if (epsilons.length === 0) throw new UserError('no ε given: pass at least one budget');
  const seed = options.seed ?? 0;
  const target = options.target ?? 'untargeted';
  const batchSize = options.batchSize ?? 64;
  const existing = options.existing ?? 'replace';
  const shape = model.inputShape;
  const pixels = shape[0] * shape[1] * shape[2];
  const k = model.numClasses;
  const names = model.classNames;
  checkLabels(inputs, k);
  const used = new Set<string>();
  const baseNames = inputs.map((b, i) => outputName(b.source, i, used));
  const relative = (eps: number, i: number): string => (epsilons.length > 1 ? path.join(epsFolder(eps), baseNames[i]!) : baseNames[i]!);

  const createdOutDir = await prepareOutDir(outDir, existing);
  // Earlier results go first (they were asked to be replaced); anything else must not be overwritten.
  const previous = await previousResults(outDir);
  await Promise.all(previous.map((f) => rm(f, { force: true })));
  await Promise.all(epsilons.map((e) => rmdir(path.join(outDir, epsFolder(e))).catch(() => undefined)));
  for (const eps of epsilons) {
    for (let i = 0; i < inputs.length; i++) {
      const file = path.join(outDir, relative(eps, i));
      if (await stat(file).then(() => true, () => false)) {
        throw new UserError(`--out ${outDir} already holds ${relative(eps, i)}, which no earlier manifest lists: move it away or choose another --out`);
      }
    }
  }

  const entries: ManifestEntry[] = [];
  const written: string[] = [];
  const createdDirs: string[] = [];
  // Nothing half-done stays on disk: this run's images go, and the folders it created.
  const removeWritten = async (): Promise<void> => {
    await Promise.all(written.map((f) => rm(f, { force: true })));
    for (const dir of createdDirs) await rmdir(dir).catch(() => undefined);
    // rmdir leaves the folder if anything else landed in it meanwhile.
    if (createdOutDir) await rmdir(outDir).catch(() => undefined);
  };
  /** The clean pass of one batch at one ε: labels, targets, and the attack started on the runner. */
  interface Started {
    eps: number;
    start: number;
    batch: ImageInput[];
    clean: CleanPass;
    labels: Int32Array;
    targets?: Int32Array;
    /** Rows attacked (the others were misclassified before the attack). */
    attacked: number[];
    adversarial: Promise<Float32Array>;
  }
  const runner = options.runner ?? { concurrency: 1, run: (b: AttackBatch) => adversarialBatch(model, attack, b.eps ?? epsilons[0]!, seed, b) };
  const begin = async (eps: number, start: number): Promise<Started> => {
    const batch = inputs.slice(start, start + batchSize);
    const flat = new Float32Array(batch.length * pixels);
    batch.forEach((b, i) => flat.set(b.pixels, i * pixels));
    const x = tf.tensor4d(flat, [batch.length, ...shape]);
    const cleanLogits = await scoresOf(model, x).finally(() => x.dispose());
    try {
      checkFiniteScores(model, cleanLogits, (row) => batch[row]!.source);
      const clean = softmaxTop(cleanLogits);
      const labels = Int32Array.from(batch, (b, i) => b.label ?? clean.prediction[i]!);
      const targets = target === 'untargeted' ? undefined : chooseTargets(target, cleanLogits, labels, start, seed);
      const attacked = batch.flatMap((b, i) => (b.label !== undefined && clean.prediction[i] !== b.label ? [] : [i]));
      const all = attacked.length === batch.length;
      const sub = new Float32Array(attacked.length * pixels);
      attacked.forEach((row, j) => sub.set(flat.subarray(row * pixels, (row + 1) * pixels), j * pixels));
      const goal = targets ?? labels;
      const adversarial =
        attacked.length === 0
          ? Promise.resolve(new Float32Array(0))
          : runner.run({
              start,
              pixels: all ? flat : sub,
              labels: Int32Array.from(attacked, (row) => goal[row]!),
              targeted: targets !== undefined,
              eps,
              ...(all ? {} : { indices: Int32Array.from(attacked, (row) => start + row) }),
            });
      // Awaited in order below; a failure meanwhile must not surface as an unhandled rejection.
      adversarial.catch(() => undefined);
      return { eps, start, batch, clean, labels, ...(targets ? { targets } : {}), attacked, adversarial };
    } finally {
      cleanLogits.dispose();
    }
  };
  const units = epsilons.flatMap((eps) => Array.from({ length: Math.ceil(inputs.length / batchSize) }, (_, b) => ({ eps, start: b * batchSize })));
  const inFlight: Started[] = [];
  try {
    for (let next = 0; next < units.length || inFlight.length > 0; ) {
      while (next < units.length && inFlight.length < Math.max(1, runner.concurrency)) {
        const unit = units[next++]!;
        inFlight.push(await begin(unit.eps, unit.start));
      }
      const { eps, start, batch, clean, labels, targets, attacked, adversarial } = inFlight.shift()!;
      const qData = await adversarial;
      // Re-decode what was written: the manifest describes the file, not the tensor.
      const decoded: Float32Array[] = [];
      for (const [j, row] of attacked.entries()) {
        const rel = relative(eps, start + row);
        const dir = path.dirname(path.join(outDir, rel));
        if (epsilons.length > 1 && !createdDirs.includes(dir)) {
          if (!(await stat(dir).then(() => true, () => false))) createdDirs.push(dir);
          await mkdir(dir, { recursive: true });
        }
        const png = await encodePng(qData.subarray(j * pixels, (j + 1) * pixels), shape);
        const tmp = path.join(dir, `.${path.basename(rel)}.tmp-${process.pid}`);
        try {
          await writeFile(tmp, png);
          await rename(tmp, path.join(outDir, rel));
        } catch (err) {
          await rm(tmp, { force: true });
          throw writeFailure(path.join(outDir, rel), err, "this run's images were removed");
        }
        written.push(path.join(outDir, rel));
        decoded.push(await decodeImage(png, shape));
      }
      let after: CleanPass | undefined;
      if (attacked.length > 0) {
        const flat = new Float32Array(attacked.length * pixels);
        decoded.forEach((d, j) => flat.set(d, j * pixels));
        const xa = tf.tensor4d(flat, [attacked.length, ...shape]);
        const advLogits = await scoresOf(model, xa).finally(() => xa.dispose());
        after = softmaxTop(advLogits);
        advLogits.dispose();
      }
      batch.forEach((b, i) => {
        const j = attacked.indexOf(i);
        const label = labels[i]!;
        const entry: ManifestEntry = {
          source: b.source,
          output: j >= 0 ? relative(eps, start + i) : null,
          eps,
          label,
          ...(names?.[label] !== undefined ? { labelName: names[label] } : {}),
          labelSource: b.label !== undefined ? 'file name' : 'clean prediction',
          status: 'misclassified',
          original: predictionOf(clean, i, k, names),
          success: false,
          linf: 0,
          l2: 0,
        };
        if (targets) {
          entry.target = targets[i]!;
          if (names?.[targets[i]!] !== undefined) entry.targetName = names[targets[i]!];
        }
        if (j >= 0) {
          let linf = 0;
          let sq = 0;
          for (let v = 0; v < pixels; v++) {
            const d = decoded[j]![v]! - b.pixels[v]!;
            linf = Math.max(linf, Math.abs(d));
            sq += d * d;
          }
          entry.adversarial = predictionOf(after!, j, k, names);
          const advPred = entry.adversarial.prediction;
          entry.success = targets ? advPred === targets[i] : advPred !== label;
          entry.status = entry.success ? 'fooled' : 'resisted';
          entry.linf = round6(linf);
          entry.l2 = round6(Math.sqrt(sq));
        }
        if (b.decoded) entry.decoded = b.decoded;
        entries.push(entry);
      });
    }
  } catch (err) {
    await removeWritten();
    if (isOutOfMemory(err)) throw outOfMemoryError(batchSize, shape);
    throw err;
  }
  const manifest: AttackManifest = {
    tool: { name: 'advtest', version: toolVersion() },
    backend: (await backendInfo()).name,
    attack: { name: attack.name, norm: attack.norm.name, config: attack.config },
    epsilons,
    target: describeTarget(target),
    seed,
    batchSize,
    model: model.describe?.() ?? {},
    summary: epsilons.map((eps) => {
      const at = entries.filter((e) => e.eps === eps);
      return {
        eps,
        images: at.length,
        attacked: at.filter((e) => e.status !== 'misclassified').length,
        fooled: at.filter((e) => e.status === 'fooled').length,
        misclassified: at.filter((e) => e.status === 'misclassified').length,
      };
    }),
    images: entries,
  };
  const manifestFile = path.join(outDir, MANIFEST);
  try {
    // Every byte checked (a full disk must not leave a truncated manifest beside the images).
    await writeFileSafely(manifestFile, JSON.stringify(manifest, null, 2) + '\n');
  } catch (err) {
    // writeFileSafely's error already names the file and the cause ("disk full").
    await removeWritten();
    throw err;
  }
  return manifest;
}
