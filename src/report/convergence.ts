import type { ConvergenceTrace, SanityCheck } from '../harness/report-types.js';
import { formatEps, pct } from '../number-format.js';
import type { ConvergenceSums } from '../../attacks/convergence.js';

// The recorder lives with the attacks it records (attacks/ never import the report).
export { addSums, convergenceRecorder, type ConvergenceSums } from '../../attacks/convergence.js';

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
  const which = rising.map(({ t, r }) => `${t.attack} at ε=${formatEps(t.eps)} (still robust ${pct(r!.from)} at iteration ${r!.since} → ${pct(r!.to)} at ${t.iterations.at(-1)!.iteration})`);
  return {
    id: 'converged',
    ok: false,
    message: `attack success was still rising at the last iteration: ${which.join('; ')}`,
    advice: 'run more steps (--steps, e.g. twice as many) or add --restarts until the robust fraction stops falling; the reported accuracy is an upper bound until then',
  };
}
