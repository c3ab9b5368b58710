import path from 'node:path';
import type { EvaluateProgress } from '../harness/evaluate.js';
import type { Report } from '../harness/report.js';
import type { TargetSpec } from '../harness/targets.js';
import type { Attack, Classifier } from '../types.js';
import type { Baseline, EvaluationSpec } from './format.js';
import { baselineFromReport } from './record.js';
import { runSpec } from './run-spec.js';
import { checkNoRepeats, describeAttacks, storedDataSpec, storedPath } from './spec.js';
import { writeBaseline } from './store.js';

export interface RecordBaselineInput {
  model: Classifier;
  /** The folder the model was loaded from; stored relative to the baseline file. */
  modelDir: string;
  /** Data spec and data dir as the user gave them (relative to the working directory). */
  data: string;
  dataDir?: string;
  attacks: Attack[];
  epsilons: number[];
  limit?: number;
  seed: number;
  batchSize: number;
  target: TargetSpec;
  /** Where the baseline goes. */
  out: string;
  onProgress?: (p: EvaluateProgress) => void;
}

/** The spec as stored: paths relative to the baseline's folder, so the pair can move together. */
export function specFor(input: Omit<RecordBaselineInput, 'model' | 'modelDir' | 'out' | 'onProgress'>, baselineDir: string): EvaluationSpec {
  return {
    data: storedDataSpec(input.data, baselineDir),
    ...(input.dataDir !== undefined ? { dataDir: storedPath(input.dataDir, baselineDir) } : {}),
    split: 'test',
    ...(input.limit !== undefined ? { limit: input.limit } : {}),
    attacks: describeAttacks(input.attacks),
    epsilons: input.epsilons,
    seed: input.seed,
    batchSize: input.batchSize,
    target: input.target,
  };
}

/** Evaluates the model as the spec says and writes the baseline file (atomically). */
export async function recordBaseline(input: RecordBaselineInput): Promise<{ baseline: Baseline; report: Report }> {
  const baselineDir = path.dirname(path.resolve(input.out));
  const spec = specFor(input, baselineDir);
  checkNoRepeats(spec);
  const { report } = await runSpec(input.model, spec, input.attacks, baselineDir, { onProgress: input.onProgress });
  const baseline = baselineFromReport(report, spec, storedPath(input.modelDir, baselineDir));
  await writeBaseline(input.out, baseline);
  return { baseline, report };
}

