import escapeHtml from 'escape-html';
import { markdownTable } from 'markdown-table';
import type { PerClassFigures } from '../harness/report-types.js';
import { formatEps, pct } from '../number-format.js';
import { WORST_CASE } from './breakdown.js';
import { className } from './captions.js';
import { points } from './figures.js';
import { round6 } from '../harness/stats.js';

/**
 * Per class (index = label), the examples and those robust for one series (an attack, or the worst
 * case) at one ε: what a report's perClass and a baseline's both hold. Counts, so nothing rounds.
 */
export type ClassCounts = Pick<PerClassFigures, 'attack' | 'eps' | 'n' | 'robust'>;

/** One class of one series at one ε: robust in the baseline (before) and in a run (after). */
export interface ClassDelta {
  run: string;
  /** An attack's name or "worst case". */
  series: string;
  eps: number;
  cls: number;
  before: { robust: number; n: number };
  after: { robust: number; n: number };
  /** Robust accuracy after − before, as a fraction. */
  change: number;
}

/**
 * Per class, per series and ε that both hold, the baseline's robust accuracy against the run's:
 * the per-class deltas of `advtest compare` and of `advtest check`. Classes without examples in
 * the baseline are left out (no accuracy to compare).
 */
export function classDeltas(run: string, before: readonly ClassCounts[], after: readonly ClassCounts[]): ClassDelta[] {
  const out: ClassDelta[] = [];
  for (const b of before) {
    const a = after.find((x) => x.attack === b.attack && x.eps === b.eps);
    if (!a) continue;
    b.n.forEach((n, cls) => {
      const nAfter = a.n[cls] ?? 0;
      if (n === 0 || nAfter === 0) return;
      const robustAfter = a.robust[cls] ?? 0;
      out.push({ run, series: b.attack, eps: b.eps, cls, before: { robust: b.robust[cls]!, n }, after: { robust: robustAfter, n: nAfter }, change: round6(robustAfter / nAfter - b.robust[cls]! / n) });
    });
  }
  return out;
}

/** The series a single per-class view shows: the worst case when there is one, else the (only) attack. */
export function headlineClassSeries(deltas: readonly Pick<ClassDelta, 'series'>[]): string | undefined {
  return deltas.some((d) => d.series === WORST_CASE) ? WORST_CASE : deltas[0]?.series;
}

/** Options of the renderers: what the two runs and the series are called, and the class names. */
export interface ClassDeltaView {
  /** Column titles of the two figures, e.g. "before"/"after" (check) or the runs' labels (compare). */
  beforeLabel?: string;
  afterLabel?: string;
  /** The name of a series as the page's other tables call it. */
  seriesLabel?: (series: string) => string;
  classNames?: readonly string[];
}

interface Grid {
  runs: string[];
  eps: number[];
  /** One row per (run, class), in run then class order. */
  rows: { run: string; cls: number; n: number; cells: (ClassDelta | undefined)[] }[];
}

/** The deltas of one series as rows (run, class) × columns (ε). */
function grid(deltas: readonly ClassDelta[], series: string): Grid {
  const mine = deltas.filter((d) => d.series === series);
  const runs = [...new Set(mine.map((d) => d.run))];
  const eps = [...new Set(mine.map((d) => d.eps))].sort((a, b) => a - b);
  const rows: Grid['rows'] = [];
  for (const run of runs) {
    const classes = [...new Set(mine.filter((d) => d.run === run).map((d) => d.cls))].sort((a, b) => a - b);
    for (const cls of classes) {
      const cells = eps.map((e) => mine.find((d) => d.run === run && d.cls === cls && d.eps === e));
      rows.push({ run, cls, n: cells.find((c) => c !== undefined)!.before.n, cells });
    }
  }
  return { runs, eps, rows };
}

const rate = (c: { robust: number; n: number }) => c.robust / c.n;
/** "−16.7" / "+2.0" / "±0.0": points without the unit, for narrow cells. */
const signed = (x: number) => points(x).replace(/ pts$/, '');
const tone = (change: number) => (change < 0 ? 'lost' : change > 0 ? 'gained' : '');

/** The series shown: the headline first, then each other series (per attack). */
export function classDeltaSeries(deltas: readonly ClassDelta[]): string[] {
  const headline = headlineClassSeries(deltas);
  return headline === undefined ? [] : [headline, ...new Set(deltas.map((d) => d.series).filter((s) => s !== headline))];
}

/** Colours of the change cells: the same red and green as the lost/gained columns. */
export const CLASS_DELTA_STYLE = [
  'td.lost { color: var(--bad); } td.gained { color: var(--good); } table.class-deltas td.lost { font-weight: 600; }',
  // One group of three columns per ε, ruled off from the next.
  'table.class-deltas th, table.class-deltas td { padding: 5px 7px; } table.class-deltas thead tr + tr th { text-align: right; }',
  'table.class-deltas th.group { text-align: center; } table.class-deltas .first, table.class-deltas th.group { border-left: 2px solid var(--line); }',
].join('\n');

const h = (s: string | number) => escapeHtml(String(s));

function htmlTable(g: Grid, view: ClassDeltaView): string {
  const runColumn = g.runs.length > 1;
  const before = view.beforeLabel ?? 'before';
  const after = view.afterLabel ?? 'after';
  const groups = g.eps.map((e) => `<th class="group" colspan="3">ε=${h(formatEps(e))}</th>`).join('');
  // The change columns sort by their place in the body rows (run?, class, n, then 3 per ε).
  const first = runColumn ? 3 : 2;
  const sub = g.eps.map((_, i) => `<th class="first">${h(before)}</th><th>${h(after)}</th><th data-sort data-column="${first + 3 * i + 2}"><button type="button">change</button></th>`).join('');
  const rows = g.rows.map((r) => {
    const cells = r.cells.map((d) => {
      if (!d) return '<td class="first">—</td><td>—</td><td data-value="0">—</td>';
      return `<td class="first" title="${d.before.robust}/${d.before.n}">${pct(rate(d.before))}</td><td title="${d.after.robust}/${d.after.n}">${pct(rate(d.after))}</td><td class="${tone(d.change)}" data-value="${d.change}">${h(signed(d.change))}</td>`;
    });
    return `<tr>${runColumn ? `<td class="text">${h(r.run)}</td>` : ''}<td class="text">${h(className(r.cls, view.classNames))}</td><td>${r.n}</td>${cells.join('')}</tr>`;
  });
  const head1 = `${runColumn ? '<th class="text" rowspan="2">run</th>' : ''}<th class="text" rowspan="2" data-sort><button type="button">class</button></th><th rowspan="2">n</th>${groups}`;
  return `<div class="table-wrap"><table class="sortable class-deltas"><thead><tr>${head1}</tr><tr>${sub}</tr></thead><tbody>${rows.join('')}</tbody></table></div>`;
}

/**
 * The per-class section of the compare and check pages: robust accuracy per true class in the
 * baseline and the run with the change (in points, red when it dropped), for the headline series
 * at each ε; each attack's own table, when there are several, folded below it.
 */
export function classDeltaSection(deltas: readonly ClassDelta[], view: ClassDeltaView = {}, notice?: string): string {
  if (deltas.length === 0) return notice ? `<section id="class-deltas"><h2>Per-class changes</h2><p class="note">${h(notice).replace(/`([^`]+)`/g, '<code>$1</code>')}</p></section>` : '';
  const label = view.seriesLabel ?? ((s: string) => s);
  const [headline, ...others] = classDeltaSeries(deltas);
  const perAttack = others.map((s) => `<h3>${h(label(s))}</h3>${htmlTable(grid(deltas, s), view)}`).join('');
  return `<section id="class-deltas"><h2>Per-class changes (${h(label(headline!))})</h2>
<p class="note">Robust accuracy of the examples of each true class, ${h(view.beforeLabel ?? 'before')} and ${h(view.afterLabel ?? 'after')}, and the change in points (red: dropped, green: rose); hover a figure for its count.</p>
${htmlTable(grid(deltas, headline!), view)}${others.length > 0 ? `<details><summary>Per attack (${others.length})</summary>${perAttack}</details>` : ''}</section>`;
}

/** "83.3% → 66.7% (−16.7)": one class at one ε, for the terminal and Markdown. */
export function classDeltaCell(d: ClassDelta | undefined): string {
  return d === undefined ? '—' : `${pct(rate(d.before))} → ${pct(rate(d.after))} (${signed(d.change)})`;
}

/** The headline series (or `series`) as rows of text cells: [run?, class, n, one cell per ε], with its header. */
export function classDeltaRows(deltas: readonly ClassDelta[], view: ClassDeltaView = {}, series = headlineClassSeries(deltas)): { head: string[]; rows: string[][] } {
  if (series === undefined) return { head: [], rows: [] };
  const g = grid(deltas, series);
  const runColumn = g.runs.length > 1;
  return {
    head: [...(runColumn ? ['run'] : []), 'class', 'n', ...g.eps.map((e) => `ε=${formatEps(e)}`)],
    rows: g.rows.map((r) => [...(runColumn ? [r.run] : []), className(r.cls, view.classNames), String(r.n), ...r.cells.map(classDeltaCell)]),
  };
}

/** Classes listed openly in Markdown; more are folded (a pull-request comment stays short). */
const OPEN_CLASSES = 20;

/** The headline series' per-class changes as Markdown lines (GitHub folds a long table into <details>). */
export function classDeltaMarkdown(deltas: readonly ClassDelta[], view: ClassDeltaView = {}): string[] {
  const series = headlineClassSeries(deltas);
  if (series === undefined) return [];
  const { head, rows } = classDeltaRows(deltas, view, series);
  const title = `**Per-class robust accuracy (${(view.seriesLabel ?? ((s: string) => s))(series)}):** ${view.beforeLabel ?? 'before'} → ${view.afterLabel ?? 'after'} (change in points)`;
  const body = markdownTable([head, ...rows].map((r) => r.map((c) => c.replaceAll('|', '\\|'))), { align: head.map((c) => (c === 'class' || c === 'run' ? 'l' : 'r')) });
  return rows.length > OPEN_CLASSES ? [title, '', `<details><summary>${rows.length} classes</summary>`, '', body, '', '</details>'] : [title, '', body];
}
