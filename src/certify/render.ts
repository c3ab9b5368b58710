import Table from 'cli-table3';
import type { CertifyReport } from './report.js';
import { pct } from '../number-format.js';

const withInterval = (p: { accuracy: number; interval: [number, number]; count: number; n: number }) => `${pct(p.accuracy)} [${pct(p.interval[0])}, ${pct(p.interval[1])}] (${p.count}/${p.n})`;
const COMPACT = { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' };

/** The terminal view of a certification: the curve per radius, abstentions, cost, sanity. */
export function renderCertifyText(r: CertifyReport): string {
  const c = r.config;
  const lines: string[] = [];
  lines.push(`model: ${String(r.model.path ?? r.model.name ?? '?')}`);
  lines.push(`data:  ${r.data.name} ${r.data.split}, ${r.data.size} examples${r.data.subset ? ` (${r.data.subset})` : ''}${r.data.shard ? `, shard ${r.data.shard.index}/${r.data.shard.count} (examples ${r.data.shard.from}–${r.data.shard.to - 1} of ${r.data.shard.total})` : ''}`);
  lines.push(`randomized smoothing: σ = ${c.sigma}, n0 = ${c.n0}, n = ${c.n}, α = ${c.alpha} (Cohen et al. 2019 CERTIFY; certified = correct with L2 radius ≥ r)`);
  const table = new Table({
    head: ['L2 radius', 'certified acc. [95% CI]', ...(r.empirical ? [`empirical acc. [95% CI] (${r.empirical.attack.name})`] : [])],
    style: { head: [], border: [] },
    chars: COMPACT,
  });
  for (const p of r.summary.curve) {
    const e = r.empirical?.points.find((q) => q.radius === p.radius);
    table.push([String(p.radius), withInterval(p), ...(r.empirical ? [e ? withInterval(e) : '—'] : [])]);
  }
  lines.push(table.toString());
  const s = r.summary;
  lines.push(`abstained: ${pct(s.abstentionRate)} (${s.abstained}/${s.n}) · certified correct: ${s.certifiedCorrect}/${s.n}, mean radius ${s.meanRadiusOfCorrect.toFixed(3)}`);
  if (s.predict) lines.push(`PREDICT (n = ${c.n}, α = ${c.alpha}): accuracy ${pct(s.predict.accuracy)} [${pct(s.predict.interval[0])}, ${pct(s.predict.interval[1])}], abstained ${s.predict.abstained}/${s.n}`);
  const emp = r.empirical
    ? ` · empirical: ${r.empirical.perRadius.reduce((a, p) => a + p.gradients, 0)} gradients + ${r.empirical.perRadius.reduce((a, p) => a + p.queries, 0)} queries in all over the radii (each a pass of the soft logits over ${r.empirical.samples} draws, judged by ${r.empirical.votes} votes)`
    : '';
  lines.push(`cost: ${r.costs.forwardPassesPerExample} forward passes per example (${r.costs.forwardPasses} in all), ${r.costs.seconds.toFixed(1)} s${emp}`);
  for (const check of r.sanity) lines.push(`${check.ok ? '✓' : '⚠'} ${check.message}${check.advice ? ` — try: ${check.advice}` : ''}`);
  lines.push(`seed ${r.seed} · backend: ${String(r.backend.name ?? '?')}`);
  return lines.join('\n');
}
