import type { Leaderboard, LeaderboardRow } from '../report/leaderboard.js';
import type { EntryResult } from './run.js';

/** "pgd+bpda" and "pgd" share a column: the row says how the model was attacked. */
function baseAttack(name: string): string {
  return name.replace(/\+(bpda|eot\d+)/g, '');
}

/** One leaderboard per ε of the benchmark: clean, per-attack and worst-case accuracy with intervals. */
export function benchLeaderboards(results: EntryResult[]): Leaderboard[] {
  const first = results[0]?.report;
  if (!first) return [];
  const attacks = [...new Set(first.config.attacks.map((a) => baseAttack(a.name)))];
  return first.config.epsilons.map((eps) => ({
    eps,
    norm: first.config.attacks[0]?.norm ?? 'linf',
    attacks,
    rows: results.map((r): LeaderboardRow => {
      const worst = r.report.worstCase.find((w) => w.eps === eps)!;
      return {
        name: r.adaptive === 'bpda' ? `${r.name} (BPDA)` : r.name,
        clean: r.report.clean,
        attacks: Object.fromEntries(r.report.results.filter((x) => x.eps === eps).map((x) => [baseAttack(x.attack), x])),
        worstCase: worst,
        trainingSeconds: r.trainingSeconds,
        ...(r.report.sanity ? { flags: r.report.sanity.filter((c) => !c.ok).map((c) => c.id) } : {}),
      };
    }),
  }));
}
