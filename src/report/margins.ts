import type { CleanVsAdversarial, ExampleResults, MarginHistograms } from '../harness/report-types.js';

/** Bins of the margin histograms (before rounding their width to a readable step). */
const MARGIN_BINS = 24;
/** Confidence in [0, 1] in bins of 0.05. */
const CONFIDENCE_EDGES = Array.from({ length: 21 }, (_, k) => Math.round(k * 5) / 100);

/** 1, 2, 2.5 or 5 times a power of ten, at least `raw`. */
function niceStep(raw: number): number {
  if (!(raw > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(raw));
  return ([1, 2, 2.5, 5, 10].find((m) => m * power >= raw * (1 - 1e-12)) ?? 10) * power;
}

/** Edges at multiples of a readable step covering [lo, hi], so that 0 is an edge whenever lo < 0 < hi. */
export function marginEdges(lo: number, hi: number, bins = MARGIN_BINS): number[] {
  if (!(hi > lo)) return [lo - 0.5, lo + 0.5];
  const step = niceStep((hi - lo) / bins);
  const first = Math.floor(lo / step);
  const last = Math.max(first + 1, Math.ceil(hi / step));
  return Array.from({ length: last - first + 1 }, (_, k) => Number(((first + k) * step).toPrecision(12)));
}

/** Counts per bin [edges[k], edges[k+1]), the last bin closed. */
export function binCounts(values: number[], edges: number[]): number[] {
  const counts = new Array<number>(edges.length - 1).fill(0);
  for (const v of values) {
    let k = edges.findIndex((e, j) => j > 0 && v < e) - 1;
    if (k < 0) k = v >= edges.at(-1)! ? counts.length - 1 : 0;
    counts[k]!++;
  }
  return counts;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return 0;
  return Number((n % 2 === 1 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2).toPrecision(6));
}

function compare(clean: number[], adversarial: number[], edges: number[]): CleanVsAdversarial {
  return { edges, clean: binCounts(clean, edges), adversarial: binCounts(adversarial, edges), median: { clean: median(clean), adversarial: median(adversarial) } };
}

/**
 * Per (attack, ε), over the examples correct clean (those the attacks ran on): the true-class
 * logit margin and the top-1 probability on the clean image and on the adversarial one. Every
 * cell's margins share one set of bins (0 an edge, so the bins below 0 hold exactly the examples
 * misclassified), so that the panels can be compared.
 */
export function marginHistograms(ex: ExampleResults): MarginHistograms[] {
  if (!ex.cleanMargin || !ex.cleanConfidence) return [];
  const rows = ex.labels.map((_, i) => i).filter((i) => ex.cleanPredictions[i] === ex.labels[i]);
  const cells = ex.results.filter((r) => r.margin && r.confidence);
  if (rows.length === 0 || cells.length === 0) return [];
  const cleanMargin = rows.map((i) => ex.cleanMargin![i]!);
  const cleanConfidence = rows.map((i) => ex.cleanConfidence![i]!);
  let lo = Math.min(0, ...cleanMargin);
  let hi = Math.max(0, ...cleanMargin);
  for (const c of cells) {
    for (const i of rows) {
      lo = Math.min(lo, c.margin![i]!);
      hi = Math.max(hi, c.margin![i]!);
    }
  }
  const edges = marginEdges(lo, hi);
  return cells.map((c) => ({
    attack: c.attack,
    eps: c.eps,
    n: rows.length,
    margin: compare(cleanMargin, rows.map((i) => c.margin![i]!), edges),
    confidence: compare(cleanConfidence, rows.map((i) => c.confidence![i]!), CONFIDENCE_EDGES),
  }));
}
