import type { Estimate } from '../report/figures.js';
import type { Leaderboard, LeaderboardRow } from '../report/leaderboard.js';
import type { EntryResult } from './run.js';
import { confirmationAt, entryWorstCase } from './confirm.js';

/** The column of the certified accuracy at L2 radius r (randomized smoothing at σ). */
export function certifiedColumn(radius: number, sigma: number): string {
  return `certified L2 r=${radius} (σ=${sigma})`;
}

/**
 * Certified-accuracy columns, the same on every ε's board (certificates do not depend on ε): per
 * radius, the fraction of examples certified correct with radius ≥ r and its Wilson interval.
 */
function certifiedColumns(results: EntryResult[]): { columns: string[]; of: (r: EntryResult) => Record<string, Estimate> } {
  const first = results.find((r) => r.certify)?.certify?.report;
  if (!first) return { columns: [], of: () => ({}) };
  const columns = first.config.radii.map((radius) => certifiedColumn(radius, first.config.sigma));
  return {
    columns,
    of: (r) => {
      const report = r.certify?.report;
      if (!report) return {};
      return Object.fromEntries(report.summary.curve.map((p) => [certifiedColumn(p.radius, report.config.sigma), { accuracy: p.accuracy, interval: p.interval, correct: p.count, n: p.n }]));
    },
  };
}

/** The column of the worst-case accuracy on training digits (eval.trainLimit). */
export const TRAIN_WORST_COLUMN = 'train worst case';

/** "pgd+bpda" and "pgd" share a column: the row says how the model was attacked. */
function baseAttack(name: string): string {
  return name.replace(/\+(bpda|eot\d+)/g, '');
}

/**
 * One leaderboard per ε of the benchmark: clean, per-attack and worst-case accuracy with intervals,
 * then the certified accuracy per radius when the benchmark certified its entries.
 */
export function benchLeaderboards(results: EntryResult[]): Leaderboard[] {
  const first = results[0]?.report;
  if (!first) return [];
  const attacks = [...new Set(first.config.attacks.map((a) => baseAttack(a.name)))];
  const certified = certifiedColumns(results);
  const train = results.some((r) => r.trainReport) ? [TRAIN_WORST_COLUMN] : [];
  const trainWorst = (r: EntryResult, eps: number): Record<string, Estimate> => {
    const w = r.trainReport?.worstCase.find((x) => x.eps === eps);
    return w ? { [TRAIN_WORST_COLUMN]: { accuracy: w.accuracy, interval: w.interval, correct: w.correct, n: w.n } } : {};
  };
  return first.config.epsilons.map((eps) => {
    // The confirming attack's own worst case is its column; the row's worst case takes both, per example.
    const confirming = [...new Set(results.flatMap((r) => r.confirmations ?? []).filter((c) => c.eps === eps).map((c) => c.attack))];
    const confirmed = (r: EntryResult): Record<string, Estimate> => {
      const c = confirmationAt(r, eps);
      const w = c?.report.worstCase.find((x) => x.eps === eps);
      return c && w ? { [c.attack]: { accuracy: w.accuracy, interval: w.interval, correct: w.correct, n: w.n } } : {};
    };
    const failed = (r: EntryResult) => [...new Set([r.report, confirmationAt(r, eps)?.report].flatMap((rep) => (rep?.sanity ?? []).filter((c) => !c.ok).map((c) => c.id)))];
    const notes = confirming.map((a) => `${a}: run only on the leading rows (the config's confirm), until the best rows ranked with it all carry it; a row's worst case includes it where it ran.`);
    return {
      eps,
      norm: first.config.attacks[0]?.norm ?? 'linf',
      attacks: [...attacks, ...confirming, ...certified.columns, ...train],
      rows: results.map((r): LeaderboardRow => ({
        name: r.adaptive === 'bpda' ? `${r.name} (BPDA)` : r.name,
        clean: r.report.clean,
        attacks: { ...Object.fromEntries(r.report.results.filter((x) => x.eps === eps).map((x) => [baseAttack(x.attack), x])), ...confirmed(r), ...certified.of(r), ...trainWorst(r, eps) },
        worstCase: entryWorstCase(r, eps),
        trainingSeconds: r.trainingSeconds,
        ...(r.report.sanity ? { flags: failed(r) } : {}),
      })),
      ...(notes.length > 0 ? { notes } : {}),
    };
  });
}
