import type { Estimate } from '../report/figures.js';
import type { Proportion } from '../harness/report-types.js';
import { rankLeaderboard, type Leaderboard, type LeaderboardRow } from '../report/leaderboard.js';
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

/** A proportion as a board's cell. */
const estimateOf = (p: Proportion): Estimate => ({ accuracy: p.accuracy, interval: p.interval, correct: p.correct, n: p.n });

/** The column of the worst-case accuracy on training digits (eval.trainLimit). */
export const TRAIN_WORST_COLUMN = 'train worst case';

/** "pgd+bpda" and "pgd" share a column: the row says how the model was attacked. */
function baseAttack(name: string): string {
  return name.replace(/\+(bpda|eot\d+)/g, '');
}

/**
 * One leaderboard per ε of the benchmark: clean, per-attack and worst-case accuracy with intervals,
 * the confirming attack on the leading rows (`confirm`: the config's, as confirmEpsilons gives its
 * ε), then the certified accuracy per radius when the benchmark certified its entries.
 */
export function benchLeaderboards(results: EntryResult[], confirm?: { attack: string; eps: number[] }): Leaderboard[] {
  const first = results[0]?.report;
  if (!first) return [];
  const attacks = [...new Set(first.config.attacks.map((a) => baseAttack(a.name)))];
  const certified = certifiedColumns(results);
  const train = results.some((r) => r.trainReport) ? [TRAIN_WORST_COLUMN] : [];
  const trainWorst = (r: EntryResult, eps: number): Record<string, Estimate> => {
    const w = r.trainReport?.worstCase.find((x) => x.eps === eps);
    return w ? { [TRAIN_WORST_COLUMN]: estimateOf(w) } : {};
  };
  // Which entry trained on how many examples, where they differ (the config's "examples").
  const sized = results.filter((r) => r.trainingExamples !== undefined);
  const sizes = new Set(sized.map((r) => r.trainingExamples)).size > 1 ? `training examples: ${sized.map((r) => `${r.name} ${r.trainingExamples!.toLocaleString('en-US')}`).join(', ')}.` : undefined;
  return first.config.epsilons.map((eps) => {
    // The confirming attack's own worst case is its column (renamed where the evaluation has an
    // attack of that name); the row's worst case takes both, per example.
    // The config's confirming attack has its column (and its warning) even before any row carries it.
    const configured = confirm?.eps.includes(eps) ? [confirm.attack] : [];
    const confirming = [...new Set([...configured, ...results.flatMap((r) => r.confirmations ?? []).filter((c) => c.eps === eps).map((c) => c.attack)])];
    const column = (attack: string) => (attacks.includes(attack) ? `${attack} (confirm)` : attack);
    const confirmed = (r: EntryResult): Record<string, Estimate> => {
      const c = confirmationAt(r, eps);
      const w = c?.report.worstCase.find((x) => x.eps === eps);
      return c && w ? { [column(c.attack)]: estimateOf(w) } : {};
    };
    const failed = (r: EntryResult) => [...new Set([r.report, confirmationAt(r, eps)?.report].flatMap((rep) => (rep?.sanity ?? []).filter((c) => !c.ok).map((c) => c.id)))];
    const rows = results.map((r): LeaderboardRow => ({
      name: r.adaptive === 'bpda' ? `${r.name} (BPDA)` : r.name,
      clean: r.report.clean,
      attacks: { ...Object.fromEntries(r.report.results.filter((x) => x.eps === eps).map((x) => [baseAttack(x.attack), x])), ...confirmed(r), ...certified.of(r), ...trainWorst(r, eps) },
      worstCase: entryWorstCase(r, eps),
      trainingSeconds: r.trainingSeconds,
      ...(r.report.sanity ? { flags: failed(r) } : {}),
    }));
    const best = rankLeaderboard(rows)[0];
    const notes = confirming.flatMap((a) => [
      `${column(a)}: run only on the leading rows (the config's confirm), in turn until the best rows ranked with it all carry it; a row's worst case includes it where it ran${train.length > 0 ? ` (its ${TRAIN_WORST_COLUMN} has the evaluation's attacks only)` : ''}.`,
      ...(best && best.attacks[column(a)] === undefined ? [`⚠ ${column(a)}: the best row here has not been confirmed yet (a run with --only does not confirm): run the leaderboard without --only.`] : []),
    ]);
    if (sizes) notes.push(sizes);
    return {
      eps,
      norm: first.config.attacks[0]?.norm ?? 'linf',
      attacks: [...attacks, ...confirming.map(column), ...certified.columns, ...train],
      rows,
      ...(notes.length > 0 ? { notes } : {}),
    };
  });
}
