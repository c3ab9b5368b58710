import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { fgsm } from '../../attacks/fgsm.js';
import { pgd } from '../../attacks/pgd.js';
import { balancedSubset } from '../../src/data/dataset.js';
import { loadMnist } from '../../src/data/mnist.js';
import { evaluate } from '../../src/harness/evaluate.js';
import type { ExampleResults, Report } from '../../src/harness/report-types.js';
import { binCounts, marginEdges, marginHistograms } from '../../src/report/margins.js';
import { loadModel } from '../../src/model/store.js';
import { fixtureModelPath } from '../../src/package-info.js';
import { useTestBackend } from '../helpers/backend.js';

describe('margin histograms', () => {
  it('bins at a readable step with 0 an edge, the last bin closed', () => {
    const edges = marginEdges(-3.2, 7.9, 10);
    expect(edges).toEqual([-4, -2, 0, 2, 4, 6, 8]);
    // Width 1.11 per bin asked: the step is 2 (1, 2, 2.5, 5 × 10^k).
    expect(edges[1]! - edges[0]!).toBe(2);
    expect(binCounts([-4, -0.0001, 0, 1.999, 2, 8], [-4, -2, 0, 2, 4, 6, 8])).toEqual([1, 1, 2, 1, 0, 1]);
  });

  it('counts the examples correct clean, clean against adversarial, with the unattacked ones at their clean value', () => {
    const ex: ExampleResults = {
      ids: ['a', 'b', 'c', 'd'],
      labels: [0, 1, 2, 3],
      cleanPredictions: [0, 1, 2, 0],
      cleanMargin: [2, 3.5, 0.5, -1],
      cleanConfidence: [0.9, 0.97, 0.5, 0.6],
      results: [{ attack: 'fgsm', eps: 0.1, predictions: [5, 1, 7, 0], quantizedPredictions: [5, 1, 7, 0], linf: [0, 0, 0, 0], l2: [0, 0, 0, 0], attacked: [1, 1, 1, 0], margin: [-0.4, 1.2, -2.5, -1], confidence: [0.55, 0.8, 0.7, 0.6] }],
      fellAt: [0.1, null, 0.1, 0],
    };
    const [h] = marginHistograms(ex);
    expect(h!.n).toBe(3);
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    expect([sum(h!.margin.clean), sum(h!.margin.adversarial), sum(h!.confidence.clean), sum(h!.confidence.adversarial)]).toEqual([3, 3, 3, 3]);
    const below = (counts: number[]) => sum(counts.filter((_, k) => h!.margin.edges[k]! < 0));
    expect([below(h!.margin.clean), below(h!.margin.adversarial)]).toEqual([0, 2]);
    expect(h!.margin.median).toEqual({ clean: 2, adversarial: -0.4 });
    expect(h!.confidence.median).toEqual({ clean: 0.9, adversarial: 0.7 });
    expect(h!.confidence.edges).toHaveLength(21);
    // Reports from before margins were recorded: nothing.
    expect(marginHistograms({ ...ex, cleanMargin: undefined })).toEqual([]);
  });
});

describe('margins recorded by an evaluation', () => {
  let report: Report;
  let truth: { margin: number[]; confidence: number[] };
  beforeAll(async () => {
    await useTestBackend();
    const model = await loadModel(fixtureModelPath('mnist-cnn'));
    try {
      const data = balancedSubset(loadMnist('test'), 30);
      report = await evaluate(model, data, [fgsm(), pgd({ steps: 3 })], [0.1, 0.3], { seed: 1, batchSize: 16, mode: 'sequential', probes: false });
      // The clean margins computed here independently of the harness, from the logits.
      const logits = tf.tidy(() => model.logits(tf.tensor4d(data.images, [data.size, ...data.shape])).arraySync() as number[][]);
      truth = { margin: [], confidence: [] };
      logits.forEach((z, i) => {
        const y = data.labels[i]!;
        const other = Math.max(...z.filter((_, k) => k !== y));
        const max = Math.max(...z);
        const sumExp = z.reduce((a, v) => a + Math.exp(v - max), 0);
        truth.margin.push(z[y]! - other);
        truth.confidence.push(1 / sumExp);
      });
    } finally {
      model.dispose?.();
    }
  });

  it('records the true-class margin and top-1 probability of every example, clean and per cell', () => {
    const ex = report.examples;
    ex.cleanMargin!.forEach((m, i) => expect(m).toBeCloseTo(truth.margin[i]!, 3));
    ex.cleanConfidence!.forEach((c, i) => expect(c).toBeCloseTo(truth.confidence[i]!, 4));
    for (const cell of ex.results) {
      cell.predictions.forEach((p, i) => {
        // A margin below 0 is exactly a wrong prediction.
        expect(cell.margin![i]! < 0).toBe(p !== ex.labels[i]);
        if (ex.cleanPredictions[i] !== ex.labels[i]) expect(cell.margin![i]).toBe(ex.cleanMargin![i]);
      });
    }
  });

  it('puts per cell the histograms whose bins below 0 hold the examples fooled', () => {
    expect(report.margins!.map((m) => [m.attack, m.eps])).toEqual(report.examples.results.map((r) => [r.attack, r.eps]));
    for (const m of report.margins!) {
      const result = report.results.find((r) => r.attack === m.attack && r.eps === m.eps)!;
      const below = m.margin.edges.slice(0, -1).reduce((a, e, k) => a + (e < 0 ? m.margin.adversarial[k]! : 0), 0);
      expect(m.n).toBe(report.clean.correct);
      // Fooled among the clean-correct = clean-correct − still correct (sequential rows are cumulative).
      expect(below).toBe(report.clean.correct - result.correct);
      expect(m.margin.clean.reduce((a, b) => a + b, 0)).toBe(m.n);
    }
  });
});
