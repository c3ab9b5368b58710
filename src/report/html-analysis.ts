import escapeHtml from 'escape-html';
import type { ConfusionCounts, Report } from '../harness/report-types.js';
import { MANY_CLASSES } from './analysis-charts.js';
import { classCount, denseConfusion, WORST_CASE } from './breakdown.js';
import { className } from './captions.js';
import { convergenceCheck, lastRestartFound, runSummaries } from './convergence.js';
import { attackLabel } from './document.js';
import type { FellAtDistribution } from './fell-at.js';
import type { MinimalDistribution } from './minimal-distribution.js';
import { formatEps, pct } from './figures.js';

const h = (s: string | number) => escapeHtml(String(s));
const wrap = (table: string) => `<div class="table-wrap">${table}</div>`;

/** The column name of a series: the attack as the results table names it, or "worst case". */
export function seriesLabel(report: Report, attack: string): string {
  if (attack === WORST_CASE) return WORST_CASE;
  const norm = report.config.attacks.find((a) => a.name === attack)?.norm ?? 'linf';
  return attackLabel(report, attack, norm);
}

/** The series a single view shows: the worst case when there are several attacks, else the attack. */
export function headlineSeries(report: Report): string {
  return report.config.attacks.length > 1 ? WORST_CASE : (report.config.attacks[0]?.name ?? WORST_CASE);
}

/** Per class: examples, clean accuracy and robust accuracy per series and ε, with a total row that is the overall figure. */
export function perClassSection(report: Report, svg: string | undefined, classNames?: readonly string[]): string {
  const figures = report.perClass ?? [];
  if (figures.length === 0) return '';
  const k = figures[0]!.n.length;
  const cell = (robust: number, n: number) => `<td data-value="${n === 0 ? -1 : robust / n}" title="${robust}/${n}">${n === 0 ? '—' : pct(robust / n)}</td>`;
  // Two header rows (the series over its ε) keep the columns as narrow as their figures.
  const series = [...new Set(figures.map((f) => f.attack))];
  const groups = series.map((a) => `<th class="group" colspan="${figures.filter((f) => f.attack === a).length}">${h(seriesLabel(report, a))}</th>`).join('');
  const head = figures.map((f, i) => `<th title="${h(seriesLabel(report, f.attack))} at ε=${h(formatEps(f.eps))}"${i === 0 || figures[i - 1]!.attack !== f.attack ? ' class="first"' : ''}>ε=${h(formatEps(f.eps))}</th>`).join('');
  const first = figures[0]!;
  const rows: string[] = [];
  for (let c = 0; c < k; c++) {
    if (first.n[c] === 0) continue;
    rows.push(`<tr><td class="text">${h(className(c, classNames))}</td><td>${first.n[c]}</td>${cell(first.clean[c]!, first.n[c]!)}${figures.map((f) => cell(f.robust[c]!, f.n[c]!)).join('')}</tr>`);
  }
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const n = sum(first.n);
  const total = `<tr class="total"><td class="text"><strong>all</strong></td><td>${n}</td>${cell(sum(first.clean), n)}${figures.map((f) => cell(sum(f.robust), n)).join('')}</tr>`;
  return `<section id="per-class"><h2>Per-class robust accuracy</h2>
${svg ? `<figure class="chart">${svg}</figure>` : ''}
<p class="caption">Robust accuracy of the examples of each true class (correct clean and still correct after the attack); hover a cell for the count. The last row is the overall figure of the results table: the class counts add up to it.</p>
${wrap(`<table class="sortable per-class"><thead><tr><th class="text" rowspan="2" data-sort><button type="button">class</button></th><th rowspan="2">n</th><th rowspan="2">clean</th>${groups}</tr><tr>${head}</tr></thead><tbody>${rows.join('')}</tbody><tfoot>${total}</tfoot></table>`)}</section>`;
}

function confusionTable(c: ConfusionCounts, k: number, classNames?: readonly string[]): string {
  const m = denseConfusion(c, k);
  const used = Array.from({ length: k }, (_, i) => i).filter((i) => m[i]!.some((x) => x > 0) || m.some((row) => row[i]! > 0));
  const head = used.map((p) => `<th>${h(className(p, classNames))}</th>`).join('');
  const rows = used.map((y) => {
    const total = m[y]!.reduce((a, b) => a + b, 0);
    const cells = used.map((p) => `<td class="${p === y ? 'diag' : m[y]![p]! > 0 ? 'off' : ''}">${m[y]![p]! || ''}</td>`).join('');
    return `<tr><th class="text">${h(className(y, classNames))}</th>${cells}<td class="rowsum">${total}</td></tr>`;
  });
  return wrap(`<table class="confusion"><thead><tr><th class="text">true ↓ · predicted →</th>${head}<th>n</th></tr></thead><tbody>${rows.join('')}</tbody></table>`);
}

/** Confusions listed per ε of the headline series. */
const TOP_CONFUSIONS = 15;

/**
 * Many classes: instead of K × K matrices, per ε of the headline series its commonest confusions
 * (true class → adversarial prediction), each with its share of the true class's examples.
 */
function commonestConfusions(report: Report, headline: string, k: number, classNames?: readonly string[]): string {
  const cells = (report.confusion ?? []).filter((c) => c.attack === headline).sort((a, b) => b.eps - a.eps);
  const sizes = new Array<number>(k).fill(0);
  for (const y of report.examples.labels) sizes[y]!++;
  const blocks = cells.map((c, i) => {
    const off = c.counts.filter(([y, p]) => y !== p).sort((a, b) => b[2] - a[2] || a[0] - b[0] || a[1] - b[1]);
    const rows = off
      .slice(0, TOP_CONFUSIONS)
      .map(([y, p, n]) => `<tr><td class="text">${h(className(y, classNames))}</td><td class="text">${h(className(p, classNames))}</td><td>${n}</td><td>${pct(n / sizes[y]!)}</td></tr>`)
      .join('');
    const more = off.length > TOP_CONFUSIONS ? `<p class="note">${off.length - TOP_CONFUSIONS} more pairs in the JSON report.</p>` : '';
    const body = off.length === 0 ? '<p class="note">No example changed class.</p>' : `${wrap(`<table class="confusion-top"><thead><tr><th class="text">true class</th><th class="text">predicted after the attack</th><th>examples</th><th>of the class</th></tr></thead><tbody>${rows}</tbody></table>`)}${more}`;
    return `<details${i === 0 ? ' open' : ''}><summary>${h(seriesLabel(report, headline))} at ε = ${h(formatEps(c.eps))}: ${off.reduce((a, x) => a + x[2], 0)} examples changed class</summary>${body}</details>`;
  });
  return `<p class="note">${k} classes: a ${k} × ${k} matrix would not be readable, so the commonest confusions (those wrong clean included) are listed instead; the full matrices are in the JSON report (confusion, as [label, prediction, count]).</p>${blocks.join('')}`;
}

/** The heatmaps of the headline series, then every (series, ε) as a table (dense up to 20 classes). */
export function confusionSection(report: Report, svg: string | undefined, classNames?: readonly string[]): string {
  const all = report.confusion ?? [];
  if (all.length === 0) return '';
  const k = classCount(report, report.probe?.numClasses);
  const headline = headlineSeries(report);
  const tables =
    k <= MANY_CLASSES
      ? all
          .map((c) => {
            const open = c.attack === headline && c.eps === Math.max(...report.config.epsilons) ? ' open' : '';
            return `<details${open}><summary>${h(seriesLabel(report, c.attack))} at ε = ${h(formatEps(c.eps))}</summary>${confusionTable(c, k, classNames)}</details>`;
          })
          .join('')
      : commonestConfusions(report, headline, k, classNames);
  return `<section id="confusion"><h2>Confusion: clean label → adversarial prediction</h2>
${svg ? `<figure class="chart">${svg}</figure>` : ''}
${k <= MANY_CLASSES ? `<p class="caption">Rows are the true classes, columns what the model predicts after the attack (${h(seriesLabel(report, headline))} in the heatmaps); the diagonal (red numbers) holds the examples that stayed correct, and each row adds up to the examples of its class (those wrong clean keep their clean prediction).</p>` : ''}
${tables}</section>`;
}

/** The smallest breaking ε: chart, median with its interval, and the CDF next to 1 − worst-case accuracy. */
export function fellAtSection(report: Report, dist: FellAtDistribution, svg: string | undefined): string {
  const m = dist.median;
  const show = (v: number | null) => (v === null ? `> ${formatEps(Math.max(...dist.epsilons))}` : formatEps(v));
  const worst = (eps: number) => report.worstCase.find((w) => w.eps === eps);
  const rows = dist.cdf
    .map((c, i) => {
      const w = worst(c.eps);
      const recovered = dist.recovered[i]!.count;
      return `<tr><td>${h(formatEps(c.eps))}</td><td>${dist.histogram[i]!.count}</td><td>${pct(c.fraction)}</td><td>${c.eps === 0 ? pct(1 - report.clean.accuracy) : w ? pct(1 - w.accuracy) : '—'}</td><td>${recovered > 0 ? recovered : ''}</td></tr>`;
    })
    .join('');
  const recovered = dist.recovered.some((r) => r.count > 0)
    ? ' Where the last column is not empty, examples fooled at a smaller ε held at this one (the attack is not monotone in ε), so the CDF exceeds 1 − accuracy by that many.'
    : '';
  return `<section id="fell-at"><h2>Smallest breaking ε</h2>
${svg ? `<figure class="chart">${svg}</figure>` : ''}
<p class="caption">For each of the ${dist.n} examples, the smallest evaluated ε at which it was no longer classified correctly (worst case over attacks; 0 if wrong clean, "held" if never fooled). <strong>Median ${h(show(m.value))}</strong>, 95% interval [${h(show(m.interval[0]))}, ${h(show(m.interval[1]))}] (order statistics, distribution-free; ε is only known on the evaluated grid).${recovered}</p>
${wrap(`<table class="fell-at"><thead><tr><th>ε</th><th>fell here</th><th>CDF (fell at ≤ ε)</th><th>1 − robust accuracy</th><th>held again</th></tr></thead><tbody>${rows}<tr><td>held</td><td>${dist.held}</td><td></td><td></td><td></td></tr></tbody></table>`)}</section>`;
}

/** The per-iteration progress of the iterative attacks and what the sanity card concluded from it. */
export function convergenceSection(report: Report, svg: string | undefined): string {
  const traces = report.convergence ?? [];
  if (traces.length === 0) return '';
  const check = convergenceCheck(traces);
  const verdict = check?.ok
    ? '<p class="note ok">Every iterative attack had stopped gaining by its last iterations.</p>'
    : `<p class="note flag">✗ ${h(check?.message ?? '')}. ${h(check?.advice ?? '')}</p>`;
  const restarted = traces.filter((t) => (t.restarts ?? []).length > 0);
  const runRows = restarted
    .flatMap((t) =>
      runSummaries(t).map(
        (r, k, all) =>
          `<tr><td class="text">${h(seriesLabel(report, t.attack))}</td><td>${h(formatEps(t.eps))}</td><td>${r.run === 0 ? 'first' : `restart ${r.run}`}</td><td>${r.attacked}</td><td${k === all.length - 1 && lastRestartFound(t) ? ' class="flagged"' : ''}>${r.fooled}</td><td>${pct(r.robustAfter)}</td><td>${r.iterations}</td></tr>`,
      ),
    )
    .join('');
  const runs = runRows
    ? `<p class="caption">Per run, as AutoAttack reports its restarts: each restart (for APGD-T, each further target rank too) attacks only the examples the runs before it left standing; "robust after" is of the examples the first run attacked. A last restart that still fools examples means more restarts would likely find more.</p>
${wrap(`<table class="runs"><thead><tr><th class="text">attack</th><th>ε</th><th>run</th><th>attacked</th><th>fooled</th><th>robust after</th><th>iterations</th></tr></thead><tbody>${runRows}</tbody></table>`)}`
    : '';
  return `<section id="convergence"><h2>Convergence of the iterative attacks</h2>
${svg ? `<figure class="chart">${svg}</figure>` : ''}
<p class="caption">Per iteration of each attack run, summed over every batch: the fraction of the attacked examples not yet fooled, and the mean loss the attack ascends.${restarted.length > 0 ? ' Restarts follow their first run to the right, on its scale.' : ''} A curve still falling at its end means more steps would likely find more.</p>
${verdict}${runs}</section>`;
}

/** Adversarial examples of a margin cell left of 0 (misclassified): 0 is always a bin edge. */
export function belowZero(m: NonNullable<Report['margins']>[number]): number {
  return m.margin.edges.slice(0, -1).reduce((a, e, k) => a + (e < 0 ? m.margin.adversarial[k]! : 0), 0);
}

/** A logit margin as the tables print it: three significant digits, whole numbers from 100. */
export const marginNumber = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toPrecision(3));

/** The margin and confidence histograms, and their medians with the misclassified count per cell. */
export function marginSection(report: Report, svgs: { margin?: string; confidence?: string }): string {
  const cells = report.margins ?? [];
  if (cells.length === 0) return '';
  const below = belowZero;
  const num = marginNumber;
  const rows = cells
    .map((m) => `<tr><td class="text">${h(seriesLabel(report, m.attack))}</td><td>${h(formatEps(m.eps))}</td><td>${m.n}</td><td>${num(m.margin.median.clean)}</td><td>${num(m.margin.median.adversarial)}</td><td>${pct(m.confidence.median.clean)}</td><td>${pct(m.confidence.median.adversarial)}</td><td>${below(m)}</td></tr>`)
    .join('');
  return `<section id="margins"><h2>Margins and confidence, clean vs adversarial</h2>
${svgs.margin ? `<figure class="chart">${svgs.margin}</figure>` : ''}
${svgs.confidence ? `<figure class="chart">${svgs.confidence}</figure>` : ''}
<p class="caption">Over the ${cells[0]!.n} examples correct clean: the logit of the true class minus the largest other logit (left of the dashed line at 0 the model is wrong), and the probability of the top class, on the clean images (blue, the same in every panel) and after the attack (red). Adversarial mass just below 0 means minimal-looking breaks; a clean margin far above 0 that the attack cannot push below it is robustness.</p>
${wrap(`<table><thead><tr><th class="text">attack</th><th>ε</th><th>n</th><th>median margin clean</th><th>adversarial</th><th>median confidence clean</th><th>adversarial</th><th>margin &lt; 0</th></tr></thead><tbody>${rows}</tbody></table>`)}</section>`;
}

/** The per-example traces of --trace: the chart and, per traced example, where it ended. */
export function traceSection(report: Report, svg: string | undefined): string {
  const traces = report.traces ?? [];
  if (traces.length === 0) return '';
  const last = (xs: (number | null)[]) => [...xs].reverse().find((v) => v !== null) ?? null;
  const show = (v: number | null) => (v === null ? '—' : v.toPrecision(3));
  const rows = traces
    .map((t) => `<tr><td class="text">${h(t.id)}</td><td>${t.index}</td><td class="text">${h(seriesLabel(report, t.attack))}</td><td>${h(formatEps(t.eps))}</td><td>${t.loss.length - 1}${t.truncated ? '+' : ''}</td><td>${show(last(t.loss))}</td><td>${show(last(t.margin))}</td></tr>`)
    .join('');
  return `<section id="traces"><h2>Traced examples</h2>
${svg ? `<figure class="chart">${svg}</figure>` : ''}
<p class="caption">Per iteration of each iterative attack's first run, the loss it ascends and the margin of its label (true class, or target when targeted) for the examples given to --trace; a margin below 0 means the attack succeeded at that iterate (APGD records no margin). An example appears only where the attack ran on it: correct clean, and in a sequential suite not already fooled by an earlier attack. At most 1000 iterations per example are kept (a "+" marks more).</p>
${wrap(`<table><thead><tr><th class="text">example</th><th>position</th><th class="text">attack</th><th>ε</th><th>iterations</th><th>last loss</th><th>last margin</th></tr></thead><tbody>${rows}</tbody></table>`)}</section>`;
}

/** The minimal attacks' per-example smallest perturbations, next to the fixed-ε curves. */
export function minimalSection(dists: MinimalDistribution[], svg: string | undefined): string {
  if (dists.length === 0) return '';
  const num = (v: number | null) => (v === null ? '∞ (over half not found)' : v.toPrecision(4));
  const rows = dists
    .map((d) => `<tr><td class="text">${h(d.attack)}</td><td>${h(d.norm === 'linf' ? 'L∞' : d.norm.toUpperCase())}</td><td>${d.found}/${d.of}</td><td>${h(num(d.median))}</td><td>${h(d.mean === null ? '—' : d.mean.toPrecision(4))}</td></tr>`)
    .join('');
  return `<section id="minimal"><h2>Smallest perturbation found (minimal attacks)</h2>
${svg ? `<figure class="chart">${svg}</figure>` : ''}
<p class="caption">Minimal attacks look for each example's closest adversarial without a budget; an example is broken at ε iff that distance is within ε, so the CDF is the attack's whole success-rate curve, and the rings (the fraction the evaluation judged fooled at each evaluated ε) sit on it. The median counts an example with no adversarial found as infinitely far; the mean is over those found. Over the examples correct clean.</p>
${wrap(`<table><thead><tr><th class="text">attack</th><th>norm</th><th>found</th><th>median</th><th>mean (found)</th></tr></thead><tbody>${rows}</tbody></table>`)}</section>`;
}
