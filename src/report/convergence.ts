import type { ConvergenceTrace, SanityCheck } from '../harness/report.js';
import { formatEps } from '../harness/format.js';
import type { ConvergenceRecorder } from '../types.js';

/** Per-iteration sums of one (attack, ε) over the batches that recorded them. */
export interface ConvergenceSums {
  /** Examples attacked (the n of the first iteration). */
  n: number;
  /**
   * Indexed by iteration number. Loss sums in integer millionths: integer sums do not depend on
   * the order of addition, so shards merged give the sums of one run exactly.
   */
  loss: number[];
  robust: number[];
  counted: number[];
}

/** A recorder that keeps the sums of one attack run; `sums()` is undefined if nothing was recorded. */
export function convergenceRecorder(): ConvergenceRecorder & { sums(): ConvergenceSums | undefined } {
  const s: ConvergenceSums = { n: 0, loss: [], robust: [], counted: [] };
  return {
    record(iteration, lossSum, robust, n) {
      s.loss[iteration] = (s.loss[iteration] ?? 0) + Math.round(lossSum * 1e6);
      s.robust[iteration] = (s.robust[iteration] ?? 0) + robust;
      s.counted[iteration] = (s.counted[iteration] ?? 0) + n;
    },
    sums() {
      if (s.counted.length === 0) return undefined;
      return { n: Math.max(...s.counted.filter((c) => c !== undefined)), loss: fill(s.loss), robust: fill(s.robust), counted: fill(s.counted) };
    },
  };
}

/** Sparse arrays (iteration numbers start at 0 or 1) with holes as 0, so that they survive JSON. */
const fill = (xs: number[]) => Array.from(xs, (x) => x ?? 0);

/** Adds the sums of one batch into another (batches of the same cell). */
export function addSums(a: ConvergenceSums | undefined, b: ConvergenceSums | undefined): ConvergenceSums | undefined {
  if (!a) return b && { n: b.n, loss: [...b.loss], robust: [...b.robust], counted: [...b.counted] };
  if (!b) return a;
  const len = Math.max(a.loss.length, b.loss.length);
  const at = (xs: number[], i: number) => xs[i] ?? 0;
  return {
    n: a.n + b.n,
    loss: Array.from({ length: len }, (_, i) => at(a.loss, i) + at(b.loss, i)),
    robust: Array.from({ length: len }, (_, i) => at(a.robust, i) + at(b.robust, i)),
    counted: Array.from({ length: len }, (_, i) => at(a.counted, i) + at(b.counted, i)),
  };
}

const round6 = (x: number) => Math.round(x * 1e6) / 1e6;

/** The report's trace of one cell: mean loss and robust fraction per iteration recorded. */
export function convergenceTrace(attack: string, eps: number, sums: ConvergenceSums): ConvergenceTrace {
  const iterations: ConvergenceTrace['iterations'] = [];
  sums.counted.forEach((c, i) => {
    if (c > 0) iterations.push({ iteration: i, meanLoss: round6(sums.loss[i]! / 1e6 / c), robust: round6(sums.robust[i]! / c) });
  });
  return { attack, eps, n: sums.n, iterations, sums };
}

/** Fraction of the iterations that make up the "end" of a run. */
const TAIL = 0.1;

/** A fall of the robust fraction over the tail that counts: one point, the default --tolerance of check. */
const MEANINGFUL = 0.01;
/**
 * …and at least 5 examples: fewer newly fooled examples could not make a significant difference
 * in advtest check's exact McNemar test (one-sided p = 0.5^k ≥ 0.0625 for k ≤ 4).
 */
const MIN_EXAMPLES = 5;

/**
 * Whether the attack was still finding adversarial examples at its end: the robust fraction fell
 * over the last 10% of its iterations (at least the last two) by at least one point of the
 * attacked examples and at least 5 examples: enough to move a figure by a check's tolerance.
 */
export function stillRising(trace: ConvergenceTrace): { from: number; to: number; since: number } | undefined {
  const it = trace.iterations;
  if (it.length < 4 || trace.n === 0) return undefined;
  const last = it.at(-1)!;
  const back = Math.max(2, Math.ceil((it.length - 1) * TAIL));
  const ref = it[it.length - 1 - back]!;
  const drop = ref.robust - last.robust;
  // Fractions are rounded to 6 decimals: count examples by rounding back.
  return drop >= MEANINGFUL - 1e-6 && Math.round(drop * trace.n) >= MIN_EXAMPLES ? { from: ref.robust, to: last.robust, since: ref.iteration } : undefined;
}

/**
 * The sanity card's convergence check: one check over every recorded trace, flagged when an
 * attack was still gaining at its last iteration (more steps would likely find more).
 */
export function convergenceCheck(traces: ConvergenceTrace[]): SanityCheck | undefined {
  if (traces.length === 0) return undefined;
  const rising = traces.map((t) => ({ t, r: stillRising(t) })).filter((x) => x.r !== undefined);
  if (rising.length === 0) {
    return { id: 'converged', ok: true, message: `every iterative attack had stopped gaining by its last iterations (${traces.length} attack × ε recorded)` };
  }
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const which = rising.map(({ t, r }) => `${t.attack} at ε=${formatEps(t.eps)} (still robust ${pct(r!.from)} at iteration ${r!.since} → ${pct(r!.to)} at ${t.iterations.at(-1)!.iteration})`);
  return {
    id: 'converged',
    ok: false,
    message: `attack success was still rising at the last iteration: ${which.join('; ')}`,
    advice: 'run more steps (--steps, e.g. twice as many) or add --restarts until the robust fraction stops falling; the reported accuracy is an upper bound until then',
  };
}
