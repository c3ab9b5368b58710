import type { Estimate } from './figures.js';

/**
 * One model of a benchmark. Plain data so that `advtest leaderboard` (or anything else) can hand its
 * results to the HTML and Markdown renderers without depending on how it computed them.
 */
export interface LeaderboardRow {
  name: string;
  clean: Estimate;
  /** Robust accuracy per attack, keyed by the names in `Leaderboard.attacks`; a missing key is shown as "—". */
  attacks: Record<string, Estimate>;
  /** Per example, the worst over all attacks. */
  worstCase: Estimate;
  trainingSeconds?: number;
  /** Sanity checks the evaluation failed (ids such as "nonzero-gradients"); present when they were run. */
  flags?: string[];
}

export interface Leaderboard {
  /** The budget the figures are at, shown in the heading. */
  eps?: number;
  norm?: string;
  /** Column order of the per-attack figures. */
  attacks: string[];
  rows: LeaderboardRow[];
  /** Shown under the table (how a column was filled, say). */
  notes?: string[];
}

/** The sanity cell of a row: "ok", "⚠ id, id", or undefined when no row ran the checks. */
export function sanityCell(board: Leaderboard, row: LeaderboardRow): string | undefined {
  if (!board.rows.some((r) => r.flags !== undefined)) return undefined;
  if (row.flags === undefined) return '—';
  return row.flags.length === 0 ? 'ok' : `⚠ ${row.flags.join(', ')}`;
}

/** Under the table, when a row failed a check: its figures may overstate robustness. */
export const FLAG_NOTE = '⚠: the evaluation failed these sanity checks (masked gradients, an attack that cannot reach every image, …): its figures may overstate robustness; the entry\'s report says why and what to try.';

/** Rows best first: by worst-case accuracy, then clean accuracy, then name (a stable order). */
export function rankLeaderboard(rows: LeaderboardRow[]): LeaderboardRow[] {
  return [...rows].sort((a, b) => b.worstCase.accuracy - a.worstCase.accuracy || b.clean.accuracy - a.clean.accuracy || a.name.localeCompare(b.name));
}
