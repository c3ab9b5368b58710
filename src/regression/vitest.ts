/**
 * Vitest matchers for robustness (import 'advtest/vitest' once, e.g. in a setup file):
 *
 *   await expect(model).toResist(fgsm(), { data: 'mnist', limit: 200, eps: 0.1, atLeast: 0.7 });
 *   await expect(model).toMatchRobustnessBaseline('robustness.json');
 *
 * `model` is a Classifier or a model folder. Both matchers are async: await them.
 */
import { expect } from 'vitest';
import { makeAttack } from '../../attacks/index.js';
import { backendInfo } from '../backend/select.js';
import { limitTo, loadEvaluationData } from '../data/index.js';
import { evaluate } from '../harness/evaluate.js';
import type { Report } from '../harness/report-types.js';
import type { TargetSpec } from '../harness/targets.js';
import { loadModel } from '../model/store.js';
import { formatEps } from '../report/text.js';
import type { Attack, Classifier, Dataset } from '../types.js';
import { runCheck } from './check.js';
import type { CompareOptions } from './compare.js';
import { renderCheck } from './render.js';
import { pct } from '../number-format.js';

export interface ResistOptions {
  /** The examples: a Dataset, or a data spec (mnist | fashion-mnist | folder:PATH) whose test split is used. */
  data: Dataset | string;
  eps: number | readonly number[];
  /** Smallest accepted robust accuracy (worst case over the attacks), at every ε, as a fraction. */
  atLeast: number;
  /** A fixed class-balanced subset of this many examples. */
  limit?: number;
  /** Folder of the Fashion-MNIST IDX files. */
  dataDir?: string;
  seed?: number;
  batchSize?: number;
  target?: TargetSpec;
}

/** A Classifier, or the folder of a saved model (loaded, and disposed after the matcher). */
export type ModelUnderTest = Classifier | string;

/** An attack, a registry name ("fgsm"), or several of either. */
export type AttackArgument = Attack | string | readonly (Attack | string)[];

export interface RobustnessMatchers {
  toResist(attack: AttackArgument, options: ResistOptions): Promise<void>;
  toMatchRobustnessBaseline(file: string, options?: Partial<CompareOptions>): Promise<void>;
}

declare module 'vitest' {
  // Declaration merging requires vitest's own type parameter, default `any` included.
  interface Matchers<T = any> extends RobustnessMatchers {}
}

interface MatcherResult {
  pass: boolean;
  message: () => string;
}

/** What vitest hands a matcher as `this` that these matchers use. */
interface MatcherContext {
  isNot: boolean;
}

function isClassifier(x: unknown): x is Classifier {
  return typeof x === 'object' && x !== null && typeof (x as Classifier).logits === 'function' && Array.isArray((x as Classifier).inputShape);
}

async function withModel<T>(received: unknown, matcher: string, fn: (model: Classifier, name: string) => Promise<T>): Promise<T> {
  if (isClassifier(received)) {
    const d = received.describe?.();
    return fn(received, String(d?.path ?? d?.name ?? 'model'));
  }
  if (typeof received !== 'string') {
    throw new TypeError(`${matcher}: expect(model) needs a Classifier (from loadModel) or a model folder, got ${typeof received}`);
  }
  // Initialise the backend before loading weights, so that they do not land on tfjs's default one.
  await backendInfo();
  const model = await loadModel(received);
  try {
    return await fn(model, received);
  } finally {
    model.dispose?.();
  }
}

function toAttacks(arg: AttackArgument): Attack[] {
  const list: readonly (Attack | string)[] = typeof arg === 'string' ? arg.split(',').map((s) => s.trim()) : Array.isArray(arg) ? arg : [arg as Attack];
  return list.map((a) => (typeof a === 'string' ? makeAttack(a) : a));
}

async function examples(model: Classifier, o: ResistOptions): Promise<{ data: Dataset; subset?: string }> {
  if (typeof o.data === 'string') return loadEvaluationData(o.data, { split: 'test', shape: model.inputShape, classNames: model.classNames, dataDir: o.dataDir, limit: o.limit });
  return limitTo(o.data, o.limit);
}

/**
 * The examples that fell first, grouped by where they fell: wrong clean, then each ε in
 * increasing order, up to `perGroup` ids each.
 */
export function worstExamples(report: Report, perGroup = 8): string[] {
  const { ids, fellAt } = report.examples;
  const levels = [...new Set(fellAt.filter((e): e is number => e !== null))].sort((a, b) => a - b);
  return levels.map((level) => {
    const members = ids.filter((_, i) => fellAt[i] === level);
    const more = members.length > perGroup ? ` … (+${members.length - perGroup} more)` : '';
    return `${level === 0 ? 'wrong clean' : `fell at ε ${formatEps(level)}`}: ${members.slice(0, perGroup).join(', ')}${more}`;
  });
}

async function toResist(this: MatcherContext, received: unknown, attack: AttackArgument, options: ResistOptions): Promise<MatcherResult> {
  const epsilons = typeof options.eps === 'number' ? [options.eps] : [...options.eps];
  if (!(options.atLeast >= 0 && options.atLeast <= 1)) throw new RangeError(`toResist: atLeast ${options.atLeast} must be a robust accuracy in [0, 1]`);
  if (epsilons.length === 0) throw new RangeError('toResist: give at least one ε');
  const attacks = toAttacks(attack);
  return withModel(received, 'toResist', async (model, name) => {
    const { data, subset } = await examples(model, options);
    // No sanity probes: they cost model passes and change no figure.
    const report = await evaluate(model, data, attacks, epsilons, { seed: options.seed, batchSize: options.batchSize, target: options.target, subset, probes: false });
    const short = report.worstCase.filter((w) => w.accuracy < options.atLeast);
    const pass = short.length === 0;
    const attackNames = attacks.map((a) => a.name).join(' + ');
    const lines = [
      `expected ${name} ${this.isNot ? 'not ' : ''}to resist ${attackNames} with robust accuracy ≥ ${pct(options.atLeast)} at every ε`,
      `  clean: ${pct(report.clean.accuracy)} (${report.clean.correct}/${report.clean.n})`,
      ...report.worstCase.map(
        (w) => `  ε ${formatEps(w.eps)}: ${pct(w.accuracy)} [${pct(w.interval[0])}, ${pct(w.interval[1])}] (${w.correct}/${w.n})${w.accuracy < options.atLeast ? '  < required' : ''}`,
      ),
      ...worstExamples(report).map((line) => `  ${line}`),
    ];
    return { pass, message: () => lines.join('\n') };
  });
}

async function toMatchRobustnessBaseline(this: MatcherContext, received: unknown, file: string, options: Partial<CompareOptions> = {}): Promise<MatcherResult> {
  if (!isClassifier(received) && typeof received !== 'string') {
    throw new TypeError(`toMatchRobustnessBaseline: expect(model) needs a Classifier (from loadModel) or a model folder, got ${typeof received}`);
  }
  const result = await runCheck({ baseline: file, model: received, compare: options });
  const head = `expected ${result.model} ${this.isNot ? 'not ' : ''}to match robustness baseline ${file}`;
  // A failing test's message is read in a log, not a 100-column terminal: every column.
  return { pass: result.passed, message: () => `${head}\n${renderCheck(result, { wide: true })}` };
}

/** The matchers, for `expect.extend` in setups that do not import this module for its effect. */
export const robustnessMatchers = { toResist, toMatchRobustnessBaseline };

expect.extend(robustnessMatchers);
