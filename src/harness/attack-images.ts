import path from 'node:path';
import { backendInfo } from '../backend/select.js';
import type { ImageInput } from '../data/image-files.js';
import { UserError } from '../errors.js';
import { toolVersion } from '../package-info.js';
import type { Attack, Classifier } from '../types.js';
import { adversarialBatch, startBatch, type AttackBatch, type AttackBatchRunner, type StartedBatch } from './adversarial-batch.js';
import { encodeBatch, manifestSummary, type AttackManifest, type ManifestEntry } from './attack-manifest.js';
import { epsFolder, outputName, OutputFolder, type ExistingOutput } from './attack-output.js';
import { isOutOfMemory, outOfMemoryError } from './batch-size.js';
import { describeTarget, type TargetSpec } from './targets.js';

// attackImages schedules three steps, each in its own file: attack (adversarial-batch.ts), encode
// (attack-manifest.ts) and write (attack-output.ts). Decoding image files is src/data/image-files.ts.
export type { AttackManifest, ImageInput };

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
  checkLabels(inputs, model.numClasses);
  const used = new Set<string>();
  const baseNames = inputs.map((b, i) => outputName(b.source, i, used));
  const relative = (eps: number, i: number): string => (epsilons.length > 1 ? path.join(epsFolder(eps), baseNames[i]!) : baseNames[i]!);
  const planned = epsilons.flatMap((eps) => inputs.map((_, i) => relative(eps, i)));
  const out = await OutputFolder.open(outDir, options.existing ?? 'replace', epsilons.map(epsFolder), planned);

  const entries: ManifestEntry[] = [];
  const runner = options.runner ?? { concurrency: 1, run: (b: AttackBatch) => adversarialBatch(model, attack, b.eps ?? epsilons[0]!, seed, b) };
  const units = epsilons.flatMap((eps) => Array.from({ length: Math.ceil(inputs.length / batchSize) }, (_, b) => ({ eps, start: b * batchSize })));
  const inFlight: StartedBatch[] = [];
  try {
    for (let next = 0; next < units.length || inFlight.length > 0; ) {
      while (next < units.length && inFlight.length < Math.max(1, runner.concurrency)) {
        const { eps, start } = units[next++]!;
        inFlight.push(await startBatch(model, inputs.slice(start, start + batchSize), start, eps, target, seed, runner.run));
      }
      const started = inFlight.shift()!;
      entries.push(...(await encodeBatch(model, started, await started.adversarial, (i) => relative(started.eps, i), (rel, png) => out.write(rel, png))));
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
      summary: manifestSummary(epsilons, entries),
      images: entries,
    };
    await out.writeManifest(manifest);
    return manifest;
  } catch (err) {
    await out.removeWritten();
    if (isOutOfMemory(err)) throw outOfMemoryError(batchSize, model.inputShape);
    throw err;
  }
}
