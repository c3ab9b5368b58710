import { beforeAll, describe, expect, it } from 'vitest';
import { deepFool, uap } from '../../attacks/index.js';
import { evaluate } from '../../src/harness/evaluate.js';
import { mergeReports } from '../../src/harness/merge.js';
import { useTestBackend } from '../helpers/backend.js';
import { tinyDataset } from '../helpers/data.js';
import { linearClassifier } from '../helpers/models.js';

/**
 * Merging shards of runs whose reports carry more than per-example cells: a universal attack's
 * fitted image (report.universal) and a minimal attack's per-example distances (examples.minimal).
 * Tiny linear model, eight examples in two shards of four.
 */
const W0 = [1, -2, 0.5, -0.25, 3, -1, 2, 0.75, -3];
const W1 = [-1, 1, 1.5, 0.25, -3, 2, -2, 0.25, 1];
const model = linearClassifier([W0, W1], [0.6, 0], [3, 3, 1]);
const rows = Array.from({ length: 8 }, (_, i) => W0.map((_, p) => ((i * 7 + p * 3) % 10) / 10));
const labels = rows.map((r) => (r.reduce((s, v, p) => s + v * (W0[p]! - W1[p]!), 0.6) > 0 ? 0 : 1));
const data = tinyDataset(rows, labels, [3, 3, 1]);
const fit = tinyDataset(rows, labels, [3, 3, 1]);

describe('advtest merge of universal and minimal attacks', () => {
  beforeAll(useTestBackend);
  const options = { seed: 2, batchSize: 4, probes: false };

  it('keeps the fitted perturbation, with the success rate of the merged run', async () => {
    const single = await evaluate(model, data, [uap({ epochs: 3 })], [0.2, 0.4], { ...options, fitData: fit });
    const shards = [];
    for (const index of [1, 0]) shards.push(await evaluate(model, data, [uap({ epochs: 3 })], [0.2, 0.4], { ...options, fitData: fit, shard: { index, count: 2 } }));
    const merged = mergeReports(shards);
    expect(merged.universal).toHaveLength(2);
    expect(merged.universal!.map((u) => [u.attack, u.eps, u.kind])).toEqual(single.universal!.map((u) => [u.attack, u.eps, u.kind]));
    expect(merged.universal!.map((u) => u.pixels)).toEqual(single.universal!.map((u) => u.pixels));
    expect(merged.universal!.map((u) => u.successRate)).toEqual(single.universal!.map((u) => u.successRate));
    expect(merged.results.map((r) => r.correct)).toEqual(single.results.map((r) => r.correct));
    // Each shard fitted: the merged costs are both fits.
    expect(merged.results.map((r) => r.costs.gradients)).toEqual(single.results.map((r) => 2 * r.costs.gradients));
  });

  it('refuses shards where one has a fitted image the other lacks', async () => {
    const a = await evaluate(model, data, [uap({ epochs: 3 })], [0.2], { ...options, fitData: fit, shard: { index: 0, count: 2 } });
    const b = await evaluate(model, data, [uap({ epochs: 3 })], [0.2], { ...options, fitData: fit, shard: { index: 1, count: 2 } });
    delete b.universal;
    expect(() => mergeReports([a, b])).toThrow(/shard 1 holds no fitted uap at ε = 0.2/);
  });

  it('keeps a minimal attack\'s per-example distances and their median', async () => {
    const single = await evaluate(model, data, [deepFool({ norm: 'l2' })], [0.1, 0.5], options);
    const shards = [];
    for (const index of [0, 1]) shards.push(await evaluate(model, data, [deepFool({ norm: 'l2' })], [0.1, 0.5], { ...options, shard: { index, count: 2 } }));
    const merged = mergeReports(shards);
    expect(single.examples.minimal).toBeDefined();
    expect(merged.examples.minimal).toEqual(single.examples.minimal);
    expect(merged.minimalPerturbation).toEqual(single.minimalPerturbation);
  });
});
