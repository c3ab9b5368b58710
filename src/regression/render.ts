import Table from 'cli-table3';
import { wilsonInterval } from '../harness/stats.js';
import { formatEps, type TextOptions } from '../report/text.js';
import type { SanityCheck } from '../harness/report-types.js';
import type { CheckedFigure, CheckResult } from './check.js';
import { TEST_DESCRIPTIONS, type Count } from './compare.js';
import { pct } from '../number-format.js';
import { classDeltaRows, classDeltaSeries } from '../report/class-deltas.js';

export const CHECK_FORMAT = 'advtest-check/1';

const withInterval = (c: Count) => {
  const [lo, hi] = wilsonInterval(c.correct, c.n);
  return `${pct(c.accuracy)} [${pct(lo)}, ${pct(hi)}]`;
};
const points = (x: number) => `${x > 0 ? '+' : ''}${(x * 100).toFixed(1)} pts`;

/** p-values below 0.0001 say nothing more to a reader than "far below α". */
export function formatP(p: number): string {
  return p < 1e-4 ? '<0.0001' : p.toFixed(4);
}

export function figureLabel(f: CheckedFigure): string {
  if (f.kind === 'clean') return 'clean';
  if (f.kind === 'worst case') return 'worst case';
  return `${f.cumulative ? '+ ' : ''}${f.attack} (${f.norm})`;
}

function figureName(f: CheckedFigure): string {
  return f.eps === undefined ? figureLabel(f) : `${figureLabel(f)} ε=${formatEps(f.eps)}`;
}

const COMPACT = { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' };
const MAX_IDS = 10;

/** The examples a figure lost, capped so that a collapse does not flood the log. */
export function lostLine(f: CheckedFigure, max = MAX_IDS): string {
  const more = f.lostIds.length > max ? ` … (+${f.lostIds.length - max} more)` : '';
  return `${figureName(f)} lost: ${f.lostIds.slice(0, max).join(', ')}${more}`;
}

/** The one-line verdict: what failed, by how much, under which rule. */
export function summaryLine(result: CheckResult): string {
  const o = result.options;
  const rule = `drop > ${(o.tolerance * 100).toFixed(1)} pts and p < ${o.alpha}, ${TEST_DESCRIPTIONS[o.test]}`;
  if (result.passed) return `PASS: no figure regressed (${rule})`;
  const list = result.regressions.map((f) => `${figureName(f)} ${points(f.change)}`).join(', ');
  return `FAIL: ${result.regressions.length} regression${result.regressions.length === 1 ? '' : 's'}: ${list} (${rule})`;
}

/** One line for stderr when a check fails; the table on stdout has the details. */
export function regressionMessage(result: CheckResult): string {
  const worst = [...result.regressions].sort((a, b) => a.change - b.change)[0];
  const largest = worst ? `; largest: ${figureName(worst)} ${points(worst.change)}` : '';
  const weights = result.weightsDiffer ? "; note: the model's weights differ from the baseline's (retrained or replaced since it was recorded)" : '';
  return `regression: ${result.regressions.length} of ${result.figures.length} figures dropped by more than ${(result.options.tolerance * 100).toFixed(1)} pts with p < ${result.options.alpha}${largest}${weights}`;
}

/**
 * Before/after/change/verdict per figure, then the lost examples of each regression and the
 * sanity checks of both runs. By default the table fits 100 columns (accuracies without their
 * intervals, one shared norm in the header); `wide` adds the 95% intervals and each row's norm.
 */
export function renderCheck(result: CheckResult, options: TextOptions = {}): string {
  const wide = options.wide === true;
  const b = result.baseline;
  const lines: string[] = [];
  lines.push(`baseline: ${result.baselinePath} (${b.createdAt.slice(0, 10)}, ${b.backend.name}, seed ${b.evaluation.seed}, config ${b.configHash.slice(0, 12)})`);
  lines.push(`model:    ${result.model}`);
  lines.push(`data:     ${b.data.name} ${b.data.split}, ${b.data.size} examples${b.data.subset ? ` (${b.data.subset})` : ''}, the baseline's own`);
  // One norm for every attack row (the usual case) goes into the header, as in eval's table.
  const norms = new Set(result.figures.filter((f) => f.kind === 'attack').map((f) => f.norm));
  const sharedNorm = !wide && norms.size === 1 ? [...norms][0] : undefined;
  const table = new Table({
    head: wide
      ? ['figure', 'ε', 'before [95% CI]', 'after [95% CI]', 'change', 'lost', 'gained', 'p', 'verdict']
      : [sharedNorm ? `figure (${sharedNorm})` : 'figure', 'ε', 'before', 'after', 'change', 'lost', 'gained', 'p', 'verdict'],
    style: { head: [], border: [] },
    chars: COMPACT,
  });
  const accuracy = (c: Count) => (wide ? withInterval(c) : pct(c.accuracy));
  for (const f of result.figures) {
    table.push([
      sharedNorm && f.kind === 'attack' ? `${f.cumulative ? '+ ' : ''}${f.attack}` : figureLabel(f),
      f.eps === undefined ? '' : formatEps(f.eps),
      accuracy(f.before),
      accuracy(f.after),
      points(f.change),
      String(f.lost),
      String(f.gained),
      formatP(f.pValue),
      f.verdict === 'regression' ? 'REGRESSION' : f.verdict,
    ]);
  }
  lines.push(table.toString());
  if (result.figures.some((f) => f.cumulative)) lines.push('sequential suite: a "+" row is the robust accuracy after that attack and all before it');
  for (const f of result.figures.filter((x) => x.verdict === 'regression')) lines.push(lostLine(f));
  lines.push(...renderClassDeltas(result, wide));
  lines.push(...renderCheckSanity(result.sanity));
  for (const note of result.notes) lines.push(`note: ${note}`);
  lines.push(summaryLine(result));
  return lines.join('\n');
}

/** The terminal's width budget, and the most classes listed in it, without --wide. */
const WIDTH = 100;
const MAX_CLASSES = 20;

/**
 * Per-class robust accuracy before → after (change) of the headline series (the worst case, or the
 * only attack) at each ε. By default only when it fits 100 columns and 20 classes, else one line
 * saying where to see it; `wide` shows it whatever its size, and each attack's table too.
 */
export function renderClassDeltas(result: Pick<CheckResult, 'classDeltas' | 'classNames' | 'figures'>, wide = false): string[] {
  const deltas = result.classDeltas ?? [];
  if (deltas.length === 0) return [];
  const label = (series: string) => {
    const f = result.figures.find((x) => x.kind === 'attack' && x.attack === series);
    return f ? figureLabel(f) : series;
  };
  const view = result.classNames ? { classNames: result.classNames } : {};
  const out: string[] = [];
  for (const series of wide ? classDeltaSeries(deltas) : classDeltaSeries(deltas).slice(0, 1)) {
    const { head, rows } = classDeltaRows(deltas, view, series);
    const table = new Table({ head, style: { head: [], border: [] }, chars: COMPACT, colAligns: head.map((c) => (c === 'class' ? 'left' : 'right')) });
    for (const r of rows) table.push(r);
    const text = table.toString();
    const width = Math.max(...text.split('\n').map((l) => [...l].length));
    if (!wide && (width > WIDTH || rows.length > MAX_CLASSES)) {
      const eps = head.length - 2;
      const reason = rows.length > MAX_CLASSES ? `${rows.length} classes are more than the ${MAX_CLASSES} shown` : `${rows.length} classes × ${eps} ε do not fit ${WIDTH} columns`;
      return [`per-class robust accuracy (${label(series)}): ${reason}: see --wide, --md or --html`];
    }
    out.push(`per-class robust accuracy (${label(series)}), before → after (change in pts):`, text);
  }
  return out;
}

/** "6/7 passed, 1 flagged", or "not recorded" for a baseline of an older advtest. */
export function passedText(checks: readonly SanityCheck[] | undefined): string {
  if (checks === undefined) return 'not recorded';
  const flags = checks.filter((c) => !c.ok).length;
  return `${checks.length - flags}/${checks.length} passed${flags > 0 ? `, ${flags} flagged` : ''}`;
}

/**
 * Per check id, each run's mark (✓, ✗ flag, or — when not recorded or not run), then every flag
 * with its run: the data of the terminal's and the Markdown's side-by-side sanity tables. A run's
 * `checks` absent: not recorded.
 */
export function sanityMarks(runs: readonly { run: string; checks?: readonly SanityCheck[] | undefined }[]): { rows: { id: string; marks: string[] }[]; flags: { run: string; check: SanityCheck }[] } {
  // The last run (the re-run) first: it ran every check this version has.
  const ids = [...new Set([...runs].reverse().flatMap((r) => (r.checks ?? []).map((c) => c.id)))];
  const mark = (checks: readonly SanityCheck[] | undefined, id: string) => {
    const c = checks?.find((x) => x.id === id);
    // Not recorded (an older baseline) or not run (the runs differ in what they could check).
    return c === undefined ? '—' : c.ok ? '✓' : '✗ flag';
  };
  return {
    rows: ids.map((id) => ({ id, marks: runs.map((r) => mark(r.checks, id)) })),
    flags: runs.flatMap((r) => (r.checks ?? []).filter((c) => !c.ok).map((check) => ({ run: r.run, check }))),
  };
}

/** Every sanity check of the baseline's run and of the re-run, one row each, then each flag with what to try. */
export function renderCheckSanity(sanity: CheckResult['sanity']): string[] {
  const { before, after } = sanity;
  const lines = [`sanity checks: before ${passedText(before)} · after ${passedText(after)}`];
  const { rows, flags } = sanityMarks([
    { run: 'before', checks: before },
    { run: 'after', checks: after },
  ]);
  if (rows.length === 0) return lines;
  const table = new Table({ head: ['sanity check', 'before', 'after'], style: { head: [], border: [] }, chars: COMPACT });
  for (const r of rows) table.push([r.id, ...r.marks]);
  lines.push(table.toString());
  for (const { run, check: f } of flags) lines.push(`  ✗ ${run}: ${f.message}${f.advice ? `\n    → try: ${f.advice}` : ''}`);
  return lines;
}

/** The check for machines: the same figures, no report (its size is the baseline's business). */
export function checkJson(result: CheckResult): Record<string, unknown> {
  return {
    format: CHECK_FORMAT,
    passed: result.passed,
    baseline: result.baselinePath,
    configHash: result.baseline.configHash,
    model: result.model,
    tolerance: result.options.tolerance,
    alpha: result.options.alpha,
    test: result.options.test,
    figures: result.figures.map((f) => ({
      kind: f.kind,
      ...(f.attack !== undefined ? { attack: f.attack, norm: f.norm } : {}),
      ...(f.eps !== undefined ? { eps: f.eps } : {}),
      before: f.before,
      after: f.after,
      change: f.change,
      lost: f.lost,
      gained: f.gained,
      pValue: f.pValue,
      verdict: f.verdict,
      lostIds: f.lostIds,
    })),
    // null: the baseline did not record them (made by an older advtest).
    sanity: { before: result.sanity.before ?? null, after: result.sanity.after },
    // null: the baseline holds no per-class counts (made by an older advtest); see notes.
    classDeltas: result.classDeltas ?? null,
    notes: result.notes,
    backend: result.report.backend,
  };
}
