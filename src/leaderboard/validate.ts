import * as tf from '@tensorflow/tfjs';
import { parseDefenseSpecs } from '../../defenses/spec.js';
import { parseInputTransform } from '../../defenses/input-transforms.js';
import { attacksFrom, type AttackCliOptions } from '../run/attack-options.js';
import { ATTACK_OPTION_TABLE, givenAttackOptions, type AttackOptionTable } from '../run/attack-option-table.js';
import { largestCertifiableRadius } from '../certify/statistics.js';
import { UserError } from '../errors.js';
import { buildArchitecture } from '../model/architectures.js';
import { layersClassifier } from '../model/classifier.js';
import { checkTrainingExamples, trainingDefenses, type TrainJob } from '../run/train.js';
import type { BenchConfig, BenchEntry } from './config.js';

/** Bench models take 28×28×1 images in [0, 1] (the data loaders' shape and range). */
export const BENCH_SHAPE: [number, number, number] = [28, 28, 1];
const INPUT_RANGE = 1;

/**
 * The --attack options of a section of the config (its evaluation, or its confirming attack) as
 * text for `table`; transform entries are attacked with BPDA in either.
 */
export function benchAttackOptions(config: BenchConfig, entry: BenchEntry, table: AttackOptionTable = ATTACK_OPTION_TABLE, section: 'eval' | 'confirm' = 'eval'): AttackCliOptions {
  const e = section === 'eval' ? config.eval : config.confirm!;
  return {
    attack: e.attack,
    ...givenAttackOptions(e, table),
    ...(section === 'eval' && config.eval.mode ? { mode: config.eval.mode } : {}),
    ...(entry.transform ? { bpda: true } : {}),
  };
}

/**
 * Builds the job's architecture and defenses as `advtest train` would, and throws away both: an
 * unknown architecture, defense, layer name or train attack is found before anything trains.
 */
function checkTrainJob(job: TrainJob): void {
  const specs = parseDefenseSpecs(job.defense ?? 'none');
  const model = buildArchitecture(job.arch, BENCH_SHAPE, 10, job.seed);
  try {
    // distill=T trains its teacher in the run: the untrained model stands in for it here.
    const teacher = specs.some((s) => s.name === 'distill') ? layersClassifier(model) : undefined;
    tf.tidy(() => void trainingDefenses(specs, job, model, teacher, 'config'));
  } finally {
    model.dispose();
  }
}

/**
 * A certification that cannot certify: too few samples for any p̲_A above ½ at this α, or radii
 * beyond the largest one n samples can reach (their column would be 0% whatever the model).
 */
function checkCertify(c: NonNullable<BenchConfig['certify']>, file: string): void {
  const largest = largestCertifiableRadius(c.sigma, c.n, c.alpha);
  if (largest === 0) {
    const need = Math.floor(Math.log(c.alpha) / Math.log(0.5)) + 1;
    throw new UserError(`${file}: /certify/n ${c.n} is too few samples to certify anything at α ${c.alpha} (even n votes of n give p̲_A ≤ ½): use n ≥ ${need}`);
  }
  const far = c.radii.find((r) => r > largest);
  if (far !== undefined) {
    throw new UserError(
      `${file}: /certify/radii ${far} cannot be certified with σ ${c.sigma}, n ${c.n}, α ${c.alpha}: the largest radius any example can get is ${largest.toFixed(3)} (all n votes for one class); raise n or σ, or drop radii above ${largest.toFixed(3)}`,
    );
  }
}

/**
 * Everything in a benchmark config that can be wrong, checked before the first entry trains:
 * entry names (they become file names), ε against the input range, the attacks, each entry's
 * transform, architecture(s) and defenses, the training examples asked for (against `trainSize`,
 * the training split's size, when known), and the names given to --only. `jobsOf` turns an entry
 * into its training jobs (one per ensemble member). Errors name the entry.
 */
export function checkBenchConfig(config: BenchConfig, file: string, jobsOf: (entry: BenchEntry) => TrainJob[], only?: string[], trainSize?: number): void {
  for (const entry of config.entries) {
    if (entry.name === '.' || entry.name === '..') {
      throw new UserError(`${file}: entry name "${entry.name}" is not a file name (it names a folder): use letters, digits, ".", "_" and "-", e.g. "standard"`);
    }
  }
  const big = config.eval.eps.find((eps) => eps > INPUT_RANGE);
  if (big !== undefined) throw new UserError(`${file}: /eval/eps ${big} exceeds the input range of the images (${INPUT_RANGE}): for images in [0, 1] write 0.03137 (8/255), not 8`);
  if (config.certify) checkCertify(config.certify, file);
  const unevaluated = config.confirm?.eps?.find((eps) => !config.eval.eps.includes(eps));
  if (unevaluated !== undefined) {
    throw new UserError(`${file}: /confirm/eps ${unevaluated} is not among /eval/eps (${config.eval.eps.join(', ')}): the confirming attack re-ranks evaluated rows, so give ε values from /eval/eps`);
  }
  if (config.confirm) {
    try {
      attacksFrom(benchAttackOptions(config, { name: 'confirm' }, ATTACK_OPTION_TABLE, 'confirm'));
    } catch (err) {
      throw err instanceof UserError ? new UserError(`${file}: /confirm: ${err.message}`) : err;
    }
  }
  if (only) {
    const names = new Set(config.entries.map((x) => x.name));
    const unknown = only.filter((n) => !names.has(n));
    if (unknown.length > 0) throw new UserError(`--only ${unknown.join(',')}: no such entry in ${file}; its entries are ${[...names].join(', ')}`);
  }
  for (const entry of config.entries) {
    const where = `${file}: entry "${entry.name}"`;
    try {
      attacksFrom(benchAttackOptions(config, entry));
      // With BPDA added for the transform (the plain attack was checked above).
      if (config.confirm && entry.transform) attacksFrom(benchAttackOptions(config, entry, ATTACK_OPTION_TABLE, 'confirm'));
      if (entry.transform) parseInputTransform(entry.transform);
      for (const job of jobsOf(entry)) {
        if (job.trainEps !== undefined && job.trainEps > INPUT_RANGE) {
          throw new UserError(`trainEps ${job.trainEps} exceeds the input range of the images (${INPUT_RANGE}): for images in [0, 1] write 0.3, not 30`);
        }
        if (trainSize !== undefined) checkTrainingExamples(job, trainSize);
        const trainLimit = config.eval.trainLimit;
        if (job.examples !== undefined && trainLimit != null && trainLimit > job.examples) {
          throw new UserError(`/eval/trainLimit ${trainLimit} is above its examples ${job.examples}: the training digits evaluated would include ones it never trained on; lower /eval/trainLimit to ${job.examples} or raise examples`);
        }
        checkTrainJob(job);
      }
    } catch (err) {
      if (err instanceof UserError) throw new UserError(`${where}: ${err.message}`);
      throw err;
    }
  }
}
