/** The page's stylesheet: inline, so that the file opens from disk with no network. */
export const STYLE = `
:root { --ink: #1d2330; --muted: #5b6475; --line: #e3e7ee; --bg: #f6f7f9; --card: #fff; --accent: #2f5fa7;
  --good: #2e7d4f; --good-bg: #e8f5ee; --bad: #b3261e; --bad-bg: #fdecea; --warn: #9a6700; --warn-bg: #fff6dc; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink); font: 14px/1.5 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", Roboto, Arial, sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 28px 24px 48px; }
header h1 { font-size: 24px; margin: 0 0 4px; letter-spacing: -0.01em; }
header .sub { color: var(--muted); margin: 0 0 18px; }
nav { display: flex; flex-wrap: wrap; gap: 6px; margin: 0 0 18px; }
nav a { color: var(--accent); background: var(--card); border: 1px solid var(--line); border-radius: 999px; padding: 2px 12px; text-decoration: none; font-size: 13px; }
.kpis { display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: 12px; margin-bottom: 18px; }
.kpi { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 12px 16px; }
.kpi .label { color: var(--muted); font-size: 12.5px; font-weight: 600; }
.kpi .value { font-size: 26px; font-weight: 650; font-variant-numeric: tabular-nums; }
.kpi .detail { color: var(--muted); font-size: 12px; font-variant-numeric: tabular-nums; }
.kpi.ok .value { color: var(--good); } .kpi.flag .value { color: var(--warn); } .kpi.fail .value { color: var(--bad); }
section { background: var(--card); border: 1px solid var(--line); border-radius: 12px; padding: 18px 22px; margin: 0 0 18px; }
section h2 { font-size: 17px; margin: 0 0 12px; }
section h3 { font-size: 14px; margin: 16px 0 8px; }
p.note, .caption { color: var(--muted); font-size: 13px; }
td.flagged { color: var(--warn); background: var(--warn-bg); }
figure { margin: 0; }
#curves figure svg, figure.chart svg { width: 100%; max-width: 100%; height: auto; }
figure.chart { margin: 0 0 8px; overflow-x: auto; }
table.per-class tfoot td { border-top: 2px solid var(--line); font-weight: 600; }
table.per-class th, table.per-class td { padding: 5px 7px; }
table.per-class th.group { text-align: center; border-left: 2px solid var(--line); }
table.per-class th.first { border-left: 2px solid var(--line); }
/* Wider than the card: the table scrolls inside it, the class names stay in view. */
table.per-class tr > :first-child { position: sticky; left: 0; background: var(--card); z-index: 1; }
table.per-class thead tr > :first-child { background: #fafbfc; }
table.confusion td.diag { color: var(--bad); font-weight: 700; background: #fbf3f2; }
table.confusion td.off { background: #eef3fa; }
table.confusion td.rowsum { color: var(--muted); border-left: 2px solid var(--line); }
p.note.flag { color: var(--bad); } p.note.ok { color: var(--good); }
details > .table-wrap { margin: 6px 0 10px; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { padding: 6px 10px; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap; }
th { font-size: 12px; color: var(--muted); font-weight: 600; background: #fafbfc; }
th:first-child, td:first-child, td.text, th.text { text-align: left; }
tbody tr:hover { background: #f3f6fb; }
th button { all: unset; cursor: pointer; }
th button::after { content: " ⇅"; color: #b0b7c3; }
th[aria-sort="ascending"] button::after { content: " ↑"; color: var(--accent); }
th[aria-sort="descending"] button::after { content: " ↓"; color: var(--accent); }
.ci { color: var(--muted); font-size: 12px; }
.table-wrap { overflow-x: auto; }
td.stacked .ci { display: block; line-height: 1.2; }
.meter { display: inline-block; position: relative; width: 72px; height: 8px; background: #edf0f4; border-radius: 4px; margin-left: 8px; vertical-align: middle; }
.meter .fill { position: absolute; left: 0; top: 0; bottom: 0; width: var(--a); background: var(--accent); border-radius: 4px; opacity: 0.75; }
.meter .ci-bar { position: absolute; top: -2px; bottom: -2px; left: var(--lo); width: calc(var(--hi) - var(--lo)); border-left: 1.5px solid var(--ink); border-right: 1.5px solid var(--ink); }
tr.regression td { background: var(--bad-bg); } tr.regression td.verdict { color: var(--bad); font-weight: 700; }
tr.improved td.verdict { color: var(--good); font-weight: 600; }
.badge { display: inline-block; border-radius: 6px; padding: 1px 8px; font-weight: 700; font-size: 12px; }
.badge.pass { background: var(--good-bg); color: var(--good); } .badge.fail { background: var(--bad-bg); color: var(--bad); }
.examples { display: grid; grid-template-columns: repeat(auto-fill, minmax(360px, 1fr)); gap: 14px; }
.example { border: 1px solid var(--line); border-radius: 10px; padding: 10px 12px; background: #fcfcfd; }
.example h3 { margin: 0 0 8px; font-size: 12px; font-weight: 600; color: var(--muted); word-break: break-all; }
.triple { display: flex; gap: 8px; }
.triple figure { text-align: center; }
.triple img { width: 112px; height: 112px; image-rendering: pixelated; border-radius: 4px; border: 1px solid var(--line); display: block; }
.triple figcaption { font-size: 12px; margin-top: 4px; font-variant-numeric: tabular-nums; }
.triple figcaption .what { display: block; color: var(--muted); font-size: 11px; text-transform: uppercase; letter-spacing: 0.04em; }
.example .fooled { color: var(--bad); font-weight: 600; } .example .held { color: var(--good); font-weight: 600; }
.example .warning { color: var(--bad); font-size: 12px; margin: 6px 0 0; }
.grid-filter { display: flex; flex-wrap: wrap; align-items: center; gap: 6px 16px; margin: 0 0 12px; font-size: 13px; color: var(--muted); }
.grid-filter select { font: inherit; color: var(--ink); padding: 2px 6px; border: 1px solid var(--line); border-radius: 6px; background: var(--card); }
.grid-filter output { margin-left: auto; font-variant-numeric: tabular-nums; }
.example[hidden] { display: none; }
.legend { display: flex; align-items: center; gap: 8px; color: var(--muted); font-size: 12px; margin: 0 0 12px; }
.legend .ramp { width: 160px; height: 10px; border-radius: 3px; border: 1px solid var(--line); }
ul.checks { list-style: none; padding: 0; margin: 0; }
ul.checks li { padding: 6px 0; border-bottom: 1px solid var(--line); }
ul.checks li:last-child { border-bottom: 0; }
ul.checks .mark { display: inline-block; width: 22px; font-weight: 700; }
ul.checks .ok .mark { color: var(--good); } ul.checks .flag .mark { color: var(--bad); }
ul.checks .advice { display: block; margin-left: 22px; color: var(--muted); font-size: 13px; }
dl.provenance { display: grid; grid-template-columns: max-content 1fr; gap: 4px 18px; margin: 0; }
dl.provenance dt { color: var(--muted); }
dl.provenance dd { margin: 0; font-family: ui-monospace, "DejaVu Sans Mono", Menlo, monospace; font-size: 12.5px; word-break: break-all; }
details summary { cursor: pointer; color: var(--accent); margin-top: 12px; }
pre { background: #f3f5f8; border-radius: 8px; padding: 10px 12px; overflow-x: auto; font-size: 12px; }
a.download { color: var(--accent); margin-left: 12px; }
footer { color: var(--muted); font-size: 12px; text-align: center; }
`;

/**
 * Sorts a table on a click on a header button: numeric by the cells' data-value, else by text.
 * A few lines of plain DOM code, so the page needs no library at open time.
 */
export const SORT_SCRIPT = `
for (const th of document.querySelectorAll('table.sortable th[data-sort]')) {
  th.querySelector('button').addEventListener('click', () => {
    const table = th.closest('table');
    const body = table.tBodies[0];
    // data-column: a header in a second header row, whose cellIndex is not its column's.
    const column = th.dataset.column === undefined ? th.cellIndex : Number(th.dataset.column);
    const dir = th.getAttribute('aria-sort') === 'descending' ? 1 : -1;
    for (const other of table.querySelectorAll('th')) other.removeAttribute('aria-sort');
    th.setAttribute('aria-sort', dir === 1 ? 'ascending' : 'descending');
    const key = (row) => {
      const cell = row.cells[column];
      return cell.dataset.value === undefined ? cell.textContent.trim() : Number(cell.dataset.value);
    };
    const rows = [...body.rows].sort((a, b) => {
      const x = key(a), y = key(b);
      return (typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y))) * dir;
    });
    for (const row of rows) body.appendChild(row);
  });
}
`;

/**
 * The image grid's filter: hides the example cards whose data-* attributes do not match every
 * chosen value, and says how many are shown.
 */
export const FILTER_SCRIPT = `
for (const form of document.querySelectorAll('form.grid-filter')) {
  const section = form.closest('section');
  const cards = [...section.querySelectorAll('.example[data-attack]')];
  const apply = () => {
    const chosen = [...form.querySelectorAll('select')].filter((s) => s.value !== '');
    let shown = 0;
    for (const card of cards) {
      const match = chosen.every((s) => card.dataset[s.name] === s.value);
      card.hidden = !match;
      if (match) shown++;
    }
    form.querySelector('output').textContent = shown + ' of ' + cards.length + ' shown';
    section.querySelector('.grid-empty').hidden = shown > 0;
  };
  form.addEventListener('change', apply);
  form.addEventListener('submit', (e) => e.preventDefault());
}
`;
