import escapeHtml from 'escape-html';
import type { Report } from '../harness/report-types.js';
import { className, type ExampleCaptions } from './captions.js';
import { divergingGradientCss } from './colormap.js';
import { attackLabel, backendLine, dataLine, documentTitle, type ReportDocument } from './document.js';
import { duration, formatEps, pct, points, withInterval, type Estimate } from './figures.js';
import { formatBudget } from '../number-format.js';
import { universalSection } from './universal-html.js';
import { FILTER_SCRIPT, SORT_SCRIPT } from './html-assets.js';
import { htmlPage } from './html-page.js';
import { FLAG_NOTE, rankLeaderboard, sanityCell, type Leaderboard } from './leaderboard.js';
import type { RegressionTable } from './regression-table.js';
import { sanitySection as everyRunSanitySection } from './compare-html.js';
import { fellAtDistribution } from './fell-at.js';
import { commandLine } from './invocation.js';
import { confusionSection, convergenceSection, fellAtSection, marginSection, minimalSection, perClassSection, seriesLabel, traceSection } from './html-analysis.js';
import { minimalDistributions } from './minimal-distribution.js';
import { CLASS_DELTA_STYLE, classDeltaSection } from './class-deltas.js';

/** One example of the image grid, with its images already encoded as data: URIs. */
export interface HtmlExample {
  captions: ExampleCaptions;
  /** What the page's grid filter selects on (absent: the card is always shown). */
  facets?: { attack: string; eps: number; label: number };
  clean: string;
  perturbation: string;
  adversarial: string;
}

/** What the page shows besides the document's figures, prepared by buildHtml. */
export interface HtmlAssets {
  /** Inline SVG of the robustness curves. */
  curvesSvg?: string;
  examples?: HtmlExample[];
  /** The same grid as one PNG (data: URI), offered for download. */
  gridPng?: string;
  /** Said near the image grid, e.g. why there are no images. */
  notes?: string[];
  /** Inline SVGs of the per-class, confusion, smallest-ε and convergence charts. */
  charts?: { perClass?: string; confusion?: string; fellAt?: string; convergence?: string; margin?: string; confidence?: string; traces?: string; minimal?: string };
  /** Names of the classes (index = label), for tables and captions. */
  classNames?: readonly string[];
}

/**
 * No request may leave the page: everything is inline and images are data: URIs. The policy
 * makes that a rule the browser enforces, not just a habit of this file.
 */

const h = (s: string | number) => escapeHtml(String(s));

/** An accuracy cell: the figure, its interval, and a small bar with the interval as whiskers. */
function accuracyCell(e: Estimate | undefined, options: { strong?: boolean; stacked?: boolean } = {}): string {
  if (e === undefined) return '<td data-value="-1">—</td>';
  const [lo, hi] = e.interval;
  const bar = `<span class="meter" style="--a:${(e.accuracy * 100).toFixed(2)}%;--lo:${(lo * 100).toFixed(2)}%;--hi:${(hi * 100).toFixed(2)}%" aria-hidden="true"><span class="fill"></span><span class="ci-bar"></span></span>`;
  const value = options.strong ? `<strong>${pct(e.accuracy)}</strong>` : pct(e.accuracy);
  const ci = `<span class="ci">[${pct(lo)}, ${pct(hi)}]</span>`;
  // Stacked (figure and bar, interval below) keeps wide tables such as the leaderboard narrow.
  return options.stacked ? `<td class="stacked" data-value="${e.accuracy}">${value}${bar}${ci}</td>` : `<td data-value="${e.accuracy}">${value} ${ci}${bar}</td>`;
}

const wrap = (table: string) => `<div class="table-wrap">${table}</div>`;

function kpi(label: string, value: string, detail: string, tone = ''): string {
  return `<div class="kpi ${tone}"><div class="label">${h(label)}</div><div class="value">${h(value)}</div><div class="detail">${h(detail)}</div></div>`;
}

function kpis(doc: ReportDocument): string {
  const cards: string[] = [];
  if (doc.regression) {
    const n = doc.regression.rows.filter((r) => r.verdict === 'regression').length;
    cards.push(kpi('regression check', doc.regression.passed ? 'PASS' : 'FAIL', `${n} of ${doc.regression.rows.length} figures regressed`, doc.regression.passed ? 'ok' : 'fail'));
  }
  const r = doc.report;
  if (r) {
    cards.push(kpi('clean accuracy', pct(r.clean.accuracy), `[${pct(r.clean.interval[0])}, ${pct(r.clean.interval[1])}] · ${r.clean.correct}/${r.clean.n}`));
    const worst = [...r.worstCase].sort((a, b) => b.eps - a.eps)[0];
    if (worst) cards.push(kpi(`${r.config.attacks.length > 1 ? 'worst case' : r.config.attacks[0]?.name ?? 'robust'} at ε=${formatEps(worst.eps)}`, pct(worst.accuracy), `[${pct(worst.interval[0])}, ${pct(worst.interval[1])}] · ${worst.correct}/${worst.n}`));
    const curve = r.curves?.at(-1);
    if (curve) cards.push(kpi('area under the curve', curve.normalizedArea.toFixed(3), `${curve.attack}, normalised to the ε range (1 = never fooled)`));
    const checks = r.sanity ?? [];
    const runs = doc.regression?.sanity;
    if (runs) {
      // A check: both runs counted, e.g. "before 6/7 · after 7/7" ("—" where the baseline recorded none).
      const flags = runs.reduce((k, x) => k + (x.checks ?? []).filter((c) => !c.ok).length, 0);
      const value = runs.map((x) => `${x.short ?? x.run} ${x.checks ? `${x.checks.filter((c) => c.ok).length}/${x.checks.length}` : '—'}`).join(' · ');
      cards.push(kpi('sanity checks', value, flags === 0 ? 'all passed' : `${flags} flagged: see below`, flags === 0 ? 'ok' : 'flag'));
    } else if (checks.length > 0) {
      const flags = checks.filter((c) => !c.ok).length;
      cards.push(kpi('sanity checks', `${checks.length - flags}/${checks.length}`, flags === 0 ? 'all passed' : `${flags} flagged: see below`, flags === 0 ? 'ok' : 'flag'));
    }
  }
  return cards.length > 0 ? `<div class="kpis">${cards.join('')}</div>` : '';
}

function regressionSection(reg: RegressionTable): string {
  // Paired checks know which examples changed: lost (robust before, not now) and gained.
  const paired = reg.rows.some((r) => r.lost !== undefined);
  const rows = reg.rows.map((r) => {
    const p = r.pValue === undefined ? '' : r.pValue < 1e-4 ? '&lt;0.0001' : r.pValue.toFixed(4);
    const changed = paired ? `<td class="lost">${r.lost ?? ''}</td><td class="gained">${r.gained ?? ''}</td>` : '';
    return `<tr class="${h(r.verdict.replaceAll(' ', '-'))}"><td>${h(r.figure)}</td><td>${r.eps === undefined ? '' : h(formatEps(r.eps))}</td>${accuracyCell(r.before, { stacked: true })}${accuracyCell(r.after, { stacked: true })}<td>${h(points(r.change))}</td>${changed}<td>${p}</td><td class="verdict text">${h(r.verdict === 'regression' ? 'REGRESSION' : r.verdict)}</td></tr>`;
  });
  const against = reg.baseline ? ` against <code>${h(reg.baseline)}</code>` : '';
  return `<section id="regression"><h2>Regression check <span class="badge ${reg.passed ? 'pass' : 'fail'}">${reg.passed ? 'PASS' : 'FAIL'}</span></h2>
<p class="note">Before and after${against}${reg.rule ? `; a regression is a ${h(reg.rule)}` : ''}.</p>
${wrap(`<table><thead><tr><th>figure</th><th>ε</th><th>before [95% CI]</th><th>after [95% CI]</th><th>change</th>${paired ? '<th>lost</th><th>gained</th>' : ''}<th>p</th><th class="text">verdict</th></tr></thead><tbody>${rows.join('')}</tbody></table>`)}</section>`;
}

/** A leaderboard as its section; `id` and `heading` let a page show several (one per ε). */
export function leaderboardSection(board: Leaderboard, options: { id?: string; heading?: string } = {}): string {
  const training = board.rows.some((r) => r.trainingSeconds !== undefined);
  const sortable = (label: string, text = false) => `<th data-sort${text ? ' class="text"' : ''}><button type="button">${h(label)}</button></th>`;
  const checked = board.rows.some((r) => r.flags !== undefined);
  const head = [sortable('#'), sortable('model', true), sortable('clean'), ...board.attacks.map((a) => sortable(a)), sortable('worst case'), ...(training ? [sortable('training')] : []), ...(checked ? [sortable('sanity', true)] : [])];
  const rows = rankLeaderboard(board.rows).map((r, i) => {
    const cells = [
      `<td data-value="${i + 1}">${i + 1}</td>`,
      `<td class="text">${h(r.name)}</td>`,
      accuracyCell(r.clean, { stacked: true }),
      ...board.attacks.map((a) => accuracyCell(r.attacks[a], { stacked: true })),
      accuracyCell(r.worstCase, { strong: true, stacked: true }),
      ...(training ? [r.trainingSeconds === undefined ? '<td data-value="-1">—</td>' : `<td data-value="${r.trainingSeconds}">${h(duration(r.trainingSeconds))}</td>`] : []),
      ...(checked ? [`<td class="text${(r.flags?.length ?? 0) > 0 ? ' flagged' : ''}">${h(sanityCell(board, r)!)}</td>`] : []),
    ];
    return `<tr>${cells.join('')}</tr>`;
  });
  const at = board.eps === undefined ? '' : ` at ε = ${formatEps(board.eps)}${board.norm ? ` (${board.norm})` : ''}`;
  return `<section id="${h(options.id ?? 'leaderboard')}"><h2>${h(options.heading ?? `Leaderboard${at}`)}</h2>
<p class="note">Ranked by worst-case accuracy; click a column to sort. Brackets are 95% Wilson intervals.</p>
${wrap(`<table class="sortable"><thead><tr>${head.join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`)}${[...(board.notes ?? []), ...(board.rows.some((r) => (r.flags?.length ?? 0) > 0) ? [FLAG_NOTE] : [])].map((n) => `<p class="note">${h(n)}</p>`).join('')}</section>`;
}

function curvesSection(report: Report, svg: string, runs?: readonly string[]): string {
  const sequential = report.config.mode === 'sequential' && report.config.attacks.length > 1;
  if (runs) {
    return `<section id="curves"><h2>Robustness curves</h2>
<figure class="chart">${svg}</figure>
<p class="caption">One colour per run (${h(runs.join(', '))}): the baseline's run and the re-run on the same ${report.data.size} examples; the worst case dashed; each line named at its end.${sequential ? ' A "+" curve is the accuracy after that attack and all before it.' : ''}</p></section>`;
  }
  return `<section id="curves"><h2>Robustness curves</h2>
<figure>${svg}</figure>
<p class="caption">Accuracy on the ${report.data.size} evaluated examples against the budget ε, with 95% Wilson intervals as bands; ε = 0 is the clean accuracy.${report.config.attacks.length > 1 ? ' The dashed line is the worst case: an example counts only if it survives every attack.' : ''}${sequential ? ' Sequential suite: a "+" curve is the accuracy after that attack and all before it.' : ''}</p></section>`;
}

function resultsSection(report: Report): string {
  const rows = report.results.map(
    (r) =>
      `<tr><td class="text">${h(attackLabel(report, r.attack, r.norm))}</td><td>${h(formatBudget(r.eps, r.norm))}</td>${accuracyCell(r)}<td>${pct(r.quantized.accuracy)}</td><td>${pct(r.success.rate)}</td><td>${r.perturbation.meanLinf.toFixed(4)}</td><td>${r.perturbation.meanL2.toFixed(4)}</td><td>${r.costs.gradients}</td></tr>`,
  );
  let worst = '';
  if (report.config.attacks.length > 1) {
    const w = report.worstCase.map((x) => `<tr><td class="text">worst case</td><td>${h(formatEps(x.eps))}</td>${accuracyCell(x, { strong: true })}<td>${pct(x.quantized.accuracy)}</td><td></td><td></td><td></td><td></td></tr>`);
    worst = w.join('');
  }
  return `<section id="results"><h2>Results</h2>
<p class="note">${h(dataLine(report))}; clean accuracy ${h(withInterval(report.clean))} (${report.clean.correct}/${report.clean.n}). 8-bit: the same images rounded to what a PNG holds.</p>
${wrap(`<table><thead><tr><th class="text">attack</th><th>ε</th><th>accuracy [95% CI]</th><th>8-bit</th><th>success</th><th>mean L∞</th><th>mean L2</th><th>gradients</th></tr></thead><tbody>${rows.join('')}${worst}</tbody></table>`)}</section>`;
}

function exampleCard(ex: HtmlExample): string {
  const c = ex.captions;
  const img = (src: string, what: string, lines: string, alt: string) =>
    `<figure><img src="${src}" alt="${h(alt)}" width="112" height="112"><figcaption><span class="what">${h(what)}</span>${lines}</figcaption></figure>`;
  const fate = `<span class="${c.fooled ? 'fooled' : 'held'}">${h(c.fate)}</span>`;
  const f = ex.facets;
  const data = f ? ` data-attack="${h(f.attack)}" data-eps="${f.eps}" data-fate="${c.fooled ? 'fooled' : 'robust'}" data-class="${f.label}"` : '';
  return `<article class="example"${data}><h3>${h(c.title)}</h3><div class="triple">${img(ex.clean, 'clean', h(c.clean), `clean image, predicted ${c.clean}`)}${img(ex.perturbation, 'perturbation', `${h(c.perturbation)}<br><span class="ci">${h(c.magnification)}</span>`, `perturbation of ${c.perturbation} in diverging colours, ${c.magnification}`)}${img(ex.adversarial, 'adversarial', `${h(c.adversarial)}<br>${fate}`, `adversarial image, predicted ${c.adversarial}`)}</div>${c.warning ? `<p class="warning">⚠ ${h(c.warning)}</p>` : ''}</article>`;
}

/**
 * Selects over the examples on the page, by attack, ε, fate and class (FILTER_SCRIPT hides the
 * other cards); only values some example has are offered, and no form when there is one card.
 */
function gridFilterForm(examples: HtmlExample[], classNames?: readonly string[]): string {
  const facets = examples.map((e) => e.facets).filter((f) => f !== undefined);
  if (facets.length < 2) return '';
  const select = (name: string, label: string, options: [string, string][]) =>
    `<label>${h(label)} <select name="${name}"><option value="">all</option>${options.map(([v, t]) => `<option value="${h(v)}">${h(t)}</option>`).join('')}</select></label>`;
  const attacks = [...new Set(facets.map((f) => f.attack))];
  const eps = [...new Set(facets.map((f) => f.eps))].sort((a, b) => a - b);
  const classes = [...new Set(facets.map((f) => f.label))].sort((a, b) => a - b);
  return `<form class="grid-filter" aria-label="filter the examples">${select('attack', 'attack', attacks.map((a) => [a, a]))}${select('eps', 'ε', eps.map((e) => [String(e), formatEps(e)]))}${select('fate', 'shown', [['fooled', 'fooled'], ['robust', 'robust (held)']])}${select('class', 'true class', classes.map((k) => [String(k), className(k, classNames)]))}<output class="grid-count">${facets.length} of ${facets.length} shown</output></form>`;
}

function examplesSection(assets: HtmlAssets): string {
  const examples = assets.examples ?? [];
  const notes = (assets.notes ?? []).map((n) => `<p class="note">${h(n)}</p>`).join('');
  if (examples.length === 0) return `<section id="examples"><h2>Examples</h2>${notes || '<p class="note">No images in this report.</p>'}</section>`;
  const fooled = examples.filter((e) => e.captions.fooled).length;
  const heading = fooled === examples.length ? 'Examples that fooled the model' : fooled === 0 ? 'Examples that held' : 'Examples that fooled the model, and some that held';
  const filter = gridFilterForm(examples, assets.classNames);
  const download = assets.gridPng ? ` <a class="download" download="advtest-grid.png" href="${assets.gridPng}">Download this grid as PNG</a>` : '';
  return `<section id="examples"><h2>${heading}</h2>
<div class="legend">Smallest ε first. Perturbation δ = adversarial − clean, magnified to full colour: <span>−</span><span class="ramp" style="background: linear-gradient(to right, ${divergingGradientCss()})"></span><span>+</span>${download}</div>
${notes}${filter}<div class="examples">${examples.map(exampleCard).join('')}</div><p class="note grid-empty" hidden>No example of this page matches the filter.</p></section>`;
}

function sanitySection(report: Report): string {
  const checks = report.sanity ?? [];
  if (checks.length === 0) return '';
  const items = checks.map(
    (c) => `<li class="${c.ok ? 'ok' : 'flag'}"><span class="mark">${c.ok ? '✓' : '✗'}</span>${h(c.message)}${!c.ok && c.advice ? `<span class="advice">Try: ${h(c.advice)}</span>` : ''}</li>`,
  );
  const flags = checks.filter((c) => !c.ok).length;
  return `<section id="sanity"><h2>Sanity checks: ${checks.length - flags}/${checks.length} passed</h2>
<p class="note">Signs that an evaluation overstates robustness (after Carlini et al. 2019 and AutoAttack's flags).</p><ul class="checks">${items.join('')}</ul></section>`;
}

/** The command line (or library call) that made the report, where and on what. */
function invocationEntries(report: Report): [string, string][] {
  const inv = report.timings.invocation;
  if (!inv) return [];
  return [
    [inv.command ? 'command' : 'made by', inv.command ? commandLine(inv.command) : `${inv.api ?? 'the advtest library'} (library call; its options are the configuration below)`],
    ...(inv.cwd ? ([['working folder', inv.cwd]] as [string, string][]) : []),
    ...(inv.platform ? ([['platform', inv.platform]] as [string, string][]) : []),
  ];
}

function provenanceSection(report: Report): string {
  const entries: [string, string][] = [
    ...invocationEntries(report),
    ['tool', `advtest ${report.tool.version}`],
    ['versions', `node ${report.versions.node} · tfjs ${report.versions.tfjs}`],
    ['backend', `${backendLine(report)}${report.backend.note ? ` — ${report.backend.note}` : ''}`],
    ['seed', String(report.seed)],
    ['config hash', report.configHash],
    ['attacks', report.config.attacks.map((a) => `${a.name} (${a.norm}) ${JSON.stringify(a.config)}`).join('\n')],
    ['ε', report.config.epsilons.map(formatEps).join(', ')],
    ['mode · target · batch', `${report.config.mode} · ${report.config.target} · ${report.config.batchSize}`],
    ['model', Object.entries(report.model).map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' · ')],
    ['data', `${dataLine(report)} · shape ${report.data.shape.join('×')}`],
    ['data fingerprint', report.data.fingerprint],
    ['created', `${report.timings.createdAt} · ${duration(report.timings.totalSeconds)}`],
  ];
  const dl = entries.map(([k, v]) => `<dt>${h(k)}</dt><dd>${h(v).replaceAll('\n', '<br>')}</dd>`).join('');
  return `<section id="provenance"><h2>Provenance</h2><dl class="provenance">${dl}</dl>
<details><summary>Full configuration (JSON)</summary><pre>${h(JSON.stringify(report.config, null, 2))}</pre></details></section>`;
}

/** The report as one self-contained HTML page: no network at open time, opens from disk. */
export function renderHtml(doc: ReportDocument, assets: HtmlAssets = {}): string {
  const title = documentTitle(doc);
  const r = doc.report;
  const sections: [string, string, string][] = [];
  if (doc.regression) sections.push(['regression', 'Regression', regressionSection(doc.regression)]);
  const reg = doc.regression;
  if (reg && (reg.classDeltas !== undefined || reg.classNotice !== undefined)) {
    const view = { ...(reg.classNames ? { classNames: reg.classNames } : {}), ...(r ? { seriesLabel: (s: string) => seriesLabel(r, s) } : {}) };
    sections.push(['class-deltas', 'Per-class changes', classDeltaSection(reg.classDeltas ?? [], view, reg.classNotice)]);
  }
  if (doc.leaderboard) sections.push(['leaderboard', 'Leaderboard', leaderboardSection(doc.leaderboard)]);
  if (r) {
    if (assets.curvesSvg) sections.push(['curves', 'Curves', curvesSection(r, assets.curvesSvg, doc.regression?.curves?.map((c) => c.label))]);
    const minimal = minimalDistributions(r);
    if (minimal.length > 0) sections.push(['minimal', 'Minimal attacks', minimalSection(minimal, assets.charts?.minimal)]);
    sections.push(['results', 'Results', resultsSection(r)]);
    if ((r.universal ?? []).length > 0) sections.push(['universal', 'Patch / UAP', universalSection(r)]);
    const charts = assets.charts ?? {};
    if ((r.perClass ?? []).length > 0) sections.push(['per-class', 'Per class', perClassSection(r, charts.perClass, assets.classNames)]);
    if ((r.confusion ?? []).length > 0) sections.push(['confusion', 'Confusion', confusionSection(r, charts.confusion, assets.classNames)]);
    if (r.examples.fellAt.length > 0) sections.push(['fell-at', 'Smallest ε', fellAtSection(r, fellAtDistribution(r), charts.fellAt)]);
    if ((r.convergence ?? []).length > 0) sections.push(['convergence', 'Convergence', convergenceSection(r, charts.convergence)]);
    if ((r.traces ?? []).length > 0) sections.push(['traces', 'Traces', traceSection(r, charts.traces)]);
    if ((r.margins ?? []).length > 0) sections.push(['margins', 'Margins', marginSection(r, { ...(charts.margin ? { margin: charts.margin } : {}), ...(charts.confidence ? { confidence: charts.confidence } : {}) })]);
    if (assets.examples || assets.notes) sections.push(['examples', 'Examples', examplesSection(assets)]);
    // A regression check: the baseline's checks beside the re-run's, as on the compare page.
    if (doc.regression?.sanity) sections.push(['sanity', 'Sanity checks', everyRunSanitySection(doc.regression.sanity)]);
    else if ((r.sanity ?? []).length > 0) sections.push(['sanity', 'Sanity checks', sanitySection(r)]);
    sections.push(['provenance', 'Provenance', provenanceSection(r)]);
  }
  const sub = r ? `${dataLine(r)} · ${r.config.attacks.map((a) => a.name).join(', ')} · ${r.timings.createdAt.slice(0, 10)}` : '';
  return htmlPage({
    title,
    ...(r ? { version: r.tool.version } : {}),
    sub,
    lead: kpis(doc),
    ...(doc.regression ? { style: CLASS_DELTA_STYLE } : {}),
    sections,
    script: `${SORT_SCRIPT}${FILTER_SCRIPT}`,
  });
}
