import { UserError } from '../errors.js';
import { round6, wilsonInterval } from '../harness/stats.js';
import { ABSTAIN, type CertifyOutcome } from './procedures.js';

export const CERTIFY_FORMAT = 'advtest-certify/1';

/** One example's CERTIFY outcome (and PREDICT's, when asked). */
export interface CertifiedExample extends CertifyOutcome {
  /** Index in the evaluated set (after --limit), which keys the example's noise. */
  index: number;
  id: string;
  label: number;
  /** PREDICT's class (−1: abstain) and the binomial test's p-value. */
  predict?: { prediction: number; pValue: number };
  forwardPasses: number;
  seconds: number;
}

export interface CurvePoint {
  radius: number;
  /** Approximate certified accuracy (Cohen et al. §4): certified, correct and radius ≥ r. */
  accuracy: number;
  count: number;
  n: number;
  interval: [number, number];
}

export interface EmpiricalPoint {
  radius: number;
  /** Accuracy of the smoothed classifier on the attack's images at L2 budget r. */
  accuracy: number;
  count: number;
  n: number;
  interval: [number, number];
}

/** The attacked (upper-bound) curve of the same smoothed classifier. */
export interface EmpiricalCurve {
  attack: { name: string; norm: string; config: Record<string, unknown> };
  /** Noise draws per soft-logit evaluation and votes per judged prediction. */
  samples: number;
  votes: number;
  /** Per radius, per example: 1 when the smoothed classifier still predicts the label. */
  perRadius: { radius: number; correct: number[]; gradients: number; queries: number }[];
  points: EmpiricalPoint[];
}

export interface CertifySanity {
  id: string;
  ok: boolean;
  message: string;
  advice?: string;
}

export interface CertifyConfig {
  sigma: number;
  n0: number;
  n: number;
  alpha: number;
  batchSize: number;
  radii: number[];
  predict: boolean;
}

export interface CertifyReport {
  format: typeof CERTIFY_FORMAT;
  model: Record<string, unknown>;
  data: {
    name: string;
    split: string;
    fingerprint: string;
    subset?: string;
    size: number;
    shard?: { index: number; count: number; from: number; to: number; total: number };
  };
  config: CertifyConfig;
  configHash: string;
  seed: number;
  backend: Record<string, unknown>;
  summary: {
    n: number;
    abstained: number;
    abstentionRate: number;
    /** Certified and correct at any radius (the curve at r = 0). */
    certifiedCorrect: number;
    meanRadiusOfCorrect: number;
    curve: CurvePoint[];
    predict?: { correct: number; abstained: number; accuracy: number; interval: [number, number] };
  };
  costs: { forwardPasses: number; forwardPassesPerExample: number; seconds: number };
  examples: CertifiedExample[];
  empirical?: EmpiricalCurve;
  sanity: CertifySanity[];
  createdAt: string;
}

/** Certified accuracy at each radius: the fraction of examples certified correct with radius ≥ r. */
export function certifiedCurve(examples: CertifiedExample[], radii: number[]): CurvePoint[] {
  const n = examples.length;
  return radii.map((radius) => {
    const count = examples.filter((e) => e.prediction !== ABSTAIN && e.prediction === e.label && e.radius >= radius).length;
    return { radius, accuracy: n === 0 ? 0 : round6(count / n), count, n, interval: wilsonInterval(count, n).map(round6) as [number, number] };
  });
}

export function empiricalPoints(perRadius: EmpiricalCurve['perRadius']): EmpiricalPoint[] {
  return perRadius.map(({ radius, correct }) => {
    const count = correct.reduce((a, b) => a + b, 0);
    const n = correct.length;
    return { radius, accuracy: n === 0 ? 0 : round6(count / n), count, n, interval: wilsonInterval(count, n).map(round6) as [number, number] };
  });
}

/**
 * The certified accuracy is a lower bound (with probability 1 − α per example) and the attacked
 * accuracy an upper bound on the smoothed classifier's robust accuracy: certified above empirical
 * at some radius means the attack found an error inside a certified ball — a wrong certificate
 * (a bug, or one of the α failures) or a smoothed prediction judged with too few votes.
 */
export function certifySanity(curve: CurvePoint[], empirical: EmpiricalCurve | undefined): CertifySanity[] {
  if (!empirical) return [];
  const bad = curve.flatMap((c) => {
    const e = empirical.points.find((p) => p.radius === c.radius);
    return e && c.accuracy > e.accuracy ? [`r = ${c.radius}: certified ${(c.accuracy * 100).toFixed(1)}% > empirical ${(e.accuracy * 100).toFixed(1)}%`] : [];
  });
  return [
    bad.length === 0
      ? { id: 'certified-below-empirical', ok: true, message: 'certified accuracy ≤ empirical (attacked) accuracy at every radius' }
      : {
          id: 'certified-below-empirical',
          ok: false,
          message: `certified accuracy exceeds the attacked accuracy (${bad.join('; ')}): an attack found errors inside certified balls`,
          advice: 'judge attacked images with more votes (--empirical-votes), check σ matches the one certified, lower α; a persistent gap is a bug',
        },
  ];
}

/** The summary figures of a set of certified examples. */
export function summarize(examples: CertifiedExample[], config: CertifyConfig): CertifyReport['summary'] {
  const n = examples.length;
  const abstained = examples.filter((e) => e.prediction === ABSTAIN).length;
  const correct = examples.filter((e) => e.prediction !== ABSTAIN && e.prediction === e.label);
  const summary: CertifyReport['summary'] = {
    n,
    abstained,
    abstentionRate: n === 0 ? 0 : round6(abstained / n),
    certifiedCorrect: correct.length,
    meanRadiusOfCorrect: correct.length === 0 ? 0 : round6(correct.reduce((a, e) => a + e.radius, 0) / correct.length),
    curve: certifiedCurve(examples, config.radii),
  };
  if (config.predict) {
    const right = examples.filter((e) => e.predict && e.predict.prediction === e.label).length;
    const abst = examples.filter((e) => e.predict && e.predict.prediction === ABSTAIN).length;
    summary.predict = { correct: right, abstained: abst, accuracy: n === 0 ? 0 : round6(right / n), interval: wilsonInterval(right, n).map(round6) as [number, number] };
  }
  return summary;
}

function same<T>(reports: CertifyReport[], what: string, get: (r: CertifyReport) => T): void {
  const first = JSON.stringify(get(reports[0]!));
  const other = reports.find((r) => JSON.stringify(get(r)) !== first);
  if (other) throw new UserError(`shard ${other.data.shard?.index ?? '?'} differs in ${what}: merge only the shards of one certification`);
}

/**
 * The shard reports of one `advtest certify --shard i/n` run combined into the report of the whole
 * run: examples concatenated in index order, every figure recomputed. Each example's noise depends
 * only on the seed and its index, so the certified figures equal an unsharded run's.
 */
export function mergeCertifyReports(reports: CertifyReport[]): CertifyReport {
  if (reports.length === 0) throw new UserError('advtest merge needs the shard reports: advtest merge certify-*.json');
  for (const r of reports) {
    if (r.format !== CERTIFY_FORMAT) throw new UserError(`a file to merge has format ${String(r.format)}, not ${CERTIFY_FORMAT}: merge certify shards only with each other`);
    if (!r.data.shard) throw new UserError('a certify report is not a shard (no data.shard): merge only reports made with --shard i/n');
  }
  same(reports, 'configuration', (r) => r.configHash);
  same(reports, 'data', (r) => r.data.fingerprint);
  same(reports, 'seed', (r) => r.seed);
  same(reports, 'model', (r) => r.model);
  same(reports, 'shard count', (r) => r.data.shard!.count);
  same(reports, 'empirical attack', (r) => (r.empirical ? { a: r.empirical.attack, s: r.empirical.samples, v: r.empirical.votes } : null));
  const count = reports[0]!.data.shard!.count;
  const sorted = [...reports].sort((a, b) => a.data.shard!.index - b.data.shard!.index);
  const indices = sorted.map((r) => r.data.shard!.index);
  if (indices.length !== count || indices.some((v, i) => v !== i)) {
    throw new UserError(`shards ${indices.join(', ')} of ${count} given: give each shard's report exactly once`);
  }
  const first = sorted[0]!;
  const examples = sorted.flatMap((r) => r.examples);
  const { shard: _s, ...data } = first.data;
  const config = first.config;
  const summary = summarize(examples, config);
  let empirical: EmpiricalCurve | undefined;
  if (first.empirical) {
    const perRadius = first.empirical.perRadius.map((p, k) => ({
      radius: p.radius,
      correct: sorted.flatMap((r) => r.empirical!.perRadius[k]!.correct),
      gradients: sorted.reduce((a, r) => a + r.empirical!.perRadius[k]!.gradients, 0),
      queries: sorted.reduce((a, r) => a + r.empirical!.perRadius[k]!.queries, 0),
    }));
    empirical = { ...first.empirical, perRadius, points: empiricalPoints(perRadius) };
  }
  const forwardPasses = sorted.reduce((a, r) => a + r.costs.forwardPasses, 0);
  return {
    ...first,
    data: { ...data, size: examples.length },
    summary,
    costs: { forwardPasses, forwardPassesPerExample: examples.length === 0 ? 0 : round6(forwardPasses / examples.length), seconds: round6(sorted.reduce((a, r) => a + r.costs.seconds, 0)) },
    examples,
    ...(empirical ? { empirical } : {}),
    sanity: certifySanity(summary.curve, empirical),
  };
}
