import path from 'node:path';
import { ATTACK_REGISTRY } from '../../attacks/index.js';
import { backendInfo } from '../backend/select.js';
import { UserError } from '../errors.js';
import type { EvaluateProgress } from '../harness/evaluate.js';
import type { Report } from '../harness/report.js';
import type { TargetSpec } from '../harness/targets.js';
import { loadModel } from '../model/store.js';
import type { Attack, Classifier } from '../types.js';
import { unpackBits } from './bits.js';
import { compareFigure, DEFAULT_COMPARE, type CompareOptions, type FigureComparison } from './compare.js';
import { specDifferences } from './differences.js';
import type { Baseline, BaselineFigure, EvaluationSpec } from './format.js';
import { reportBits } from './record.js';
import { runSpec } from './run-spec.js';
import { describeAttacks, rebuildAttacks, resolveStoredPath, storedDataSpec, storedPath } from './spec.js';
import { readBaseline } from './store.js';

/** Settings the caller expects; any that differ from the baseline's make the check refuse. */
export interface SpecOverrides {
  /** As given on the command line (relative to the working directory). */
  data?: string;
  dataDir?: string;
  attacks?: Attack[];
  epsilons?: number[];
  limit?: number;
  seed?: number;
  batchSize?: number;
  target?: TargetSpec;
}

export interface CheckInput {
  baseline: string;
  /** The model to check: a Classifier, a model folder, or absent for the baseline's own model. */
  model?: Classifier | string;
  overrides?: SpecOverrides;
  compare?: Partial<CompareOptions>;
  onProgress?: (p: EvaluateProgress) => void;
}

export type FigureKind = 'clean' | 'attack' | 'worst case';

export interface CheckedFigure extends FigureComparison {
  kind: FigureKind;
  attack?: string;
  norm?: string;
  eps?: number;
  /** Ids of the examples robust in the baseline and not now, in example order. */
  lostIds: string[];
}

export interface CheckResult {
  baselinePath: string;
  baseline: Baseline;
  /** What was checked: the model folder, or the classifier's description. */
  model: string;
  options: CompareOptions;
  figures: CheckedFigure[];
  regressions: CheckedFigure[];
  passed: boolean;
  /** Facts worth knowing that do not make the comparison invalid (another backend, …). */
  notes: string[];
  report: Report;
}

export function validateCompareOptions(partial: Partial<CompareOptions> = {}): CompareOptions {
  const o = { ...DEFAULT_COMPARE, ...partial };
  if (!(o.tolerance >= 0 && o.tolerance < 1)) throw new UserError(`tolerance ${o.tolerance} must be an accuracy drop in [0, 1): write 0.01 or 1% for one point`);
  if (!(o.alpha > 0 && o.alpha < 1)) throw new UserError(`alpha ${o.alpha} must be a significance level between 0 and 1, e.g. 0.05`);
  if (o.test !== 'paired' && o.test !== 'unpaired') throw new UserError(`test "${String(o.test)}" must be paired or unpaired`);
  return o;
}

function refuse(file: string, differences: string[]): UserError {
  return new UserError(`baseline ${file} was recorded with another evaluation (${differences.join('; ')}): re-create it with \`advtest baseline\` or drop the options that differ`);
}

/** The baseline's attacks rebuilt from today's registry; a vanished attack is the user's to fix. */
function rebuild(baseline: Baseline, file: string): Attack[] {
  const missing = baseline.evaluation.attacks.find((a) => !(a.name in ATTACK_REGISTRY));
  if (missing !== undefined) {
    throw new UserError(`baseline ${file} uses attack "${missing.name}", which this advtest does not have (it has ${Object.keys(ATTACK_REGISTRY).join(', ')}): update advtest or re-create the baseline`);
  }
  return rebuildAttacks(baseline.evaluation);
}

/** The evaluation that would run now: the baseline's, with the caller's overrides applied. */
function requestedSpec(baseline: Baseline, attacks: Attack[], o: SpecOverrides, baselineDir: string): EvaluationSpec {
  const spec: EvaluationSpec = { ...baseline.evaluation, attacks: describeAttacks(attacks) };
  if (o.data !== undefined) spec.data = storedDataSpec(o.data, baselineDir);
  if (o.dataDir !== undefined) spec.dataDir = storedPath(o.dataDir, baselineDir);
  if (o.epsilons !== undefined) spec.epsilons = o.epsilons;
  if (o.limit !== undefined) spec.limit = o.limit;
  if (o.seed !== undefined) spec.seed = o.seed;
  if (o.batchSize !== undefined) spec.batchSize = o.batchSize;
  if (o.target !== undefined) spec.target = o.target;
  return spec;
}

function bitsOf(f: BaselineFigure, n: number): boolean[] {
  // The baseline was validated on load; undefined here would be a bug, not bad input.
  const bits = unpackBits(f.bits, n);
  if (bits === undefined) throw new Error('validated baseline holds an invalid bitset');
  return bits;
}

/**
 * Re-runs the baseline's evaluation on a model (the same examples, attacks, ε, seed and batch
 * size) and compares every figure. Refuses, before any attack runs, when the requested
 * evaluation or the data differ from the baseline's.
 */
export async function runCheck(input: CheckInput): Promise<CheckResult> {
  const options = validateCompareOptions(input.compare);
  const file = input.baseline;
  const baseline = await readBaseline(file);
  const baselineDir = path.dirname(path.resolve(file));
  const attacks = input.overrides?.attacks ?? rebuild(baseline, file);
  const differences = specDifferences(baseline.evaluation, requestedSpec(baseline, attacks, input.overrides ?? {}, baselineDir));
  if (differences.length > 0) throw refuse(file, differences);

  // Initialise the backend before loading weights, so that they do not land on tfjs's default one.
  await backendInfo();
  const owned = typeof input.model !== 'object';
  const modelDir = typeof input.model === 'string' ? input.model : resolveStoredPath(baseline.model.path, baselineDir);
  const model = typeof input.model === 'object' ? input.model : await loadModel(modelDir);
  try {
    const { report } = await runSpec(model, baseline.evaluation, attacks, baselineDir, {
      onProgress: input.onProgress,
      beforeEvaluate: (data, print) => {
        if (print !== baseline.data.fingerprint) {
          throw refuse(file, [`data: the ${data.size} examples of ${baseline.evaluation.data} differ from the baseline's ${baseline.data.size} (fingerprint ${baseline.data.fingerprint.slice(0, 12)}…; now ${print.slice(0, 12)}…)`]);
        }
      },
    });
    const now = reportBits(report);
    const n = baseline.examples.ids.length;
    const ids = baseline.examples.ids;
    const compare = (f: BaselineFigure, after: boolean[]) => {
      const before = bitsOf(f, n);
      return { ...compareFigure(before, after, options), lostIds: ids.filter((_, i) => before[i] && !after[i]) };
    };
    const figures: CheckedFigure[] = [
      { kind: 'clean', ...compare(baseline.figures.clean, now.clean) },
      ...baseline.figures.results.map((f, k) => ({ kind: 'attack' as const, attack: f.attack, norm: f.norm, eps: f.eps, ...compare(f, now.results[k]!.bits) })),
      // With one attack the worst case is that attack's figure again: judging it twice would
      // count every regression twice.
      ...(attacks.length > 1 ? baseline.figures.worstCase.map((f, k) => ({ kind: 'worst case' as const, eps: f.eps, ...compare(f, now.worstCase[k]!.bits) })) : []),
    ];
    const regressions = figures.filter((f) => f.verdict === 'regression');
    const notes: string[] = [];
    if (report.backend.name !== baseline.backend.name) notes.push(`backend ${report.backend.name}, baseline recorded on ${baseline.backend.name}: small differences are expected`);
    if (report.versions.tfjs !== baseline.versions.tfjs) notes.push(`tfjs ${report.versions.tfjs}, baseline recorded with ${baseline.versions.tfjs}`);
    const described = model.describe?.();
    const modelName = owned ? modelDir : String(described?.path ?? described?.name ?? 'classifier');
    return { baselinePath: file, baseline, model: modelName, options, figures, regressions, passed: regressions.length === 0, notes, report };
  } finally {
    if (owned) model.dispose?.();
  }
}
