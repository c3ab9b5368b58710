import type { AttackResult, RobustnessCurve, WorstCase } from './report-types.js';
import { round6 } from './stats.js';

/** Trapezoidal area under accuracy(ε), divided by the ε range so that 1 means never fooled. */
export function normalizedArea(points: { eps: number; accuracy: number }[]): number {
  const sorted = [...points].sort((a, b) => a.eps - b.eps);
  const range = sorted.at(-1)!.eps - sorted[0]!.eps;
  if (sorted.length < 2 || range <= 0) return sorted[0]?.accuracy ?? 0;
  let area = 0;
  for (let i = 1; i < sorted.length; i++) {
    area += ((sorted[i]!.accuracy + sorted[i - 1]!.accuracy) / 2) * (sorted[i]!.eps - sorted[i - 1]!.eps);
  }
  return round6(area / range);
}

function curve(attack: string, rows: { eps: number; accuracy: number; interval: [number, number] }[]): RobustnessCurve {
  const points = rows.map((r) => ({ eps: r.eps, accuracy: r.accuracy, interval: r.interval })).sort((a, b) => a.eps - b.eps);
  return { attack, points, normalizedArea: normalizedArea(points) };
}

/** One curve per attack (in report order) and one for the worst case; none for a single ε. */
export function robustnessCurves(results: AttackResult[], worstCase: WorstCase[]): RobustnessCurve[] {
  if (worstCase.length < 2) return [];
  const names = [...new Set(results.map((r) => r.attack))];
  return [...names.map((name) => curve(name, results.filter((r) => r.attack === name))), curve('worst case', worstCase)];
}
