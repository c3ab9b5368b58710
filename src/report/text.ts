import Table from 'cli-table3';
import { formatBudget, formatEps, pct } from '../number-format.js';
import type { Proportion, Report } from '../harness/report-types.js';
import { backendLine } from './document.js';

export { formatEps };

const withInterval = (p: Proportion) => `${pct(p.accuracy)} [${pct(p.interval[0])}, ${pct(p.interval[1])}]`;
const num = (x: number) => x.toFixed(4);

/** Gradient evaluations (∇) and model queries (q), per example summed over the run. */
function costText(c: { gradients: number; queries: number }): string {
  const parts = [c.gradients > 0 ? `${c.gradients} ∇` : '', c.queries > 0 ? `${c.queries} q` : ''].filter((p) => p.length > 0);
  return parts.length > 0 ? parts.join(' + ') : '0';
}

/** Rows without separators between them: one line per result. */
const COMPACT = { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' };

export interface TextOptions {
  /** Every column (max L∞ and L2, mean L∞); by default the table fits 100 columns. */
  wide?: boolean;
}

/** Costs without spaces for the narrow table: "1155∇+231q". */
function costShort(c: { gradients: number; queries: number }): string {
  return costText(c).replaceAll(' ', '');
}

/** A terminal table of a Report: clean accuracy, then one row per attack and ε. */
export function renderText(report: Report, options: TextOptions = {}): string {
  const wide = options.wide === true;
  const lines: string[] = [];
  const model = report.model;
  lines.push(`model: ${String(model.path ?? model.name ?? '?')} (logits: ${String(model.logits ?? 'model output')})`);
  lines.push(`data:  ${report.data.name} ${report.data.split}, ${report.data.size} examples${report.data.subset ? ` (${report.data.subset})` : ''}`);
  for (const note of report.data.notes ?? []) lines.push(`       note: ${note}`);
  lines.push(`clean accuracy: ${withInterval(report.clean)}  (${report.clean.correct}/${report.clean.n})`);
  // One norm for all rows (the usual case) goes into the header instead of every row.
  const norms = new Set(report.results.map((r) => r.norm));
  const sharedNorm = !wide && norms.size === 1 ? [...norms][0] : undefined;
  const table = new Table({
    head: wide
      ? ['attack', 'ε', 'adv. accuracy [95% CI]', '8-bit acc.', 'success', 'mean L∞', 'max L∞', 'mean L2', 'max L2', 'cost', 'time']
      : [sharedNorm ? `attack (${sharedNorm})` : 'attack', 'ε', 'accuracy [95% CI]', '8-bit', 'success', 'mean L2', 'cost', 'time'],
    style: { head: [], border: [] },
    chars: COMPACT,
  });
  const sequential = report.config.mode === 'sequential';
  const first = report.config.attacks[0]?.name;
  report.results.forEach((r, i) => {
    const seconds = report.timings.results[i]?.seconds ?? 0;
    const name = `${sequential && r.attack !== first ? '+ ' : ''}${r.attack}${sharedNorm ? '' : ` (${r.norm})`}`;
    table.push(
      wide
        ? [name, formatBudget(r.eps, r.norm), withInterval(r), pct(r.quantized.accuracy), pct(r.success.rate), num(r.perturbation.meanLinf), num(r.perturbation.maxLinf), num(r.perturbation.meanL2), num(r.perturbation.maxL2), costText(r.costs), `${seconds.toFixed(1)} s`]
        : [name, formatBudget(r.eps, r.norm), withInterval(r), pct(r.quantized.accuracy), pct(r.success.rate), num(r.perturbation.meanL2), costShort(r.costs), `${seconds.toFixed(1)}s`],
    );
  });
  lines.push(table.toString());
  const side = report.timings.concurrency ?? 1;
  const summed = report.timings.results.reduce((a, r) => a + r.seconds, 0);
  // Summed batch times would otherwise read as wall time that exceeds the run's own.
  if (side > 1 && summed > report.timings.totalSeconds) lines.push(`time: per row, batch times summed over ${side} workers running side by side; the run took ${report.timings.totalSeconds.toFixed(1)} s`);
  if (sequential && report.config.attacks.length > 1) {
    lines.push(
      wide
        ? 'sequential suite: each attack ran on the examples the ones above left standing; its row is the robust accuracy after it and all before it'
        : 'sequential suite (+): each attack ran on the examples left standing; each row is cumulative',
    );
  } else if (report.config.attacks.length > 1) {
    // The library's default for a list of attacks; the CLI's is sequential: say which one ran.
    lines.push('independent attacks: each ran on every example (rows are per attack); the worst case combines them');
  }
  if (report.config.attacks.length > 1) {
    const worst = new Table({ head: ['ε', 'worst case over attacks', '8-bit'], style: { head: [], border: [] }, chars: COMPACT });
    for (const w of report.worstCase) worst.push([formatEps(w.eps), withInterval(w), pct(w.quantized.accuracy)]);
    lines.push(worst.toString());
  }
  if (report.curves && report.curves.length > 0) {
    lines.push(`area under accuracy(ε), normalised: ${report.curves.map((c) => `${c.attack} ${c.normalizedArea.toFixed(3)}`).join(' · ')}`);
  }
  lines.push(...renderSanity(report));
  const b = report.backend;
  lines.push(`backend: ${backendLine(report)}${b.note ? ` — ${b.note}` : ''} · seed ${report.seed} · ${report.timings.totalSeconds.toFixed(1)} s`);
  return lines.join('\n');
}

/** The sanity report card: a count, then each flag with what to try next. */
export function renderSanity(report: Report): string[] {
  const checks = report.sanity ?? [];
  if (checks.length === 0) return [];
  const flags = checks.filter((c) => !c.ok);
  const lines = [`sanity checks: ${checks.length - flags.length}/${checks.length} passed${flags.length > 0 ? `, ${flags.length} flagged` : ''}`];
  for (const f of flags) lines.push(`  ✗ ${f.message}${f.advice ? `\n    → try: ${f.advice}` : ''}`);
  return lines;
}
