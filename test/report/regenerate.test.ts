import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fgsm, pgd } from '../../attacks/index.js';
import { balancedSubset } from '../../src/data/dataset.js';
import { loadMnist } from '../../src/data/mnist.js';
import { evaluate } from '../../src/harness/evaluate.js';
import type { Report } from '../../src/harness/report-types.js';
import { loadModel } from '../../src/model/store.js';
import { fixtureModelPath } from '../../src/package-info.js';
import { chooseExamples } from '../../src/report/choose-examples.js';
import { regenerateExamples } from '../../src/report/regenerate.js';
import { reproduceEvaluation } from '../../src/report/reproduce.js';
import type { Classifier, Dataset } from '../../src/types.js';
import { leakedTensors, useTestBackend } from '../helpers/backend.js';

const MODEL = fixtureModelPath('mnist-cnn');

describe('regenerating the adversarial examples of a report', () => {
  let model: Classifier;
  let data: Dataset;
  let report: Report;
  beforeAll(async () => {
    await useTestBackend();
    model = await loadModel(MODEL);
    data = balancedSubset(loadMnist('test'), 50);
    report = await evaluate(model, data, [fgsm(), pgd({ steps: 5 })], [0.05, 0.1, 0.2], { seed: 3, mode: 'sequential', batchSize: 32, subset: 'class-balanced subset of 50', probes: false });
  });

  it('gives, example by example, the images the evaluation judged', async () => {
    const chosen = chooseExamples(report, 12);
    expect(chosen.filter((c) => c.attack === 'pgd').length).toBeGreaterThan(0);
    const images = await regenerateExamples(model, data, report, chosen);
    expect(images.every((x) => x.reproduced)).toBe(true);
    for (const x of images) {
      // Same perturbation size as recorded: the same image, not merely the same class.
      const cell = report.examples.results.find((r) => r.attack === x.attack && r.eps === x.eps)!;
      let linf = 0;
      x.clean.forEach((v, p) => (linf = Math.max(linf, Math.abs(x.adversarial[p]! - v))));
      expect(linf).toBeCloseTo(cell.linf[x.position]!, 5);
      expect(x.cleanConfidence).toBeGreaterThan(0);
      expect(x.adversarialConfidence).toBeLessThanOrEqual(1);
    }
  });

  it('leaks no tensors', async () => {
    const chosen = chooseExamples(report, 3);
    expect(await leakedTensors(() => regenerateExamples(model, data, report, chosen))).toBe(0);
  });

  it('loads the model and the evaluated subset again from a report file, checking the data fingerprint', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'advtest-regen-'));
    const file = path.join(dir, 'report.json');
    await writeFile(file, JSON.stringify(report));
    const again = await reproduceEvaluation(report, file);
    try {
      expect(again.modelPath).toBe(MODEL);
      expect(again.data.size).toBe(50);
      expect(again.data.ids).toEqual(report.examples.ids);
    } finally {
      again.model.dispose?.();
    }
    await expect(reproduceEvaluation({ ...report, data: { ...report.data, fingerprint: '0'.repeat(64) } }, file)).rejects.toThrow(/differs from the evaluated examples/);
    await expect(reproduceEvaluation({ ...report, model: { ...report.model, path: 'no/such/model' } }, file)).rejects.toThrow(/has no model.json.*--model DIR/);
    await expect(reproduceEvaluation({ ...report, data: { ...report.data, subset: 'hand-picked' } }, file)).rejects.toThrow(/cannot select again/);
  });
});
