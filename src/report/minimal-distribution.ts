import type { Report } from '../harness/report-types.js';
import { marginEdges } from './margins.js';

/** One minimal attack's smallest perturbations: histogram, CDF, median and mean, and the evaluated ε. */
export interface MinimalDistribution {
  attack: string;
  norm: string;
  /** Examples it ran on (correct clean) and those it found an adversarial for. */
  of: number;
  found: number;
  median: number | null;
  mean: number | null;
  histogram: { from: number; to: number; count: number }[];
  /** Step points: fraction of the `of` examples with a distance ≤ eps (not found = never). */
  cdf: { eps: number; fraction: number }[];
  /** At each evaluated ε, the fraction the harness judged fooled there (the same CDF, read at ε). */
  evaluated: { eps: number; fraction: number }[];
}

/**
 * The per-example distances of each minimal attack (cw-l2, deepfool, ddn, fmn) as distributions.
 * The evaluated points are given only where the attack ran on every clean-correct example
 * (independent mode, or first in a sequential suite), so that they share the CDF's denominator.
 */
export function minimalDistributions(report: Report): MinimalDistribution[] {
  const ex = report.examples;
  const sequential = report.config.mode === 'sequential';
  return (ex.minimal ?? []).flatMap((m) => {
    const rows = ex.labels.map((_, i) => i).filter((i) => ex.cleanPredictions[i] === ex.labels[i]);
    const found = rows.map((i) => m.distances[i]).filter((d): d is number => d !== null && d !== undefined).sort((a, b) => a - b);
    const summary = report.minimalPerturbation?.find((p) => p.attack === m.attack);
    if (rows.length === 0) return [];
    const edges = found.length > 0 ? marginEdges(0, found.at(-1)!, 20) : [0, 1];
    const histogram = edges.slice(0, -1).map((from, k) => ({ from, to: edges[k + 1]!, count: 0 }));
    for (const d of found) {
      const k = histogram.findIndex((b, j) => d < b.to || j === histogram.length - 1);
      histogram[k]!.count++;
    }
    const cdf = [{ eps: 0, fraction: 0 }, ...found.map((d, k) => ({ eps: d, fraction: (k + 1) / rows.length }))];
    const first = report.config.attacks[0]?.name === m.attack;
    const evaluated =
      sequential && !first
        ? []
        : report.results.filter((r) => r.attack === m.attack).map((r) => ({ eps: r.eps, fraction: r.success.of === 0 ? 0 : r.success.count / r.success.of }));
    return [{ attack: m.attack, norm: m.norm, of: rows.length, found: found.length, median: summary?.median ?? null, mean: summary?.mean ?? null, histogram, cdf, evaluated }];
  });
}
