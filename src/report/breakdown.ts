import type { ConfusionCounts, PerClassFigures, Report } from '../harness/report-types.js';

/** The series name of the per-example worst case over attacks. */
export const WORST_CASE = 'worst case';

type Source = Pick<Report, 'examples' | 'config'>;

/** Classes 0..K−1, K covering every label and prediction seen (and the model's count if known). */
export function classCount(source: Source, known?: number): number {
  const ex = source.examples;
  let max = (known ?? 0) - 1;
  for (const y of ex.labels) max = Math.max(max, y);
  for (const p of ex.cleanPredictions) max = Math.max(max, p);
  for (const r of ex.results) for (const p of r.predictions) max = Math.max(max, p);
  return max + 1;
}

/**
 * Per example, what the model predicts after the attacks at one ε: under one attack its recorded
 * prediction; for the worst case the prediction of the first attack (in suite order) that fooled
 * it, else the label (an example not correct clean keeps its clean prediction).
 */
export function predictionsAt(source: Source, attack: string, eps: number): number[] | undefined {
  const ex = source.examples;
  if (attack !== WORST_CASE) return ex.results.find((r) => r.attack === attack && r.eps === eps)?.predictions;
  const cells = source.config.attacks.map((a) => ex.results.find((r) => r.attack === a.name && r.eps === eps)).filter((c) => c !== undefined);
  if (cells.length === 0) return undefined;
  return ex.labels.map((y, i) => {
    if (ex.cleanPredictions[i] !== y) return ex.cleanPredictions[i]!;
    return cells.find((c) => c.predictions[i] !== y)?.predictions[i] ?? y;
  });
}

/** Every (attack, ε) of the report in its order, then the worst case per ε when there are several attacks. */
export function seriesCells(source: Source): { attack: string; eps: number }[] {
  const cells = source.examples.results.map((r) => ({ attack: r.attack, eps: r.eps }));
  if (source.config.attacks.length > 1) for (const eps of source.config.epsilons) cells.push({ attack: WORST_CASE, eps });
  return cells;
}

/**
 * Robust accuracy per true class, per (attack, ε) and for the worst case. An example counts as
 * robust only if it was correct clean and is still correct, as in the overall figures, so the
 * per-class counts add up to the overall one.
 */
export function perClassFigures(source: Source, numClasses?: number): PerClassFigures[] {
  const ex = source.examples;
  const k = classCount(source, numClasses);
  const n = new Array<number>(k).fill(0);
  const clean = new Array<number>(k).fill(0);
  ex.labels.forEach((y, i) => {
    n[y]!++;
    if (ex.cleanPredictions[i] === y) clean[y]!++;
  });
  const out: PerClassFigures[] = [];
  for (const { attack, eps } of seriesCells(source)) {
    const preds = predictionsAt(source, attack, eps);
    if (!preds) continue;
    const robust = new Array<number>(k).fill(0);
    ex.labels.forEach((y, i) => {
      if (ex.cleanPredictions[i] === y && preds[i] === y) robust[y]!++;
    });
    out.push({ attack, eps, n: [...n], clean: [...clean], robust });
  }
  return out;
}

/**
 * The clean label → adversarial prediction matrix per (attack, ε) and for the worst case, as
 * non-zero [label, prediction, count] triples (a dense K×K matrix would not scale to ImageNet).
 * Every example is counted once, so row k sums to the number of examples labelled k.
 */
export function confusionCounts(source: Source): ConfusionCounts[] {
  const ex = source.examples;
  const out: ConfusionCounts[] = [];
  for (const { attack, eps } of seriesCells(source)) {
    const preds = predictionsAt(source, attack, eps);
    if (!preds) continue;
    const tally = new Map<string, [number, number, number]>();
    ex.labels.forEach((y, i) => {
      const key = `${y},${preds[i]}`;
      const t = tally.get(key);
      if (t) t[2]++;
      else tally.set(key, [y, preds[i]!, 1]);
    });
    out.push({ attack, eps, counts: [...tally.values()].sort((a, b) => a[0] - b[0] || a[1] - b[1]) });
  }
  return out;
}

/** A sparse confusion as a dense K×K matrix (rows: label, columns: prediction). */
export function denseConfusion(c: ConfusionCounts, k: number): number[][] {
  const m = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (const [y, p, count] of c.counts) if (y < k && p < k) m[y]![p]! += count;
  return m;
}
