import path from 'node:path';
import { checkAttackSetup } from '../harness/budgets.js';
import type { EvaluateProgress } from '../harness/evaluate.js';
import type { Report } from '../harness/report-types.js';
import type { Classifier } from '../types.js';
import type { Baseline, EvaluationSpec } from './baseline-file.js';
import { baselineFromReport } from './record.js';
import { loadSpecModel, runSpec } from './run-spec.js';
import { attacksFrom } from '../run/attack-options.js';
import { checkNoRepeats, storedAttacks, storedDataSpec, storedPath } from './spec.js';
import { writeBaseline } from './store.js';
import { weightsDigest } from '../harness/model-digest.js';

/**
 * The evaluation to record, as its spec holds it but for: data spec and data dir as the user gave
 * them (relative to the working directory); split default 'test'; mode default what the request
 * implies (sequential for suites and presets); the attacks, which the request builds.
 */
export interface RecordBaselineInput extends Omit<EvaluationSpec, 'split' | 'mode' | 'attacks'>, Partial<Pick<EvaluationSpec, 'split' | 'mode'>> {
  /** The model folder; stored relative to the baseline file. */
  modelDir: string;
  /** The classifier to evaluate, when already loaded (with its input transform applied). */
  model?: Classifier;
  /** Where the baseline goes. */
  out: string;
  onProgress?: (p: EvaluateProgress) => void;
  /** Facts the caller should print before the evaluation runs (e.g. --eot on a model that may be deterministic). */
  onNote?: (line: string) => void;
}

/**
 * Evaluates the model as asked and writes the baseline file (atomically). Paths in the spec are
 * stored relative to the baseline's folder, so that baseline, model and data can move together.
 */
export async function recordBaseline(input: RecordBaselineInput): Promise<{ baseline: Baseline; report: Report }> {
  const baselineDir = path.dirname(path.resolve(input.out));
  const { attacks, mode } = attacksFrom({ ...input.request, mode: input.mode });
  const spec: EvaluationSpec = {
    data: storedDataSpec(input.data, baselineDir),
    ...(input.dataDir !== undefined ? { dataDir: storedPath(input.dataDir, baselineDir) } : {}),
    split: input.split ?? 'test',
    ...(input.limit !== undefined ? { limit: input.limit } : {}),
    request: input.request,
    attacks: storedAttacks(attacks),
    mode,
    ...(input.transform !== undefined ? { transform: input.transform } : {}),
    epsilons: input.epsilons,
    seed: input.seed,
    batchSize: input.batchSize,
    target: input.target,
  };
  checkNoRepeats(spec);
  const model = input.model ?? (await loadSpecModel(input.modelDir, spec));
  try {
    checkAttackSetup(model, attacks, spec.epsilons, (note) => input.onNote?.(note));
    const { report } = await runSpec(model, spec, attacks, baselineDir, { onProgress: input.onProgress });
    const baseline = baselineFromReport(report, spec, storedPath(input.modelDir, baselineDir));
    // So that `check` can tell a regression from a model retrained in place.
    const weights = await weightsDigest(input.modelDir).catch(() => undefined);
    if (weights !== undefined) baseline.model.weights = weights;
    await writeBaseline(input.out, baseline);
    return { baseline, report };
  } finally {
    if (input.model === undefined) model.dispose?.();
  }
}
