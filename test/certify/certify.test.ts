import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ABSTAIN, certify, predict } from '../../src/certify/procedures.js';
import { mergeCertifyReports } from '../../src/certify/report.js';
import { certifyDataset } from '../../src/certify/run.js';
import { UserError } from '../../src/errors.js';
import type { Classifier } from '../../src/types.js';
import { leakedTensors, useTestBackend } from '../helpers/backend.js';
import { tinyDataset } from '../helpers/data.js';
import { linearClassifier } from '../helpers/models.js';

/** f(x) = 1 when w·x + b > 0, else 0, on 2×2×1 images; w = (3, −4, 0, 0), ‖w‖ = 5. */
const w = [3, -4, 0, 0];
const b = -0.5;
const wNorm = 5;
function binaryLinear() {
  return linearClassifier([[0, 0, 0, 0], w], [0, b], [2, 2, 1]);
}
/** An image whose signed distance to the hyperplane w·x + b = 0 is `d` (along w/‖w‖ from a point on it). */
function atDistance(d: number): number[] {
  // x0 = (0.5, 0.25, 0, 0): 3·0.5 − 4·0.25 − 0.5 = 0.
  const x0 = [0.5, 0.25, 0.3, 0.7];
  return x0.map((v, i) => v + (d * w[i]!) / wNorm);
}
function image(row: number[]): tf.Tensor4D {
  return tf.tensor4d(row, [1, 2, 2, 1]);
}

describe('CERTIFY on a linear classifier, whose smoothed radius is known in closed form', () => {
  beforeAll(useTestBackend);
  const model = binaryLinear();
  afterAll(() => model.dispose());

  it('the smoothed classifier of sign(w·x + b) is itself, with radius |w·x + b|/‖w‖; CERTIFY stays below it and approaches it as n grows', () => {
    // Cohen et al. §3.1 example: p_A = Φ(|w·x + b|/(σ‖w‖)), so σ·Φ⁻¹(p_A) = |w·x + b|/‖w‖ exactly.
    const sigma = 0.25;
    for (const d of [0.3, -0.2]) {
      const x = image(atDistance(d));
      const small = certify(model, x, 0, { sigma, n0: 100, n: 2000, alpha: 0.001, batchSize: 1000, seed: 1 });
      const large = certify(model, x, 0, { sigma, n0: 100, n: 200_000, alpha: 0.001, batchSize: 20_000, seed: 1 });
      x.dispose();
      const truth = Math.abs(d);
      expect(large.prediction).toBe(d > 0 ? 1 : 0);
      expect(small.prediction).toBe(d > 0 ? 1 : 0);
      expect(large.radius).toBeLessThan(truth);
      expect(small.radius).toBeLessThan(large.radius);
      // With n = 200 000 the bound loses about 3.1·√(p(1−p)/n) in p: a few thousandths of radius.
      expect(large.radius).toBeGreaterThan(truth - 0.01);
    }
  });

  it('abstains on the decision boundary, where p_A = ½; PREDICT abstains there too and answers far from it', () => {
    const x = image(atDistance(0));
    const out = certify(model, x, 3, { sigma: 0.25, n0: 100, n: 5000, alpha: 0.001, batchSize: 1000, seed: 2 });
    expect(out.prediction).toBe(ABSTAIN);
    expect(out.radius).toBe(0);
    expect(predict(model, x, 3, { sigma: 0.25, n: 5000, alpha: 0.001, batchSize: 1000, seed: 2 }).prediction).toBe(ABSTAIN);
    x.dispose();
    const far = image(atDistance(0.5));
    expect(predict(model, far, 3, { sigma: 0.25, n: 1000, alpha: 0.001, batchSize: 1000, seed: 2 }).prediction).toBe(1);
    far.dispose();
  });

  it('counts add up and leave no tensor behind', async () => {
    const x = image(atDistance(0.1));
    let out: ReturnType<typeof certify> | undefined;
    expect(await leakedTensors(() => (out = certify(model, x, 0, { sigma: 0.5, n0: 150, n: 250, alpha: 0.01, batchSize: 200, seed: 3 })))).toBe(0);
    x.dispose();
    expect(out!.selectionCounts.reduce((a, v) => a + v, 0)).toBe(150);
    expect(out!.counts.reduce((a, v) => a + v, 0)).toBe(250);
  });
});

describe('certifyDataset: determinism, batch size, shards, journal', () => {
  beforeAll(useTestBackend);
  const model = binaryLinear();
  afterAll(() => model.dispose());
  const distances = [0.4, -0.3, 0.05, 0.2, -0.6, 0.0, 0.1];
  const data = tinyDataset(distances.map(atDistance), distances.map((d) => (d > 0 ? 1 : 0)), [2, 2, 1], 2);
  const base = { sigma: 0.25, n0: 50, n: 1000, alpha: 0.001, radii: [0, 0.1, 0.25, 0.5], seed: 7 };
  const strip = (r: Awaited<ReturnType<typeof certifyDataset>>) => r.examples.map(({ seconds: _s, ...e }) => e);

  it('the same seed gives the same certificates for any sample batch size; another seed gives other counts', async () => {
    const a = await certifyDataset(model, data, { ...base, batchSize: 100 });
    const c = await certifyDataset(model, data, { ...base, batchSize: 700 });
    expect(strip(c)).toEqual(strip(a));
    expect(c.summary).toEqual(a.summary);
    const other = await certifyDataset(model, data, { ...base, seed: 8 });
    expect(strip(other).map((e) => e.counts)).not.toEqual(strip(a).map((e) => e.counts));
    // The curve: correct with radius ≥ r, counted by hand from the examples.
    for (const p of a.summary.curve) {
      expect(p.count).toBe(a.examples.filter((e) => e.prediction === e.label && e.radius >= p.radius).length);
    }
    expect(a.costs.forwardPasses).toBe(distances.length * (50 + 1000));
  });

  it('shards merged equal one run', async () => {
    const whole = await certifyDataset(model, data, base);
    const shards = await Promise.all([0, 1, 2].map((index) => certifyDataset(model, data, { ...base, shard: { index, count: 3 } })));
    const merged = mergeCertifyReports([shards[2]!, shards[0]!, shards[1]!]);
    expect(strip(merged)).toEqual(strip(whole));
    expect(merged.summary).toEqual(whole.summary);
    expect(merged.data.shard).toBeUndefined();
    expect(() => mergeCertifyReports([shards[0]!, shards[1]!])).toThrow(UserError);
  });

  it('a killed run resumes from its journal: finished examples are not recomputed, results are the same', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'certify-journal-'));
    try {
      const file = path.join(dir, 'run.journal');
      const full = await certifyDataset(model, data, { ...base, journal: file });
      const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0);
      expect(lines.length).toBe(1 + distances.length);
      // As after kill -9: the header, three finished examples and half a line.
      writeFileSync(file, lines.slice(0, 4).join('\n') + '\n' + lines[4]!.slice(0, 20));
      let passes = 0;
      const counting: Classifier = { ...model, logits: (x) => (passes++, model.logits(x)) };
      const resumed = await certifyDataset(counting, data, { ...base, journal: file, batchSize: 1000 });
      expect(strip(resumed)).toEqual(strip(full));
      // 4 examples left, each one selection and one estimation pass of ≤ 1000 copies.
      expect(passes).toBe(4 * 2);
      await expect(certifyDataset(model, data, { ...base, seed: 99, journal: file })).rejects.toThrow(/holds a journal of another certification \(its seed differs\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(existsSync(dir)).toBe(false);
  });

  it('refuses bad settings with the value and the fix', async () => {
    await expect(certifyDataset(model, data, { ...base, sigma: 0 })).rejects.toThrow(/--sigma 0 must be a positive number/);
    await expect(certifyDataset(model, data, { ...base, alpha: 0.7 })).rejects.toThrow(/--alpha 0.7 must be in \(0, 0.5\)/);
    await expect(certifyDataset(model, data, { ...base, n: 2.5 })).rejects.toThrow(/--n 2.5 must be a positive integer/);
  });
});
