import escapeHtml from 'escape-html';
import type { TopLevelSpec } from 'vega-lite';
import { duration, pct } from '../report/figures.js';
import { htmlPage } from '../report/html-page.js';
import { CHART_CONFIG, COLOURS, specToSvg } from '../report/vega-svg.js';
import { ABSTAIN } from './procedures.js';
import type { CertifyReport } from './report.js';

/** As the evaluation page (src/report/html.ts): the browser itself forbids any request. */

const h = (s: string | number) => escapeHtml(String(s));

export const CERTIFIED_SERIES = 'certified (lower bound)';
export const empiricalSeries = (r: CertifyReport) => `attacked: ${r.empirical!.attack.name} (upper bound)`;

interface ChartPoint {
  series: string;
  radius: number;
  accuracy: number;
  lo: number;
  hi: number;
}

/** Radii where the certified accuracy exceeds the attacked one (what the sanity line flags). */
export function violations(r: CertifyReport): number[] {
  if (!r.empirical) return [];
  return r.summary.curve.filter((c) => {
    const e = r.empirical!.points.find((p) => p.radius === c.radius);
    return e !== undefined && c.accuracy > e.accuracy;
  }).map((c) => c.radius);
}

/**
 * The certified accuracy at every radius up to the last of the table, from each example's
 * certificate: it drops just after each certified radius, so it is drawn as steps.
 */
export function exactCertifiedSteps(r: CertifyReport): { radius: number; accuracy: number }[] {
  const n = r.examples.length;
  const last = r.summary.curve.at(-1)?.radius ?? 0;
  if (n === 0) return [];
  const radii = r.examples.filter((e) => e.prediction !== ABSTAIN && e.prediction === e.label).map((e) => e.radius);
  const at = (x: number, strictly: boolean) => radii.filter((q) => (strictly ? q > x : q >= x)).length / n;
  const drops = [...new Set(radii)].filter((q) => q > 0 && q < last).sort((a, b) => a - b);
  return [{ radius: 0, accuracy: at(0, false) }, ...drops.map((q) => ({ radius: q, accuracy: at(q, true) })), ...(last > 0 ? [{ radius: last, accuracy: at(last, false) }] : [])];
}

/**
 * Certified and attacked accuracy of the smoothed classifier against the L2 radius, each with its
 * 95% Wilson band; a radius where certified > attacked is ringed in red.
 */
export function certifySpec(r: CertifyReport, size = { width: 900, height: 340 }): TopLevelSpec {
  const points: ChartPoint[] = r.summary.curve.map((p) => ({ series: CERTIFIED_SERIES, radius: p.radius, accuracy: p.accuracy, lo: p.interval[0], hi: p.interval[1] }));
  if (r.empirical) for (const p of r.empirical.points) points.push({ series: empiricalSeries(r), radius: p.radius, accuracy: p.accuracy, lo: p.interval[0], hi: p.interval[1] });
  const series = [...new Set(points.map((p) => p.series))];
  const scale = { domain: series, range: [COLOURS[0]!, COLOURS[1]!] };
  const colour = { field: 'series', type: 'nominal', title: null, scale, legend: { orient: 'top', direction: 'horizontal', labelLimit: 0, symbolType: 'stroke', symbolStrokeWidth: 3, symbolOpacity: 1 } } as const;
  const steps = exactCertifiedSteps(r).map((p) => ({ ...p, series: CERTIFIED_SERIES }));
  const attacked = points.filter((p) => p.series !== CERTIFIED_SERIES);
  const y = { field: 'accuracy', type: 'quantitative', title: 'accuracy of the smoothed classifier', scale: { domain: [0, 1] }, axis: { format: '.0%', tickCount: 6 } } as const;
  const bad = new Set(violations(r));
  return {
    width: size.width,
    height: size.height,
    background: 'white',
    padding: 8,
    description: 'Certified and attacked accuracy of the smoothed classifier against the L2 radius, with 95% Wilson intervals',
    config: CHART_CONFIG,
    encoding: { x: { field: 'radius', type: 'quantitative', title: 'L2 radius r', scale: { zero: true, nice: false } } },
    layer: [
      { data: { values: steps }, mark: { type: 'line', strokeWidth: 2.25, interpolate: 'step-after' }, encoding: { y, color: colour } },
      { data: { values: attacked }, mark: { type: 'line', strokeWidth: 2.25 }, encoding: { y, color: colour } },
      // The attacked band between radii as its line; the certified interval only where it was computed.
      { data: { values: attacked }, mark: { type: 'area', opacity: 0.13 }, encoding: { y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' }, color: colour } },
      { data: { values: points.filter((p) => p.series === CERTIFIED_SERIES) }, mark: { type: 'rule', strokeWidth: 2, opacity: 0.6 }, encoding: { y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' }, color: colour } },
      { data: { values: attacked }, mark: { type: 'point', filled: false, size: 150, strokeWidth: 2, opacity: 1 }, encoding: { y, color: colour } },
      { data: { values: points.filter((p) => p.series === CERTIFIED_SERIES) }, mark: { type: 'point', filled: true, size: 60, opacity: 1 }, encoding: { y, color: colour } },
      {
        data: { values: points.filter((p) => p.series === CERTIFIED_SERIES && bad.has(p.radius)) },
        mark: { type: 'point', filled: false, size: 420, strokeWidth: 2.5, color: '#c0392b', opacity: 1 },
        encoding: { y },
      },
    ],
  } as TopLevelSpec;
}

function kpi(label: string, value: string, detail: string, tone = ''): string {
  return `<div class="kpi ${tone}"><div class="label">${h(label)}</div><div class="value">${h(value)}</div><div class="detail">${h(detail)}</div></div>`;
}

const cell = (p: { accuracy: number; interval: [number, number]; count: number; n: number } | undefined, flagged = false) =>
  p === undefined ? '<td>—</td>' : `<td${flagged ? ' class="flagged"' : ''}>${pct(p.accuracy)} <span class="ci">[${pct(p.interval[0])}, ${pct(p.interval[1])}]</span> <span class="ci">(${p.count}/${p.n})</span></td>`;

/**
 * The certify report as one self-contained HTML page: the certified and attacked curves of the
 * same smoothed classifier on one chart (an SVG rendered here, nothing loaded at open time), the
 * table behind it, abstentions, cost and the sanity line.
 */
export async function renderCertifyHtml(r: CertifyReport): Promise<string> {
  const c = r.config;
  const s = r.summary;
  const svg = await specToSvg(certifySpec(r));
  const bad = new Set(violations(r));
  const title = 'Certified robustness (randomized smoothing)';
  const model = String(r.model.path ?? r.model.name ?? 'model');
  const shard = r.data.shard ? `, shard ${r.data.shard.index}/${r.data.shard.count}` : '';
  const sub = `${model} · ${r.data.name} ${r.data.split}, ${r.data.size} examples${r.data.subset ? ` (${r.data.subset})` : ''}${shard} · ${r.createdAt.slice(0, 10)}`;
  const atZero = s.curve.find((p) => p.radius === 0) ?? s.curve[0];
  const largest = s.curve.at(-1);
  const sanityOk = r.sanity.every((x) => x.ok);
  const cards = [
    atZero ? kpi(`certified at r = ${atZero.radius}`, pct(atZero.accuracy), `[${pct(atZero.interval[0])}, ${pct(atZero.interval[1])}] · ${atZero.count}/${atZero.n}`) : '',
    largest && largest !== atZero ? kpi(`certified at r = ${largest.radius}`, pct(largest.accuracy), `[${pct(largest.interval[0])}, ${pct(largest.interval[1])}] · ${largest.count}/${largest.n}`) : '',
    kpi('abstained', pct(s.abstentionRate), `${s.abstained}/${s.n} examples: p̲_A ≤ ½`, s.abstained > 0 ? 'flag' : ''),
    kpi('cost', `${r.costs.forwardPassesPerExample.toLocaleString('en-US')}`, `forward passes per example (${r.costs.forwardPasses.toLocaleString('en-US')} in all, ${duration(r.costs.seconds)})`),
    r.empirical
      ? kpi('sanity', sanityOk ? 'ok' : 'VIOLATED', sanityOk ? 'certified ≤ attacked at every radius' : `certified > attacked at r = ${[...bad].join(', ')}`, sanityOk ? 'ok' : 'fail')
      : kpi('sanity', 'not checked', 'no attacked curve: run with --empirical', 'flag'),
  ].join('');
  const rows = s.curve.map((p) => {
    const e = r.empirical?.points.find((q) => q.radius === p.radius);
    const gap = e ? `${((e.accuracy - p.accuracy) * 100).toFixed(1)} pts` : '—';
    return `<tr${bad.has(p.radius) ? ' class="regression"' : ''}><td>${h(p.radius)}</td>${cell(p, bad.has(p.radius))}${r.empirical ? `${cell(e)}<td>${h(gap)}</td>` : ''}</tr>`;
  });
  const head = `<tr><th>L2 radius</th><th>certified [95% CI]</th>${r.empirical ? `<th>attacked (${h(r.empirical.attack.name)}) [95% CI]</th><th>attacked − certified</th>` : ''}</tr>`;
  const checks = r.sanity.length > 0
    ? r.sanity.map((x) => `<li class="${x.ok ? 'ok' : 'flag'}"><span class="mark">${x.ok ? '✓' : '✗'}</span>${h(x.message)}${!x.ok && x.advice ? `<span class="advice">Try: ${h(x.advice)}</span>` : ''}</li>`).join('')
    : '<li class="flag"><span class="mark">?</span>No attacked curve, so certified ≤ attacked was not checked: add --empirical to attack the same smoothed classifier at each radius.</li>';
  const emp = r.empirical
    ? ` The attacked curve is the accuracy of the same smoothed classifier under ${h(r.empirical.attack.name)} (L2, budget r): its logits average the softmax over ${r.empirical.samples} noise draws, and an attacked image is judged by the plurality of ${r.empirical.votes} noisy votes. It is an upper bound on the robust accuracy, the certified curve a lower bound (each certificate wrong with probability ≤ α), so certified ≤ attacked must hold at every radius.`
    : '';
  const predict = s.predict ? `<p class="note">PREDICT (n = ${c.n}, α = ${c.alpha}): accuracy ${pct(s.predict.accuracy)} [${pct(s.predict.interval[0])}, ${pct(s.predict.interval[1])}], abstained ${s.predict.abstained}/${s.n}.</p>` : '';
  const curves = `<section id="curves"><h2>Certified and attacked accuracy</h2>
<figure class="chart">${svg}</figure>
<p class="caption">Randomized smoothing (Cohen et al. 2019), σ = ${h(c.sigma)}, n0 = ${h(c.n0)}, n = ${h(c.n)}, α = ${h(c.alpha)}. Certified accuracy at r: the fraction of examples CERTIFY returns with the right class and an L2 radius ≥ r. The certified line is exact at every radius (from each example's certificate); its points and bars (95% Wilson intervals over the ${h(s.n)} examples) are at the radii of the table, the attacked curve's band between them.${emp}</p>
<div class="table-wrap"><table><thead>${head}</thead><tbody>${rows.join('')}</tbody></table></div>
<p class="note">Abstained: ${pct(s.abstentionRate)} (${s.abstained}/${s.n}) · certified correct: ${s.certifiedCorrect}/${s.n}, mean radius ${s.meanRadiusOfCorrect.toFixed(3)} · cost: ${h(r.costs.forwardPassesPerExample)} forward passes per example (${h(r.costs.forwardPasses)} in all), ${h(duration(r.costs.seconds))}${r.empirical ? `; attack: ${r.empirical.perRadius.reduce((a, p) => a + p.gradients, 0)} gradients + ${r.empirical.perRadius.reduce((a, p) => a + p.queries, 0)} queries` : ''}.</p>
${predict}</section>`;
  return htmlPage({
    title,
    sub,
    lead: `<div class="kpis">${cards}</div>`,
    nav: false,
    sections: [
      ['curves', 'Curves', curves],
      ['sanity', 'Sanity', `<section id="sanity"><h2>Sanity</h2><ul class="checks">${checks}</ul></section>`],
    ],
    footer: `seed ${r.seed} · backend ${String(r.backend.name ?? '?')}`,
  });
}
