import { beforeAll, describe, expect, it } from 'vitest';
import { fgsm } from '../../attacks/fgsm.js';
import { pgd } from '../../attacks/pgd.js';
import { balancedSubset } from '../../src/data/dataset.js';
import { loadMnist } from '../../src/data/mnist.js';
import { evaluate } from '../../src/harness/evaluate.js';
import type { Report } from '../../src/harness/report-types.js';
import { parseTraceOption } from '../../src/harness/trace-option.js';
import { loadModel } from '../../src/model/store.js';
import { fixtureModelPath } from '../../src/package-info.js';
import type { Classifier, Dataset } from '../../src/types.js';
import { buildHtml } from '../../src/report/build-html.js';
import { leakedTensors, useTestBackend } from '../helpers/backend.js';

describe('--trace: per-example loss and margin per iteration', () => {
  let model: Classifier;
  let data: Dataset;
  let report: Report;
  const all = Array.from({ length: 12 }, (_, i) => i);
  beforeAll(async () => {
    await useTestBackend();
    model = await loadModel(fixtureModelPath('mnist-cnn'));
    data = balancedSubset(loadMnist('test'), 12);
    // Two batches, so that traces of different batches are joined.
    report = await evaluate(model, data, [fgsm(), pgd({ steps: 4 })], [0.1], { seed: 2, batchSize: 8, probes: false, trace: all });
  });

  it('traces every attacked example of an iterative attack, and its sums are the convergence figures', () => {
    const attacked = report.examples.results.find((r) => r.attack === 'pgd')!.attacked;
    const traces = report.traces!;
    // FGSM is one step: nothing to trace. PGD: each attacked example, in order.
    expect(traces.map((t) => t.attack)).toEqual(traces.map(() => 'pgd'));
    expect(traces.map((t) => t.index)).toEqual(all.filter((i) => attacked[i] === 1));
    expect(traces.map((t) => t.id)).toEqual(traces.map((t) => report.examples.ids[t.index]));
    const conv = report.convergence!.find((c) => c.attack === 'pgd')!;
    for (const it of conv.iterations) {
      const losses = traces.map((t) => t.loss[it.iteration]!);
      expect(losses.reduce((a, b) => a + b, 0) / conv.n).toBeCloseTo(it.meanLoss, 3);
      // Still robust at an iteration: the margin stayed above 0 at every iteration so far.
      const robust = traces.filter((t) => t.margin.slice(1, it.iteration + 1).every((m) => m! > 0)).length;
      expect(robust / conv.n).toBeCloseTo(it.robust, 6);
    }
  });

  it('refuses too many or unknown examples', async () => {
    expect(() => parseTraceOption('0,x')).toThrow(/"x" is not a position in the evaluated set/);
    expect(() => parseTraceOption(Array.from({ length: 17 }, (_, i) => i).join(','))).toThrow(/names 17 examples: at most 16 can be traced \(each keeps up to 1000 iterations/);
    expect(parseTraceOption('3, 1,3')).toEqual([3, 1]);
    await expect(evaluate(model, data, [pgd({ steps: 2 })], [0.1], { trace: [12] })).rejects.toThrow(/example 12 is not in the evaluated set \(positions 0–11\)/);
  });

  it('leaks no tensor', async () => {
    expect(await leakedTensors(() => evaluate(model, data, [pgd({ steps: 2 })], [0.1], { seed: 2, probes: false, trace: [0, 5] }))).toBe(0);
  });

  it('draws the traces in the HTML report', async () => {
    const html = await buildHtml({ report });
    expect(html).toMatch(/<section id="traces"><h2>Traced examples<\/h2>\s*<figure class="chart"><svg/);
    expect(html.match(/<section id="traces">[\s\S]*?<\/section>/)![0].match(/<tr><td class="text">/g)).toHaveLength(report.traces!.length);
  });
});
