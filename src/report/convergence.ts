import type { ConvergenceTrace, SanityCheck } from '../harness/report-types.js';
import { formatEps, pct } from '../number-format.js';
import type { ConvergenceSums, RunSums } from '../../attacks/convergence.js';

// The recorder lives with the attacks it records (attacks/ never import the report).
export { addSums, convergenceRecorder, type ConvergenceSums } from '../../attacks/convergence.js';

const round6 = (x: number) => Math.round(x * 1e6) / 1e6;

type Iterations = ConvergenceTrace['iterations'];

function iterationsOf(sums: RunSums): Iterations {
  const iterations: Iterations = [];
  sums.counted.forEach((c, i) => {
    if (c > 0) iterations.push({ iteration: i, meanLoss: round6(sums.loss[i]! / 1e6 / c), robust: round6(sums.robust[i]! / c) });
  });
  return iterations;
}

/** The report's trace of one cell: mean loss and robust fraction per iteration recorded, per run. */
export function convergenceTrace(attack: string, eps: number, sums: ConvergenceSums): ConvergenceTrace {
  const restarts = (sums.restarts ?? []).map((r, k) => ({ run: k + 1, n: r.n, iterations: iterationsOf(r) }));
  return { attack, eps, n: sums.n, iterations: iterationsOf(sums), ...(restarts.length > 0 ? { restarts } : {}), sums };
}

/** One run's summary: examples attacked, those it fooled, and the fraction of the first run's examples still robust after it. */
export interface RunSummary {
  run: number;
  attacked: number;
  fooled: number;
  /** Fraction of the first run's attacked examples still robust once this run ended. */
  robustAfter: number;
  iterations: number;
}

/**
 * Per run of a cell, what it attacked and fooled, as AutoAttack prints per restart ("restart k:
 * robust accuracy …"): a last restart that still fools examples means more would likely find more.
 */
export function runSummaries(trace: ConvergenceTrace): RunSummary[] {
  const runs = [{ run: 0, n: trace.n, iterations: trace.iterations }, ...(trace.restarts ?? [])];
  return runs.map((r) => {
    const last = r.iterations.at(-1);
    const standing = last ? Math.round(last.robust * r.n) : r.n;
    return { run: r.run, attacked: r.n, fooled: r.n - standing, robustAfter: trace.n === 0 ? 0 : standing / trace.n, iterations: last?.iteration ?? 0 };
  });
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
 * Whether the attack's last restart still fooled examples: at least one point of the first run's
 * examples and at least 5 (as for stillRising), so that further restarts would likely find more.
 */
export function lastRestartFound(trace: ConvergenceTrace): RunSummary | undefined {
  if ((trace.restarts ?? []).length === 0 || trace.n === 0) return undefined;
  const last = runSummaries(trace).at(-1)!;
  return last.fooled >= MIN_EXAMPLES && last.fooled / trace.n >= MEANINGFUL - 1e-6 ? last : undefined;
}

/**
 * The sanity card's convergence check: one check over every recorded trace, flagged when an
 * attack was still gaining at its last iteration (more steps would likely find more) or its last
 * restart still fooled examples (more restarts would).
 */
export function convergenceCheck(traces: ConvergenceTrace[]): SanityCheck | undefined {
  if (traces.length === 0) return undefined;
  const rising = traces.map((t) => ({ t, r: stillRising(t) })).filter((x) => x.r !== undefined);
  const finding = traces.map((t) => ({ t, r: lastRestartFound(t) })).filter((x) => x.r !== undefined);
  if (rising.length === 0 && finding.length === 0) {
    return { id: 'converged', ok: true, message: `every iterative attack had stopped gaining by its last iterations (${traces.length} attack × ε recorded)` };
  }
  const parts: string[] = [];
  if (rising.length > 0) {
    const which = rising.map(({ t, r }) => `${t.attack} at ε=${formatEps(t.eps)} (still robust ${pct(r!.from)} at iteration ${r!.since} → ${pct(r!.to)} at ${t.iterations.at(-1)!.iteration})`);
    parts.push(`attack success was still rising at the last iteration: ${which.join('; ')}`);
  }
  if (finding.length > 0) {
    const which = finding.map(({ t, r }) => `${t.attack} at ε=${formatEps(t.eps)} (run ${r!.run + 1} of ${r!.run + 1} fooled ${r!.fooled} of the ${r!.attacked} left standing)`);
    parts.push(`the last restart still fooled examples: ${which.join('; ')}`);
  }
  const advice = [
    ...(rising.length > 0 ? ['run more steps (--steps, e.g. twice as many)'] : []),
    ...(finding.length > 0 || rising.length > 0 ? ['add --restarts until the last one fools no more'] : []),
  ];
  return {
    id: 'converged',
    ok: false,
    message: parts.join('; '),
    advice: `${advice.join(', or ')}; the reported accuracy is an upper bound until then`,
  };
}
