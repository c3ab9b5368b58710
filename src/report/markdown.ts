import { markdownTable } from 'markdown-table';
import type { Report } from '../harness/report-types.js';
import { attackLabel, backendLine, dataLine, documentTitle, type ReportDocument } from './document.js';
import { duration, formatEps, pct, points, withInterval, type Estimate } from './figures.js';
import { FLAG_NOTE, rankLeaderboard, sanityCell, type Leaderboard } from './leaderboard.js';
import type { RegressionTable } from './regression-table.js';
import { fellAtDistribution } from './fell-at.js';
import { belowZero, headlineSeries, marginNumber, seriesLabel } from './html-analysis.js';
import { convergenceCheck, runSummaries, stillRising } from './convergence.js';
import { minimalDistributions } from './minimal-distribution.js';
import { passedText, sanityMarks } from '../regression/render.js';
import { classDeltaMarkdown } from './class-deltas.js';

/** A table cell: pipes would end the cell and newlines the row. */
const cell = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ');

/** A bold title, a table and the note that explains it, as lines of the Markdown report. */
function titledTable(title: string, head: string[], rows: string[][], align: string[], note: string): string[] {
  return ['', `**${title}**`, '', table(head, rows, align), '', note];
}

function table(head: string[], rows: string[][], align: string[]): string {
  return markdownTable([head, ...rows].map((r) => r.map(cell)), { align });
}

const estimate = (e: Estimate | undefined) => (e === undefined ? '—' : withInterval(e));

function evaluationSection(report: Report, ownSanity = true): string[] {
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
  out.push('', RESULTS_NOTE);
  out.push(...breakdownLines(report), ...minimalLines(report), ...convergenceLines(report), ...marginLines(report), ...traceLines(report));
  const checks = report.sanity ?? [];
  if (ownSanity && checks.length > 0) {
    const flags = checks.filter((s) => !s.ok);
    out.push('', `Sanity checks: ${checks.length - flags.length}/${checks.length} passed${flags.length > 0 ? `, ${flags.length} flagged:` : ''}`);
    for (const f of flags) out.push(`- ✗ ${f.message}${f.advice ? ` — try: ${f.advice}` : ''}`);
  }
  out.push('', `<sub>advtest ${report.tool.version} · ${backendLine(report)} · seed ${report.seed} · config ${report.configHash.slice(0, 12)}</sub>`);
  return out;
}

/** The footnote of a sequential suite's "+" rows. */
export const SEQUENTIAL_NOTE = '`+` rows: sequential suite — each attack ran on the examples the ones above left standing; its row is the robust accuracy after it and all before it.';

/** Under the results table: what the brackets and the 8-bit column are. */
export const RESULTS_NOTE = 'Brackets: 95% Wilson intervals. 8-bit: the same adversarial images rounded to what a PNG holds.';

/** The minimal attacks' smallest perturbations (the HTML draws their histogram and CDF). */
function minimalLines(report: Report): string[] {
  const dists = minimalDistributions(report);
  if (dists.length === 0) return [];
  const num = (v: number | null, none: string) => (v === null ? none : v.toPrecision(4));
  // Quartiles of the distances, an example with none found counting as infinitely far.
  const quantile = (d: (typeof dists)[number], q: number) => {
    const k = Math.ceil(q * d.of);
    return k >= 1 && k <= d.found ? d.cdf[k]!.eps : null;
  };
  const rows = dists.map((d) => [d.attack, d.norm === 'linf' ? 'L∞' : d.norm.toUpperCase(), `${d.found}/${d.of}`, num(quantile(d, 0.25), '∞'), num(d.median, '∞'), num(quantile(d, 0.75), '∞'), num(d.mean, '—')]);
  return titledTable('Smallest perturbation found (minimal attacks)', ['attack', 'norm', 'found', 'lower quartile', 'median', 'upper quartile', 'mean (found)'], rows, ['l', 'l', 'r', 'r', 'r', 'r', 'r'], 'Per example correct clean, the distance of the closest adversarial found (no budget): an example is broken at ε iff it is within ε. One with none found counts as infinitely far (∞); the mean is over those found.');
}

/** Per attack, ε and run: the robust fraction at its start and end, and whether it was still falling. */
function convergenceLines(report: Report): string[] {
  const traces = report.convergence ?? [];
  if (traces.length === 0) return [];
  const rows = traces.flatMap((t) => {
    const first = t.iterations[0];
    const last = t.iterations.at(-1);
    const runs = runSummaries(t);
    return runs.map((r) => [
      seriesLabel(report, t.attack),
      formatEps(t.eps),
      r.run === 0 ? 'first' : `restart ${r.run}`,
      String(r.iterations),
      String(r.attacked),
      String(r.fooled),
      r.run === 0 && first && last ? `${pct(first.robust)} → ${pct(last.robust)}` : '',
      r.run === 0 && first && last ? `${first.meanLoss.toPrecision(3)} → ${last.meanLoss.toPrecision(3)}` : '',
      pct(r.robustAfter),
      r.run === 0 && stillRising(t) ? '**still falling**' : '',
    ]);
  });
  const check = convergenceCheck(traces)!;
  return titledTable('Convergence of the iterative attacks', ['attack', 'ε', 'run', 'iterations', 'attacked', 'fooled', 'robust (of attacked)', 'mean loss', 'robust after', ''], rows, ['l', 'r', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'l'], `Each run's robust fraction from its first iteration to its last, and the loss it ascends; restarts attack only the examples left standing, and "robust after" is of the examples the first run attacked. ${check.ok ? 'Every attack had stopped gaining by its last iterations.' : `✗ ${check.message} — try: ${check.advice}`}`);
}

/** Median margins and confidences, clean vs adversarial (the HTML draws the histograms). */
function marginLines(report: Report): string[] {
  const cells = report.margins ?? [];
  if (cells.length === 0) return [];
  const rows = cells.map((m) => [seriesLabel(report, m.attack), formatEps(m.eps), String(m.n), marginNumber(m.margin.median.clean), marginNumber(m.margin.median.adversarial), pct(m.confidence.median.clean), pct(m.confidence.median.adversarial), String(belowZero(m))]);
  return titledTable('Margins and confidence, clean vs adversarial', ['attack', 'ε', 'n', 'median margin clean', 'adversarial', 'median confidence clean', 'adversarial', 'margin < 0'], rows, ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'], 'Over the examples correct clean: margin = logit of the true class minus the largest other logit (below 0 the model is wrong); confidence = probability of the top class.');
}

/** The examples followed with --trace: where each ended. */
function traceLines(report: Report): string[] {
  const traces = report.traces ?? [];
  if (traces.length === 0) return [];
  const last = (xs: (number | null)[]) => [...xs].reverse().find((v) => v !== null) ?? null;
  const first = (xs: (number | null)[]) => xs.find((v) => v !== null) ?? null;
  const show = (v: number | null) => (v === null ? '—' : v.toPrecision(3));
  const rows = traces.map((t) => [t.id, String(t.index), seriesLabel(report, t.attack), formatEps(t.eps), `${t.loss.length - 1}${t.truncated ? '+' : ''}`, `${show(first(t.loss))} → ${show(last(t.loss))}`, `${show(first(t.margin))} → ${show(last(t.margin))}`]);
  return titledTable('Traced examples (--trace)', ['example', 'position', 'attack', 'ε', 'iterations', 'loss', 'margin'], rows, ['l', 'r', 'l', 'r', 'r', 'r', 'r'], "First → last iteration of the attack's first run; a margin below 0 means the attack succeeded there (APGD records no margin: —). A + marks more iterations than were kept.");
}

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
  const notes = [...(board.notes ?? []), ...(flagged ? [FLAG_NOTE] : [])].flatMap((n) => ['', n]);
  return [`**Leaderboard${at}**`, '', table(head, rows, ['r', 'l', ...head.slice(2).map((c) => (c === 'sanity' ? 'l' : 'r'))]), ...notes];
}

function regressionSection(reg: RegressionTable, report?: Report): string[] {
  // Paired checks know which examples changed: lost (robust before, not now) and gained.
  const paired = reg.rows.some((r) => r.lost !== undefined);
  const rows = reg.rows.map((r) => [
    r.figure,
    r.eps === undefined ? '' : formatEps(r.eps),
    estimate(r.before),
    estimate(r.after),
    points(r.change),
    ...(paired ? [r.lost === undefined ? '' : String(r.lost), r.gained === undefined ? '' : String(r.gained)] : []),
    r.pValue === undefined ? '' : r.pValue < 1e-4 ? '<0.0001' : r.pValue.toFixed(4),
    r.verdict === 'regression' ? '**REGRESSION**' : r.verdict,
  ]);
  const head = `**Regression check: ${reg.passed ? 'PASS' : 'FAIL'}**${reg.baseline ? ` against \`${reg.baseline}\`` : ''}${reg.rule ? ` (${reg.rule})` : ''}`;
  const columns = ['figure', 'ε', 'before', 'after', 'change', ...(paired ? ['lost', 'gained'] : []), 'p', 'verdict'];
  const note = paired ? ['', 'lost: examples robust in the baseline and not now; gained: the reverse (the change is gained − lost).'] : [];
  return [head, '', table(columns, rows, columns.map((c) => (c === 'figure' || c === 'verdict' ? 'l' : 'r'))), ...note, ...classLines(reg, report), ...checkSanityLines(reg.sanity ?? [])];
}

/** The per-class changes of a check, or the one line saying why there are none. */
function classLines(reg: RegressionTable, report?: Report): string[] {
  if (reg.classNotice !== undefined) return ['', `Note: ${reg.classNotice}`];
  const view = { ...(reg.classNames ? { classNames: reg.classNames } : {}), ...(report ? { seriesLabel: (s: string) => seriesLabel(report, s) } : {}) };
  const lines = classDeltaMarkdown(reg.classDeltas ?? [], view);
  return lines.length > 0 ? ['', ...lines] : [];
}

/** Both runs' sanity checks side by side, as the terminal's check shows them, then each flag. */
function checkSanityLines(runs: NonNullable<RegressionTable['sanity']>): string[] {
  if (runs.length === 0) return [];
  const name = (r: (typeof runs)[number]) => r.short ?? r.run;
  const out = ['', `**Sanity checks:** ${runs.map((r) => `${name(r)} ${passedText(r.checks)}`).join(' · ')}`];
  const { rows, flags } = sanityMarks(runs.map((r) => ({ run: name(r), checks: r.checks })));
  if (rows.length > 0) out.push('', table(['sanity check', ...runs.map(name)], rows.map((r) => [r.id, ...r.marks]), ['l', ...runs.map(() => 'c')]));
  // A blank line first: a list right under a table would read as its last row.
  if (flags.length > 0) out.push('');
  for (const { run, check } of flags) out.push(`- ✗ ${run}: ${check.message}${check.advice ? ` — try: ${check.advice}` : ''}`);
  const unrecorded = runs.filter((r) => r.checks === undefined);
  if (unrecorded.length > 0) out.push('', `${unrecorded.map(name).join(', ')}: not recorded (a baseline of an older advtest; re-create it with \`advtest baseline … --force\` to see them).`);
  return out;
}

/** GitHub-flavoured Markdown of the same tables as the HTML report, for pull-request comments. */
export function renderMarkdown(doc: ReportDocument): string {
  const sections: string[][] = [[`### ${documentTitle(doc)}`]];
  if (doc.regression) sections.push(regressionSection(doc.regression, doc.report));
  if (doc.leaderboard) sections.push(leaderboardSection(doc.leaderboard));
  // A check shows both runs' sanity checks with the regression table, so not the re-run's again.
  if (doc.report) sections.push(evaluationSection(doc.report, doc.regression?.sanity === undefined));
  return sections.map((s) => s.join('\n')).join('\n\n') + '\n';
}
