import path from 'node:path';
import { IntegrityError, UserError } from '../errors.js';
import type { EvaluateProgress, SuiteMode } from '../harness/evaluate.js';
import type { Report, SanityCheck } from '../harness/report-types.js';
import type { Attack, Classifier } from '../types.js';
import { unpackBits } from './bits.js';
import { compareFigure, DEFAULT_COMPARE, type CompareOptions, type FigureComparison } from './compare.js';
import { specDifferences } from './differences.js';
import type { AttackRequest, Baseline, BaselineFigure, EvaluationSpec } from './baseline-file.js';
import { reportBits } from './record.js';
import { loadSpecModel, runSpec } from './run-spec.js';
import { attacksFrom } from '../run/attack-options.js';
import { storedAttacks, resolveStoredPath, storedDataSpec, storedPath } from './spec.js';
import { readBaseline } from './store.js';
import { weightsDigest } from '../harness/model-digest.js';
import { perClassFigures } from '../report/breakdown.js';
import { classDeltas, type ClassDelta } from '../report/class-deltas.js';
import { rerecordCommand } from './rerecord.js';

/**
 * Settings the caller expects; any that differ from the baseline's make the check refuse. `data`
 * and `dataDir` as given on the command line (relative to the working directory).
 */
export interface SpecOverrides extends Partial<Omit<EvaluationSpec, 'split' | 'request' | 'attacks'>> {
  /** The attack options; without `attack`, they apply to the baseline's attacks. */
  request?: Partial<AttackRequest>;
}

export interface CheckInput {
  baseline: string;
  /**
   * The model to check: a model folder (loaded behind the baseline's input transform, if any),
   * a Classifier (used as it is), or absent for the baseline's own model.
   */
  model?: Classifier | string;
  overrides?: SpecOverrides;
  compare?: Partial<CompareOptions>;
  onProgress?: (p: EvaluateProgress) => void;
}

export interface CheckedFigure extends FigureComparison {
  kind: 'clean' | 'attack' | 'worst case';
  attack?: string;
  norm?: string;
  eps?: number;
  /** Sequential suite, not the first attack: the figure is after this attack and all before it. */
  cumulative?: boolean;
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
  /** The model's weight files are not those the baseline was recorded on (when both are known). */
  weightsDiffer?: boolean;
  /** The sanity checks of both runs; `before` is absent when the baseline did not record them (older versions). */
  sanity: { before?: SanityCheck[]; after: SanityCheck[] };
  /** Per class, series and ε: the baseline's robust accuracy and the re-run's; absent when the baseline holds no per-class counts (older versions). */
  classDeltas?: ClassDelta[];
  /** The one line saying why there are no per-class deltas and how to get them (with classDeltas absent). */
  classNotice?: string;
  /** Names of the classes (index = label), from the data the re-run evaluated. */
  classNames?: readonly string[];
  report: Report;
}

/** Said when the baseline predates per-class counts, with the command that records it again. */
export function perClassNotice(command: string): string {
  return `per-class deltas need a re-recorded baseline (this one holds no per-class counts): \`${command}\``;
}

export function validateCompareOptions(partial: Partial<CompareOptions> = {}): CompareOptions {
  const o = { ...DEFAULT_COMPARE, ...partial };
  if (!(o.tolerance >= 0 && o.tolerance < 1)) throw new UserError(`tolerance ${o.tolerance} must be an accuracy drop in [0, 1): write 0.01 or 1% for one point`);
  if (!(o.alpha > 0 && o.alpha < 1)) throw new UserError(`alpha ${o.alpha} must be a significance level between 0 and 1, e.g. 0.05`);
  if (o.test !== 'paired' && o.test !== 'unpaired') throw new UserError(`test "${String(o.test)}" must be paired or unpaired`);
  return o;
}

function refuse(file: string, differences: string[]): UserError {
  return new UserError(`baseline ${file} was recorded with another evaluation (${differences.join('; ')}): re-create it with \`advtest baseline … --force\` or drop the options that differ`);
}

/** The attacks the request builds today; an attack that no longer exists is the user's to fix. */
function rebuild(file: string, request: AttackRequest, mode: SuiteMode): Attack[] {
  try {
    return attacksFrom({ ...request, mode }).attacks;
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    throw new UserError(`baseline ${file}: its attacks (--attack ${request.attack}) cannot be built by this advtest (${err.message}): update advtest or re-create the baseline`);
  }
}

/** The evaluation that would run now: the baseline's, with the caller's overrides applied. */
function requestedSpec(baseline: Baseline, request: AttackRequest, attacks: Attack[], o: SpecOverrides, baselineDir: string): EvaluationSpec {
  // The overrides given replace the baseline's settings; the paths are stored relative to the baseline.
  const { request: _request, data, dataDir, ...rest } = o;
  const given = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)) as Partial<EvaluationSpec>;
  const spec: EvaluationSpec = { ...baseline.evaluation, ...given, request, attacks: storedAttacks(attacks) };
  if (data !== undefined) spec.data = storedDataSpec(data, baselineDir);
  if (dataDir !== undefined) spec.dataDir = storedPath(dataDir, baselineDir);
  return spec;
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
  const overrides = input.overrides ?? {};
  const stored = baseline.evaluation.request;
  const request = overrides.request === undefined ? stored : { ...overrides.request, attack: overrides.request.attack ?? stored.attack };
  const mode = overrides.mode ?? baseline.evaluation.mode;
  // The caller's own attack options fail with the parser's message; the baseline's with ours.
  const attacks = overrides.request === undefined && overrides.mode === undefined ? rebuild(file, request, mode) : attacksFrom({ ...request, mode }).attacks;
  const differences = specDifferences(baseline.evaluation, requestedSpec(baseline, request, attacks, overrides, baselineDir));
  if (differences.length > 0) throw refuse(file, differences);

  const owned = typeof input.model !== 'object';
  const modelDir = typeof input.model === 'string' ? input.model : resolveStoredPath(baseline.model.path, baselineDir);
  const model = typeof input.model === 'object' ? input.model : await loadSpecModel(modelDir, baseline.evaluation);
  try {
    const { report, data } = await runSpec(model, baseline.evaluation, attacks, baselineDir, {
      onProgress: input.onProgress,
      // The probes eval and baseline run, so that both runs show the same sanity checks: on the
      // fixture they cost ~0.15 s of 1 s (FGSM), ~3 s of 17 s (PGD-40, whose ε-unbounded probe runs it on 100 examples).
      beforeEvaluate: (data, print) => {
        if (print !== baseline.data.fingerprint) {
          throw refuse(file, [`data: the ${data.size} examples of ${baseline.evaluation.data} differ from the baseline's ${baseline.data.size} (fingerprint ${baseline.data.fingerprint.slice(0, 12)}…; now ${print.slice(0, 12)}…)`]);
        }
      },
    });
    const now = reportBits(report);
    // The same spec yields the same figures in the same order; anything else is a harness change.
    const keys = (xs: readonly { attack: string; eps: number }[]) => xs.map((x) => `${x.attack}@${x.eps}`).join(',');
    if (keys(now.results) !== keys(baseline.figures.results)) {
      throw new IntegrityError(`re-run produced figures ${keys(now.results)}, the baseline holds ${keys(baseline.figures.results)}`);
    }
    const ids = baseline.examples.ids;
    const compare = (f: BaselineFigure, after: boolean[]) => {
      // The baseline was validated on load; undefined here would be a bug, not bad input.
      const before = unpackBits(f.bits, ids.length);
      if (before === undefined) throw new Error('validated baseline holds an invalid bitset');
      return { ...compareFigure(before, after, options), lostIds: ids.filter((_, i) => before[i] && !after[i]) };
    };
    const figures: CheckedFigure[] = [
      { kind: 'clean', ...compare(baseline.figures.clean, now.clean) },
      ...baseline.figures.results.map((f, k) => ({
        kind: 'attack' as const,
        attack: f.attack,
        norm: f.norm,
        eps: f.eps,
        ...(baseline.evaluation.mode === 'sequential' && f.attack !== attacks[0]?.name ? { cumulative: true } : {}),
        ...compare(f, now.results[k]!.bits),
      })),
      // With one attack the worst case is that attack's figure again: judging it twice would
      // count every regression twice.
      ...(attacks.length > 1 ? baseline.figures.worstCase.map((f, k) => ({ kind: 'worst case' as const, eps: f.eps, ...compare(f, now.worstCase[k]!.bits) })) : []),
    ];
    const regressions = figures.filter((f) => f.verdict === 'regression');
    const notes: string[] = [];
    if (report.backend.name !== baseline.backend.name) notes.push(`backend ${report.backend.name}, baseline recorded on ${baseline.backend.name}: small differences are expected`);
    // Only the baseline's own model folder: another --model is expected to hold other weights.
    const ownModel = typeof input.model !== 'object' && path.resolve(modelDir) === resolveStoredPath(baseline.model.path, baselineDir);
    const weights = ownModel ? await weightsDigest(modelDir).catch(() => undefined) : undefined;
    const weightsDiffer = baseline.model.weights !== undefined && weights !== undefined && weights !== baseline.model.weights;
    if (weightsDiffer) {
      notes.push(`the model's weights differ from the baseline's (sha256 ${weights!.slice(0, 12)}…, baseline ${baseline.model.weights!.slice(0, 12)}…): the model was retrained or replaced since the baseline was recorded`);
    }
    if (report.versions.tfjs !== baseline.versions.tfjs) notes.push(`tfjs ${report.versions.tfjs}, baseline recorded with ${baseline.versions.tfjs}`);
    if (baseline.sanity === undefined) notes.push('the baseline holds no sanity checks (made by an older advtest): re-create it to compare them');
    const sanity = { ...(baseline.sanity !== undefined ? { before: baseline.sanity } : {}), after: report.sanity ?? [] };
    const perClass = baseline.perClass !== undefined ? { classDeltas: classDeltas('after', baseline.perClass, report.perClass ?? perClassFigures(report)) } : { classNotice: perClassNotice(rerecordCommand(baseline, file)) };
    if (perClass.classNotice !== undefined) notes.push(perClass.classNotice);
    const classNames = data.classNames.length > 0 ? { classNames: data.classNames } : {};
    const described = model.describe?.();
    const modelName = owned ? modelDir : String(described?.path ?? described?.name ?? 'classifier');
    return { baselinePath: file, baseline, model: modelName, options, figures, regressions, passed: regressions.length === 0, notes, ...(weightsDiffer ? { weightsDiffer } : {}), sanity, ...perClass, ...classNames, report };
  } finally {
    if (owned) model.dispose?.();
  }
}
