import { withTransformSpec } from '../../defenses/input-transforms.js';
import { backendInfo } from '../backend/select.js';
import { fingerprint } from '../data/dataset.js';
import { loadEvaluationData, type EvaluationData } from '../data/index.js';
import { evaluate, type EvaluateProgress } from '../harness/evaluate.js';
import type { Report } from '../harness/report-types.js';
import { loadModel } from '../model/store.js';
import type { Attack, Classifier, Dataset, ImageShape } from '../types.js';
import type { EvaluationSpec } from './baseline-file.js';
import { resolveDataSpec, resolveStoredPath } from './spec.js';

/**
 * The examples a spec evaluates, with paths resolved against the baseline's folder. `classNames`
 * (the model's) label `folder:` data by sub-folder name, as `advtest eval` does.
 */
export async function loadSpecData(spec: EvaluationSpec, baselineDir: string, shape: ImageShape, classNames?: readonly string[]): Promise<EvaluationData> {
  const dataDir = spec.dataDir === undefined ? undefined : resolveStoredPath(spec.dataDir, baselineDir);
  return loadEvaluationData(resolveDataSpec(spec.data, baselineDir), { split: spec.split, shape, classNames, dataDir, limit: spec.limit });
}

/** A model folder loaded as the spec evaluates it: behind its input transform, if any. */
export async function loadSpecModel(dir: string, spec: Pick<EvaluationSpec, 'transform' | 'seed'>): Promise<Classifier> {
  // Initialise the backend before loading weights, so that they do not land on tfjs's default one.
  await backendInfo();
  const model = await loadModel(dir);
  return spec.transform === undefined ? model : withTransformSpec(model, spec.transform, spec.seed);
}

export interface SpecHooks {
  /** Sees the data before any attack runs, so that a caller can refuse changed data early. */
  beforeEvaluate?: (data: Dataset, fingerprint: string) => void;
  onProgress?: (p: EvaluateProgress) => void;
}

/** Runs the evaluation a spec describes with its attacks, already built from the spec's request. */
export async function runSpec(model: Classifier, spec: EvaluationSpec, attacks: Attack[], baselineDir: string, hooks: SpecHooks = {}): Promise<{ report: Report; data: Dataset }> {
  const { data, subset } = await loadSpecData(spec, baselineDir, model.inputShape, model.classNames);
  const print = fingerprint(data);
  hooks.beforeEvaluate?.(data, print);
  const report = await evaluate(model, data, attacks, spec.epsilons, {
    seed: spec.seed,
    batchSize: spec.batchSize,
    target: spec.target,
    mode: spec.mode,
    subset,
    onProgress: hooks.onProgress,
  });
  return { report, data };
}
