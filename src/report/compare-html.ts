import escapeHtml from 'escape-html';
import { formatEps } from '../number-format.js';
import { CLASS_DELTA_STYLE, classDeltaMarkdown, classDeltaSection } from './class-deltas.js';
import type { SanityCheck } from '../harness/report-types.js';
import type { Comparison } from './compare.js';
import { backendLine, dataLine } from './document.js';
import { pct, points } from './figures.js';
import { SORT_SCRIPT } from './html-assets.js';
import { htmlPage } from './html-page.js';
import { seriesLabel } from './html-analysis.js';
import { commandLine } from './invocation.js';

const h = (s: string | number) => escapeHtml(String(s));
const wrap = (table: string) => `<div class="table-wrap">${table}</div>`;
/** Ids listed per cell before "… (+k more)". */
const MAX_IDS = 12;

function ids(list: string[]): string {
  if (list.length === 0) return '';
  const more = list.length > MAX_IDS ? ` … (+${list.length - MAX_IDS} more)` : '';
  return `<span class="ci" title="${h(list.join(', '))}">${h(list.slice(0, MAX_IDS).join(', '))}${h(more)}</span>`;
}

function runsSection(c: Comparison): string {
  const rows = c.runs.map((r, i) => {
    const rep = r.report;
    const inv = rep.timings.invocation;
    const made = inv?.command ? commandLine(inv.command) : (inv?.api ?? '');
    return `<tr><td class="text">${i === 0 ? '<strong>baseline</strong> ' : ''}${h(r.label)}</td><td class="text">${h(String(rep.model.path ?? rep.model.name ?? '?'))}</td><td class="text">${h(dataLine(rep))}</td><td>${pct(rep.clean.accuracy)}</td><td class="text">${h(rep.config.attacks.map((a) => a.name).join(', '))}</td><td class="text">${h(rep.config.epsilons.map(formatEps).join(', '))}</td><td class="text"><code>${h(made)}</code><br><span class="ci">advtest ${h(rep.tool.version)} · ${h(backendLine(rep))} · seed ${rep.seed} · config ${h(rep.configHash.slice(0, 12))}</span></td></tr>`;
  });
  return `<section id="runs"><h2>Runs</h2>${wrap(`<table><thead><tr><th class="text">run</th><th class="text">model</th><th class="text">data</th><th>clean</th><th class="text">attacks</th><th class="text">ε</th><th class="text">made by</th></tr></thead><tbody>${rows.join('')}</tbody></table>`)}</section>`;
}

function lostGainedSection(c: Comparison): string {
  if (!c.sameExamples) {
    return '<section id="lost-gained"><h2>Lost and gained examples</h2><p class="note">The runs evaluated different examples (their data fingerprints differ): no per-example comparison.</p></section>';
  }
  const base = c.runs[0]!;
  const rows = c.lostGained.map(
    (r) =>
      `<tr class="${r.lost.length > r.gained.length ? 'worse' : ''}"><td class="text">${h(r.run)}</td><td class="text">${h(seriesLabel(base.report, r.series))}</td><td>${h(formatEps(r.eps))}</td><td>${pct(r.before / r.n)}</td><td>${pct(r.after / r.n)}</td><td>${h(points((r.after - r.before) / r.n))}</td><td class="lost">${r.lost.length}</td><td class="gained">${r.gained.length}</td><td class="text">${ids(r.lost)}</td><td class="text">${ids(r.gained)}</td></tr>`,
  );
  return `<section id="lost-gained"><h2>Lost and gained examples</h2>
<p class="note">Against the baseline <strong>${h(base.label)}</strong>, matched by example id: lost = robust in the baseline and not in the run, gained = the reverse. The change in accuracy is gained − lost.</p>
${wrap(`<table class="sortable"><thead><tr><th class="text" data-sort><button type="button">run</button></th><th class="text">figure</th><th>ε</th><th>baseline</th><th>run</th><th>change</th><th data-sort><button type="button">lost</button></th><th data-sort><button type="button">gained</button></th><th class="text">lost ids</th><th class="text">gained ids</th></tr></thead><tbody>${rows.join('')}</tbody></table>`)}</section>`;
}

/** The per-class changes against the first run, every series; the runs named as on the rest of the page. */
function classDeltas(c: Comparison): string {
  const base = c.runs[0]!;
  const others = c.runs.slice(1);
  return classDeltaSection(c.classDeltas, {
    beforeLabel: base.label,
    afterLabel: others.length === 1 ? others[0]!.label : 'run',
    seriesLabel: (s) => seriesLabel(base.report, s),
  });
}

/** One run's sanity checks; `checks` absent = the run did not record them (a baseline of an older advtest). */
export interface RunSanity {
  run: string;
  checks?: readonly SanityCheck[];
}

/** Every sanity check of several runs, one block per run (the compare page and the check page). */
export function sanitySection(runs: readonly RunSanity[]): string {
  const blocks = runs.map(({ run, checks }) => {
    if (checks === undefined) return `<div><h3>${h(run)}: not recorded</h3><p class="note">This baseline was made by an older advtest, which did not store its sanity checks; re-create it with <code>advtest baseline … --force</code> to see them.</p></div>`;
    const flags = checks.filter((x) => !x.ok).length;
    const items = checks.map((x) => `<li class="${x.ok ? 'ok' : 'flag'}"><span class="mark">${x.ok ? '✓' : '✗'}</span>${h(x.message)}${!x.ok && x.advice ? `<span class="advice">Try: ${h(x.advice)}</span>` : ''}</li>`);
    return `<div><h3>${h(run)}: ${checks.length - flags}/${checks.length} passed</h3>${checks.length === 0 ? '<p class="note">No sanity checks in this report.</p>' : `<ul class="checks">${items.join('')}</ul>`}</div>`;
  });
  // Side by side where the page is wide enough, one under the other where it is not.
  return `<section id="sanity"><h2>Sanity checks of every run</h2><div class="run-checks" style="display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 0 28px">${blocks.join('')}</div></section>`;
}

/** The comparison as one self-contained page (no network at open time). */
export function renderCompareHtml(c: Comparison, curvesSvg: string, title = `Comparison of ${c.runs.map((r) => r.label).join(', ')}`): string {
  const sections: [string, string, string][] = [
    ['runs', 'Runs', runsSection(c)],
    ['curves', 'Curves', `<section id="curves"><h2>Robustness curves</h2><figure class="chart">${curvesSvg}</figure><p class="caption">One colour per run; the worst case dashed; each line named at its end.</p></section>`],
    ['lost-gained', 'Lost / gained', lostGainedSection(c)],
    ['class-deltas', 'Per class', classDeltas(c)],
    ['sanity', 'Sanity checks', sanitySection(c.sanity)],
  ];
  return htmlPage({
    title,
    sub: `${c.runs.length} runs · baseline ${c.runs[0]!.label}`,
    style: CLASS_DELTA_STYLE,
    sections,
    script: SORT_SCRIPT,
  });
}

/** The lost/gained table as GitHub-flavoured Markdown lines (for the terminal and pull requests). */
export function compareMarkdown(c: Comparison): string {
  const lines = [`### Comparison against ${c.runs[0]!.label}`, ''];
  if (!c.sameExamples) return [...lines, 'The runs evaluated different examples: no per-example comparison.', ''].join('\n');
  lines.push('| run | figure | ε | baseline | run | change | lost | gained |', '| :-- | :-- | --: | --: | --: | --: | --: | --: |');
  for (const r of c.lostGained) {
    lines.push(`| ${r.run} | ${seriesLabel(c.runs[0]!.report, r.series)} | ${formatEps(r.eps)} | ${pct(r.before / r.n)} | ${pct(r.after / r.n)} | ${points((r.after - r.before) / r.n)} | ${r.lost.length} | ${r.gained.length} |`);
  }
  const others = c.runs.slice(1);
  const perClass = classDeltaMarkdown(c.classDeltas, { beforeLabel: c.runs[0]!.label, afterLabel: others.length === 1 ? others[0]!.label : 'run', seriesLabel: (s) => seriesLabel(c.runs[0]!.report, s) });
  if (perClass.length > 0) lines.push('', ...perClass);
  for (const { run, checks } of c.sanity) {
    const flags = checks.filter((x) => !x.ok);
    lines.push('', `Sanity checks of ${run}: ${checks.length - flags.length}/${checks.length} passed${flags.length ? `, flagged: ${flags.map((f) => f.id).join(', ')}` : ''}`);
  }
  return lines.join('\n') + '\n';
}
