import { beforeAll, describe, expect, it } from 'vitest';
import { fgsm } from '../../attacks/fgsm.js';
import { pgd } from '../../attacks/pgd.js';
import { balancedSubset } from '../../src/data/dataset.js';
import { loadMnist } from '../../src/data/mnist.js';
import { evaluate } from '../../src/harness/evaluate.js';
import { mergeReports } from '../../src/harness/merge.js';
import type { Report } from '../../src/harness/report-types.js';
import { loadModel } from '../../src/model/store.js';
import { fixtureModelPath } from '../../src/package-info.js';
import type { Classifier } from '../../src/types.js';
import { useTestBackend } from '../helpers/backend.js';

/** Timings and dates aside, the byte content of a report. */
function comparable(r: Report): string {
  const { timings: _t, ...rest } = r;
  void _t;
  return JSON.stringify(rest);
}

describe('shards and merge', () => {
  let model: Classifier;
  const data = balancedSubset(loadMnist('test'), 70);
  const attacks = () => [fgsm(), pgd({ steps: 3 })];
  const options = { seed: 5, batchSize: 16, mode: 'sequential' as const };
  beforeAll(async () => {
    await useTestBackend();
    model = await loadModel(fixtureModelPath('mnist-cnn'));
  });

  it('three merged shards give the report of the single run, per example', async () => {
    const single = await evaluate(model, data, attacks(), [0.1, 0.3], options);
    const shards = [];
    for (const index of [2, 0, 1]) shards.push(await evaluate(model, data, attacks(), [0.1, 0.3], { ...options, shard: { index, count: 3 } }));
    expect(shards.map((s) => s.data.shard)).toEqual([
      { index: 2, count: 3, from: 48, to: 70, total: 70 },
      { index: 0, count: 3, from: 0, to: 16, total: 70 },
      { index: 1, count: 3, from: 16, to: 48, total: 70 },
    ]);
    const merged = mergeReports(shards);
    // Margins included: per example in every cell, and the histograms built from them.
    expect(single.margins).toHaveLength(4);
    expect(merged.examples.results.every((c) => c.margin?.length === 70)).toBe(true);
    expect(merged.examples).toEqual(single.examples);
    expect(comparable(merged)).toBe(comparable(single));
  });

  it('refuses missing shards and shards of another evaluation', async () => {
    const a = await evaluate(model, data, attacks(), [0.1], { ...options, shard: { index: 0, count: 2 } });
    expect(() => mergeReports([a])).toThrow(/shards 1 missing/);
    const b = await evaluate(model, data, attacks(), [0.1], { ...options, seed: 6, shard: { index: 1, count: 2 } });
    expect(() => mergeReports([a, b])).toThrow(/differs in seed/);
  });
});
