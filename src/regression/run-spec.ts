import { balancedSubset, fingerprint } from '../data/dataset.js';
import { loadDataset } from '../data/index.js';
import { evaluate, type EvaluateProgress } from '../harness/evaluate.js';
import type { Report } from '../harness/report.js';
import type { Attack, Classifier, Dataset, ImageShape } from '../types.js';
import type { EvaluationSpec } from './format.js';
import { resolveDataSpec, resolveStoredPath } from './spec.js';

export interface SpecData {
  data: Dataset;
  /** How the examples were chosen, for the report. */
  subset?: string;
}

/** The examples a spec evaluates, with paths resolved against the baseline's folder. */
export async function loadSpecData(spec: EvaluationSpec, baselineDir: string, shape: ImageShape): Promise<SpecData> {
  const dataDir = spec.dataDir === undefined ? undefined : resolveStoredPath(spec.dataDir, baselineDir);
  const full = await loadDataset(resolveDataSpec(spec.data, baselineDir), { split: spec.split, shape, dataDir });
  if (spec.limit !== undefined && spec.limit < full.size) {
    return { data: balancedSubset(full, spec.limit), subset: `class-balanced subset of ${spec.limit}` };
  }
  return { data: full };
}

export interface SpecRun {
  report: Report;
  data: Dataset;
  fingerprint: string;
}

/**
 * Runs the evaluation a spec describes with the given attacks (already rebuilt from the spec).
 * `beforeEvaluate` sees the data first, so a caller can refuse changed data before spending
 * minutes on attacks.
 */
export async function runSpec(
  model: Classifier,
  spec: EvaluationSpec,
  attacks: Attack[],
  baselineDir: string,
  hooks: { beforeEvaluate?: (data: Dataset, fingerprint: string) => void; onProgress?: (p: EvaluateProgress) => void } = {},
): Promise<SpecRun> {
  const { data, subset } = await loadSpecData(spec, baselineDir, model.inputShape);
  const print = fingerprint(data);
  hooks.beforeEvaluate?.(data, print);
  const report = await evaluate(model, data, attacks, spec.epsilons, {
    seed: spec.seed,
    batchSize: spec.batchSize,
    target: spec.target,
    subset,
    onProgress: hooks.onProgress,
  });
  return { report, data, fingerprint: print };
}
