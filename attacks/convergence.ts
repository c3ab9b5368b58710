import type { ConvergenceRecorder } from '../src/types.js';

/** Per-iteration sums of one run of one (attack, ε) over the batches that recorded them. */
export interface RunSums {
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

/**
 * The first run's sums, and those of each later run (restart, or APGD-T's next target rank) on
 * the examples still standing: restarts[k] is run k + 1. Absent when the attack ran once.
 */
export interface ConvergenceSums extends RunSums {
  restarts?: RunSums[];
}

const emptyRun = (): RunSums => ({ n: 0, loss: [], robust: [], counted: [] });

/** A recorder that keeps the sums of one attack run; `sums()` is undefined if nothing was recorded. */
export function convergenceRecorder(): ConvergenceRecorder & { sums(): ConvergenceSums | undefined } {
  const runs: RunSums[] = [];
  return {
    record(iteration, lossSum, robust, n, run = 0) {
      const s = (runs[run] ??= emptyRun());
      s.loss[iteration] = (s.loss[iteration] ?? 0) + Math.round(lossSum * 1e6);
      s.robust[iteration] = (s.robust[iteration] ?? 0) + robust;
      s.counted[iteration] = (s.counted[iteration] ?? 0) + n;
    },
    sums() {
      if (runs.every((s) => s === undefined || s.counted.length === 0)) return undefined;
      const done = (s: RunSums | undefined): RunSums =>
        s === undefined || s.counted.length === 0 ? emptyRun() : { n: Math.max(...s.counted.filter((c) => c !== undefined)), loss: fill(s.loss), robust: fill(s.robust), counted: fill(s.counted) };
      const later = Array.from(runs.slice(1), done);
      return { ...done(runs[0]), ...(later.length > 0 ? { restarts: later } : {}) };
    },
  };
}

/** Sparse arrays (iteration numbers start at 0 or 1) with holes as 0, so that they survive JSON. */
const fill = (xs: number[]) => Array.from(xs, (x) => x ?? 0);

function addRun(a: RunSums, b: RunSums): RunSums {
  const len = Math.max(a.loss.length, b.loss.length);
  const at = (xs: number[], i: number) => xs[i] ?? 0;
  return {
    n: a.n + b.n,
    loss: Array.from({ length: len }, (_, i) => at(a.loss, i) + at(b.loss, i)),
    robust: Array.from({ length: len }, (_, i) => at(a.robust, i) + at(b.robust, i)),
    counted: Array.from({ length: len }, (_, i) => at(a.counted, i) + at(b.counted, i)),
  };
}

/** Adds the sums of one batch into another (batches of the same cell), run by run. */
export function addSums(a: ConvergenceSums | undefined, b: ConvergenceSums | undefined): ConvergenceSums | undefined {
  if (!a) return b && { ...addRun(emptyRun(), b), ...(b.restarts ? { restarts: b.restarts.map((r) => addRun(emptyRun(), r)) } : {}) };
  if (!b) return a;
  // A batch whose examples were all fooled early runs fewer restarts: its missing runs add nothing.
  const count = Math.max(a.restarts?.length ?? 0, b.restarts?.length ?? 0);
  const restarts = Array.from({ length: count }, (_, k) => addRun(a.restarts?.[k] ?? emptyRun(), b.restarts?.[k] ?? emptyRun()));
  return { ...addRun(a, b), ...(count > 0 ? { restarts } : {}) };
}

/** Iterations kept per traced example and (attack, ε): what --trace can cost is bounded. */
export const MAX_TRACE_ITERATIONS = 1000;
/** Examples --trace may follow. */
export const MAX_TRACED_EXAMPLES = 16;

/** One traced example's loss and margin per iteration of an attack's first run (index = iteration). */
export interface ExampleTraceRecord {
  /** Index of the example in the evaluated set. */
  index: number;
  loss: (number | null)[];
  margin: (number | null)[];
  /** Set when the attack ran more than MAX_TRACE_ITERATIONS iterations: the rest was not kept. */
  truncated?: true;
}

/** Keeps the per-iteration loss and margin of the traced rows (global indices `indices`). */
export function exampleTracer(indices: readonly number[]): { record(iteration: number, loss: ArrayLike<number>, margin?: ArrayLike<number>): void; traces(): ExampleTraceRecord[] } {
  const out: ExampleTraceRecord[] = indices.map((index) => ({ index, loss: [], margin: [] }));
  const round = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? null : Number(v.toPrecision(6)));
  return {
    record(iteration, loss, margin) {
      out.forEach((t, k) => {
        if (iteration >= MAX_TRACE_ITERATIONS) {
          t.truncated = true;
          return;
        }
        t.loss[iteration] = round(loss[k]);
        t.margin[iteration] = round(margin?.[k]);
      });
    },
    // Holes (iterations not recorded, e.g. 0) as null, so that they survive JSON.
    traces: () => out.filter((t) => t.loss.length > 0).map((t) => ({ ...t, loss: Array.from(t.loss, (v) => v ?? null), margin: Array.from(t.margin, (v) => v ?? null) })),
  };
}
