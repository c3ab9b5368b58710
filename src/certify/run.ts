import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import stableStringify from 'fast-json-stable-stringify';
import { backendInfo } from '../backend/select.js';
import { fingerprint, subset } from '../data/dataset.js';
import { UserError } from '../errors.js';
import { describeAttacks, evaluate } from '../harness/evaluate.js';
import { round6 } from '../harness/stats.js';
import type { Attack, Classifier, Dataset } from '../types.js';
import { CertifyJournal, CERTIFY_JOURNAL_FORMAT } from './journal.js';
import { certify, predict } from './procedures.js';
import { CERTIFY_FORMAT, certifySanity, empiricalPoints, summarize, type CertifiedExample, type CertifyConfig, type CertifyReport, type EmpiricalCurve } from './report.js';
import { smoothedClassifier } from './smoothed-classifier.js';

export interface EmpiricalOptions {
  /** An L2 gradient attack, usually wrapped in EOT (attacks/adaptive.ts). */
  attack: Attack;
  /** Noise draws per soft-logit evaluation. */
  samples: number;
  /** Votes per judged prediction. */
  votes: number;
  /** Examples per attacked batch. */
  batchSize?: number;
  journal?: string;
}

export interface CertifyOptions {
  sigma: number;
  n0: number;
  n: number;
  alpha: number;
  /** Noisy copies per forward pass (default 1000); results do not depend on it. */
  batchSize?: number;
  radii: number[];
  /** Also run PREDICT (n samples, same α) on each example. */
  predict?: boolean;
  seed?: number;
  subset?: string;
  shard?: { index: number; count: number };
  journal?: string;
  empirical?: EmpiricalOptions;
  onProgress?: (p: { done: number; total: number; phase: string }) => void;
}

export const DEFAULT_SAMPLE_BATCH = 1000;

function check(o: CertifyOptions): void {
  const positiveInt = (v: number, name: string) => {
    if (!(Number.isInteger(v) && v > 0)) throw new UserError(`${name} ${v} must be a positive integer, e.g. ${name} 100`);
  };
  if (!(o.sigma > 0 && Number.isFinite(o.sigma))) throw new UserError(`--sigma ${o.sigma} must be a positive number, the σ the model was trained with (e.g. --sigma 0.25)`);
  positiveInt(o.n0, '--n0');
  positiveInt(o.n, '--n');
  if (!(o.alpha > 0 && o.alpha < 0.5)) throw new UserError(`--alpha ${o.alpha} must be in (0, 0.5): the probability that a certificate is wrong, e.g. --alpha 0.001`);
  if (o.radii.length === 0 || o.radii.some((r) => !(r >= 0 && Number.isFinite(r)))) throw new UserError(`--radii ${o.radii.join(',')}: give non-negative L2 radii, e.g. --radii 0,0.25,0.5,0.75,1`);
  if (o.shard && !(Number.isInteger(o.shard.count) && o.shard.count >= 1 && o.shard.index >= 0 && o.shard.index < o.shard.count)) {
    throw new UserError(`--shard ${o.shard.index}/${o.shard.count}: write i/n with 0 ≤ i < n, e.g. --shard 0/4`);
  }
  if (o.empirical && o.empirical.attack.norm.name !== 'l2') throw new UserError(`the empirical attack ${o.empirical.attack.name} is ${o.empirical.attack.norm.name}: certificates are L2 radii, attack with --norm l2`);
}

/** Examples [from, to) of shard i of n. */
export function shardRange(size: number, shard?: { index: number; count: number }): [number, number] {
  if (!shard) return [0, size];
  return [Math.floor((size * shard.index) / shard.count), Math.floor((size * (shard.index + 1)) / shard.count)];
}

function hashOf(value: unknown): string {
  return createHash('sha256').update(stableStringify(value)).digest('hex').slice(0, 16);
}

/**
 * Randomized-smoothing certification of `base` on `data` (Cohen et al. 2019): CERTIFY per example
 * (and PREDICT when asked), the certified-accuracy curve, and, with `empirical`, the attacked
 * accuracy of the same smoothed classifier at the same radii. Examples are journaled one by one.
 */
export async function certifyDataset(base: Classifier, data: Dataset, o: CertifyOptions): Promise<CertifyReport> {
  check(o);
  const started = Date.now();
  const seed = o.seed ?? 0;
  const batchSize = o.batchSize ?? DEFAULT_SAMPLE_BATCH;
  const [h, w, c] = base.inputShape;
  if (data.shape[0] !== h || data.shape[1] !== w || data.shape[2] !== c) {
    throw new UserError(`data "${data.name}" has images of ${data.shape.join('×')} but the model takes ${h}×${w}×${c}: choose data of the model's input shape`);
  }
  const config: CertifyConfig = { sigma: o.sigma, n0: o.n0, n: o.n, alpha: o.alpha, batchSize, radii: [...o.radii].sort((a, b) => a - b), predict: o.predict === true };
  const empiricalConfig = o.empirical ? { attack: describeAttacks([o.empirical.attack])[0], samples: o.empirical.samples, votes: o.empirical.votes } : null;
  // The sample batch size changes no result, so it does not make another run.
  const configHash = hashOf({ ...config, batchSize: undefined, empirical: empiricalConfig });
  const dataFingerprint = fingerprint(data);
  const modelInfo = base.describe?.() ?? {};
  const [from, to] = shardRange(data.size, o.shard);
  const journal = o.journal
    ? new CertifyJournal(o.journal, { format: CERTIFY_JOURNAL_FORMAT, configHash, fingerprint: dataFingerprint, seed, model: JSON.stringify(modelInfo), ...(o.shard ? { shard: o.shard } : {}) })
    : undefined;
  const examples: CertifiedExample[] = [];
  const perExample = o.n0 + o.n + (o.predict ? o.n : 0);
  try {
    for (let i = from; i < to; i++) {
      let record = journal?.done.get(i);
      if (!record) {
        const t0 = performance.now();
        const image = tf.tensor4d(data.images.subarray(i * h * w * c, (i + 1) * h * w * c), [1, h, w, c]);
        try {
          const params = { sigma: o.sigma, batchSize, seed, n0: o.n0, n: o.n, alpha: o.alpha };
          const out = certify(base, image, i, params);
          const p = o.predict ? predict(base, image, i, params) : undefined;
          record = {
            index: i,
            id: data.ids[i] ?? String(i),
            label: data.labels[i]!,
            prediction: out.prediction,
            radius: round6(out.radius),
            selected: out.selected,
            countA: out.countA,
            pALower: round6(out.pALower),
            selectionCounts: out.selectionCounts,
            counts: out.counts,
            ...(p ? { predict: { prediction: p.prediction, pValue: p.pValue } } : {}),
            forwardPasses: perExample,
            seconds: round6((performance.now() - t0) / 1000),
          };
        } finally {
          image.dispose();
        }
        journal?.append(record);
      }
      examples.push(record);
      o.onProgress?.({ done: i - from + 1, total: to - from, phase: 'certify' });
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  } finally {
    journal?.close();
  }
  const empirical = o.empirical ? await empiricalCurve(base, subset(data, Array.from({ length: to - from }, (_, k) => from + k)), config.radii, o.sigma, seed, o.empirical, o.onProgress) : undefined;
  const summary = summarize(examples, config);
  const forwardPasses = examples.reduce((a, e) => a + e.forwardPasses, 0);
  const backend = await backendInfo();
  const { requested: _r, ...backendRest } = backend as unknown as Record<string, unknown>;
  return {
    format: CERTIFY_FORMAT,
    model: modelInfo,
    data: {
      name: data.name,
      split: data.split,
      fingerprint: dataFingerprint,
      ...(o.subset ? { subset: o.subset } : {}),
      size: to - from,
      ...(o.shard ? { shard: { ...o.shard, from, to, total: data.size } } : {}),
    },
    config,
    configHash,
    seed,
    backend: backendRest,
    summary,
    costs: { forwardPasses, forwardPassesPerExample: examples.length === 0 ? 0 : perExample, seconds: round6((Date.now() - started) / 1000) },
    examples,
    ...(empirical ? { empirical } : {}),
    sanity: certifySanity(summary.curve, empirical),
    createdAt: new Date().toISOString(),
  };
}

/** The attacked accuracy of the smoothed classifier at each radius, through the evaluation harness. */
async function empiricalCurve(
  base: Classifier,
  data: Dataset,
  radii: number[],
  sigma: number,
  seed: number,
  e: EmpiricalOptions,
  onProgress: CertifyOptions['onProgress'],
): Promise<EmpiricalCurve> {
  const smoothed = smoothedClassifier(base, { sigma, samples: e.samples, votes: e.votes, seed });
  const report = await evaluate(smoothed, data, [e.attack], radii, {
    seed,
    batchSize: e.batchSize ?? 25,
    probes: false,
    mode: 'independent',
    ...(e.journal ? { journal: e.journal } : {}),
    onProgress: (p) => onProgress?.({ done: p.done, total: p.total, phase: `empirical${p.phase ? ` ${p.phase}` : ''}` }),
  });
  const labels = report.examples.labels;
  const clean = report.examples.cleanPredictions;
  const perRadius = radii.map((radius) => {
    const k = report.examples.results.findIndex((r) => r.eps === radius);
    const cell = report.examples.results[k]!;
    const result = report.results.find((r) => r.eps === radius)!;
    return {
      radius,
      correct: cell.predictions.map((p, i) => (p === labels[i] && clean[i] === labels[i] ? 1 : 0)),
      gradients: result.costs.gradients,
      queries: result.costs.queries,
    };
  });
  return { attack: { name: e.attack.name, norm: e.attack.norm.name, config: e.attack.config }, samples: e.samples, votes: e.votes, perRadius, points: empiricalPoints(perRadius) };
}
