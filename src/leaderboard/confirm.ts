import { createHash } from 'node:crypto';
import stableStringify from 'fast-json-stable-stringify';
import { proportion } from '../harness/assemble.js';
import type { Proportion, Report } from '../harness/report-types.js';
import { rankLeaderboard } from '../report/leaderboard.js';
import { UserError } from '../errors.js';
import type { BenchConfig, BenchEntry } from './config.js';
import { benchAttackOptions } from './validate.js';

/** The confirming attack's report at one ε, kept in the entry's file beside its evaluation. */
export interface Confirmation {
  /** Of the training, the input transform, the data, the confirming attack and ε: a change redoes it. */
  key: string;
  /** As the config names it ("autoattack"): the board's column. */
  attack: string;
  eps: number;
  report: Report;
}

/** The smallest piece of an entry the confirmation needs (run.ts's EntryResult has it). */
export interface Confirmable {
  name: string;
  report: Report;
  /** Only current ones: runBench drops those of other settings when it reads the entry back. */
  confirmations?: Confirmation[];
}

/** The ε the confirmation runs at: those of `confirm.eps`, else every evaluated ε. */
export function confirmEpsilons(config: BenchConfig): number[] {
  return config.confirm?.eps ?? config.eval.eps;
}

export function confirmationKey(config: BenchConfig, entry: BenchEntry, trainingKey: string, eps: number): string {
  const e = config.eval;
  // The transform is not in the training key (the same model is evaluated behind another transform).
  const what = { format: 1, trainingKey, transform: entry.transform ?? null, data: config.data ?? 'mnist', dataDir: config.dataDir ?? null, limit: e.limit ?? null, seed: e.seed ?? 0, attack: benchAttackOptions(config, entry, undefined, 'confirm'), eps };
  return createHash('sha256').update(stableStringify(what)).digest('hex');
}

/**
 * Per example, robust under the evaluation's attacks and the confirming attack at ε: the worst case of
 * the two reports (they must cover the same examples in the same order).
 */
export function combinedWorstCase(evaluation: Report, confirming: Report, eps: number, entry = 'the entry'): Proportion {
  const a = evaluation.examples;
  const b = confirming.examples;
  if (a.ids.length !== b.ids.length || a.ids.some((id, i) => id !== b.ids[i])) {
    throw new UserError(
      `${entry}: its confirmation at ε ${eps} ran on other examples (${b.ids.length}) than its evaluation (${a.ids.length}), so their worst case cannot be taken per example (were the data files changed?): delete "confirmations" from its entries/*.json file and run the leaderboard again`,
    );
  }
  const survives = (ex: Report['examples'], i: number) =>
    ex.cleanPredictions[i] === ex.labels[i] && ex.results.filter((c) => c.eps === eps).every((c) => c.predictions[i] === ex.labels[i]);
  let alive = 0;
  for (let i = 0; i < a.ids.length; i++) if (survives(a, i) && survives(b, i)) alive++;
  return proportion(alive, a.ids.length);
}

/** An entry's confirmation at ε, if it has a current one. */
export function confirmationAt(r: Confirmable, eps: number, key?: string): Confirmation | undefined {
  return r.confirmations?.find((c) => c.eps === eps && (key === undefined || c.key === key));
}

/** An entry's worst case at ε: over its evaluation, and its confirmation where there is one. */
export function entryWorstCase(r: Confirmable, eps: number): Proportion {
  const own = r.report.worstCase.find((w) => w.eps === eps)!;
  const c = confirmationAt(r, eps);
  return c ? combinedWorstCase(r.report, c.report, eps, r.name) : own;
}

/**
 * The next entry to confirm at ε, or undefined when the `top` best rows are all confirmed. Rows
 * are ranked as on the board, by the worst case including confirmations so far: when the reference
 * attack takes a leader below the next row, that row is confirmed in turn, so the rows at the top
 * always carry the reference attack (RobustBench ranks by AutoAttack; PGD alone overstates).
 */
export function nextToConfirm<T extends Confirmable>(results: T[], eps: number, top: number, keyOf: (r: T) => string): T | undefined {
  const rows = results.map((r) => ({ name: r.name, clean: r.report.clean, attacks: {}, worstCase: entryWorstCase(r, eps), result: r }));
  const leaders = rankLeaderboard(rows).slice(0, top) as typeof rows;
  return leaders.find((row) => confirmationAt(row.result, eps, keyOf(row.result)) === undefined)?.result;
}
