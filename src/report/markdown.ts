import { markdownTable } from 'markdown-table';
import type { Report } from '../harness/report-types.js';
import { attackLabel, backendLine, dataLine, documentTitle, type ReportDocument } from './document.js';
import { duration, formatEps, pct, points, withInterval, type Estimate } from './figures.js';
import { FLAG_NOTE, rankLeaderboard, sanityCell, type Leaderboard } from './leaderboard.js';
import type { RegressionTable } from './regression-table.js';
import { fellAtDistribution } from './fell-at.js';
import { headlineSeries, seriesLabel } from './html-analysis.js';

/** A table cell: pipes would end the cell and newlines the row. */
const cell = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ');

function table(head: string[], rows: string[][], align: string[]): string {
  return markdownTable([head, ...rows].map((r) => r.map(cell)), { align });
}

const estimate = (e: Estimate | undefined) => (e === undefined ? '—' : withInterval(e));

function evaluationSection(report: Report): string[] {
  const c = report.clean;
  const out = [`${dataLine(report)} · clean accuracy **${pct(c.accuracy)}** [${pct(c.interval[0])}, ${pct(c.interval[1])}] (${c.correct}/${c.n})`, ''];
  out.push(
    table(
      ['attack', 'ε', 'accuracy [95% CI]', '8-bit', 'success', 'mean L∞', 'mean L2'],
      report.results.map((r) => [
        attackLabel(report, r.attack, r.norm),
        formatEps(r.eps),
        withInterval(r),
        pct(r.quantized.accuracy),
        pct(r.success.rate),
        r.perturbation.meanLinf.toFixed(4),
        r.perturbation.meanL2.toFixed(4),
      ]),
      ['l', 'r', 'r', 'r', 'r', 'r', 'r'],
    ),
  );
  if (report.config.mode === 'sequential' && report.config.attacks.length > 1) {
    out.push('', SEQUENTIAL_NOTE);
  }
  if (report.config.attacks.length > 1) {
    out.push('', '**Worst case over attacks**', '');
    out.push(table(['ε', 'accuracy [95% CI]', '8-bit'], report.worstCase.map((w) => [formatEps(w.eps), withInterval(w), pct(w.quantized.accuracy)]), ['r', 'r', 'r']));
  }
  out.push(...breakdownLines(report));
  const checks = report.sanity ?? [];
  if (checks.length > 0) {
    const flags = checks.filter((s) => !s.ok);
    out.push('', `Sanity checks: ${checks.length - flags.length}/${checks.length} passed${flags.length > 0 ? `, ${flags.length} flagged:` : ''}`);
    for (const f of flags) out.push(`- ✗ ${f.message}${f.advice ? ` — try: ${f.advice}` : ''}`);
  }
  out.push('', `<sub>advtest ${report.tool.version} · ${backendLine(report)} · seed ${report.seed} · config ${report.configHash.slice(0, 12)}</sub>`);
  return out;
}

/** The footnote of a sequential suite's "+" rows. */
export const SEQUENTIAL_NOTE = '`+` rows: sequential suite — each attack ran on the examples the ones above left standing; its row is the robust accuracy after it and all before it.';

/** Per-class figures of the headline series, the smallest breaking ε and the commonest confusions. */
function breakdownLines(report: Report): string[] {
  const figures = report.perClass ?? [];
  if (figures.length === 0) return [];
  const series = headlineSeries(report);
  const mine = figures.filter((f) => f.attack === series).sort((a, b) => a.eps - b.eps);
  const first = figures[0]!;
  const rate = (k: number, n: number) => (n === 0 ? '—' : pct(k / n));
  const rows = first.n.flatMap((n, c) => (n === 0 ? [] : [[String(c), String(n), rate(first.clean[c]!, n), ...mine.map((f) => rate(f.robust[c]!, n))]]));
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const total = sum(first.n);
  rows.push(['**all**', String(total), rate(sum(first.clean), total), ...mine.map((f) => rate(sum(f.robust), total))]);
  const out = ['', `**Per class: ${seriesLabel(report, series)}**`, ''];
  out.push(table(['class', 'n', 'clean', ...mine.map((f) => `ε ${formatEps(f.eps)}`)], rows, ['l', 'r', 'r', ...mine.map(() => 'r')]));
  const dist = fellAtDistribution(report);
  const show = (v: number | null) => (v === null ? `> ${formatEps(Math.max(...dist.epsilons))}` : formatEps(v));
  out.push('', `Smallest breaking ε (worst case): median ${show(dist.median.value)} [95% interval ${show(dist.median.interval[0])}, ${show(dist.median.interval[1])}]; ${dist.held} of ${dist.n} held at every ε.`);
  const largest = Math.max(...report.config.epsilons);
  const confusion = (report.confusion ?? []).find((c) => c.attack === series && c.eps === largest);
  const top = (confusion?.counts ?? []).filter(([y, p]) => y !== p).sort((a, b) => b[2] - a[2] || a[0] - b[0] || a[1] - b[1]).slice(0, 5);
  if (top.length > 0) out.push('', `Commonest confusions at ε ${formatEps(largest)}: ${top.map(([y, p, k]) => `${y} → ${p} (${k})`).join(', ')}.`);
  return out;
}

function leaderboardSection(board: Leaderboard): string[] {
  const at = board.eps === undefined ? '' : ` at ε = ${formatEps(board.eps)}${board.norm ? ` (${board.norm})` : ''}`;
  const training = board.rows.some((r) => r.trainingSeconds !== undefined);
  const checked = board.rows.some((r) => r.flags !== undefined);
  const rows = rankLeaderboard(board.rows).map((r, i) => [
    String(i + 1),
    r.name,
    estimate(r.clean),
    ...board.attacks.map((a) => estimate(r.attacks[a])),
    `**${withInterval(r.worstCase)}**`,
    ...(training ? [r.trainingSeconds === undefined ? '—' : duration(r.trainingSeconds)] : []),
    ...(checked ? [sanityCell(board, r)!] : []),
  ]);
  const head = ['#', 'model', 'clean', ...board.attacks, 'worst case', ...(training ? ['training'] : []), ...(checked ? ['sanity'] : [])];
  const flagged = board.rows.some((r) => (r.flags?.length ?? 0) > 0);
  return [`**Leaderboard${at}**`, '', table(head, rows, ['r', 'l', ...head.slice(2).map((c) => (c === 'sanity' ? 'l' : 'r'))]), ...(flagged ? ['', FLAG_NOTE] : [])];
}

function regressionSection(reg: RegressionTable): string[] {
  const rows = reg.rows.map((r) => [
    r.figure,
    r.eps === undefined ? '' : formatEps(r.eps),
    estimate(r.before),
    estimate(r.after),
    points(r.change),
    r.pValue === undefined ? '' : r.pValue < 1e-4 ? '<0.0001' : r.pValue.toFixed(4),
    r.verdict === 'regression' ? '**REGRESSION**' : r.verdict,
  ]);
  const head = `**Regression check: ${reg.passed ? 'PASS' : 'FAIL'}**${reg.baseline ? ` against \`${reg.baseline}\`` : ''}${reg.rule ? ` (${reg.rule})` : ''}`;
  const columns = ['figure', 'ε', 'before', 'after', 'change', 'p', 'verdict'];
  return [head, '', table(columns, rows, columns.map((c) => (c === 'figure' || c === 'verdict' ? 'l' : 'r')))];
}

/** GitHub-flavoured Markdown of the same tables as the HTML report, for pull-request comments. */
export function renderMarkdown(doc: ReportDocument): string {
  const sections: string[][] = [[`### ${documentTitle(doc)}`]];
  if (doc.regression) sections.push(regressionSection(doc.regression));
  if (doc.leaderboard) sections.push(leaderboardSection(doc.leaderboard));
  if (doc.report) sections.push(evaluationSection(doc.report));
  return sections.map((s) => s.join('\n')).join('\n\n') + '\n';
}
