import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fgsm } from '../../attacks/fgsm.js';
import { UserError } from '../../src/errors.js';
import { balancedSubset } from '../../src/data/dataset.js';
import { datasets } from '../../src/data/index.js';
import { loadModel } from '../../src/model/store.js';
import { fixtureModelPath } from '../../src/package-info.js';
import { recordBaseline } from '../../src/regression/baseline.js';
import type { Baseline } from '../../src/regression/baseline-file.js';
import '../../src/regression/vitest.js';
import type { Classifier } from '../../src/types.js';
import { useTestBackend } from '../helpers/backend.js';
import { perturbedModel } from './perturbed-model.js';

const MODEL = fixtureModelPath('mnist-cnn');

describe('vitest matchers', () => {
  let model: Classifier;
  let weakened: string;
  let baseline: string;

  beforeAll(async () => {
    await useTestBackend();
    model = await loadModel(MODEL);
    weakened = await perturbedModel(MODEL, { noise: 0.8, seed: 1 });
    baseline = path.join(await mkdtemp(path.join(tmpdir(), 'advtest-matchers-')), 'robustness.json');
    await recordBaseline({ model, modelDir: MODEL, data: 'mnist', request: { attack: 'fgsm' }, epsilons: [0.1], limit: 200, seed: 0, batchSize: 128, target: 'untargeted', out: baseline });
  });
  afterAll(async () => {
    model.dispose?.();
    for (const d of [weakened, path.dirname(baseline)]) await rm(d, { recursive: true, force: true });
  });

  describe('toResist', () => {
    // On these 200 digits the fixture keeps about 91% under FGSM at ε = 0.05 and 34% at ε = 0.2.
    const data = balancedSubset(datasets.mnist('test'), 200);

    it('passes when robust accuracy reaches atLeast at every ε', async () => {
      await expect(model).toResist(fgsm(), { data, eps: [0.05], atLeast: 0.9 });
      await expect(MODEL).toResist('fgsm', { data: 'mnist', limit: 200, eps: 0.05, atLeast: 0.9 });
    });

    it('fails showing the figures and the ids of the examples that fell first', async () => {
      const err = await expect(model)
        .toResist(fgsm(), { data, eps: [0.05, 0.2], atLeast: 0.9 })
        .then(() => undefined, (e: unknown) => e as Error);
      expect(err?.message).toMatch(/^expected .*mnist-cnn to resist fgsm with robust accuracy ≥ 90\.0% at every ε/);
      expect(err?.message).toMatch(/\n  clean: 9\d\.\d% \(1\d\d\/200\)\n/);
      expect(err?.message).toMatch(/\n  ε 0\.05: 9\d\.\d% \[\d+\.\d%, \d+\.\d%\] \(1\d\d\/200\)\n/);
      expect(err?.message).toMatch(/\n  ε 0\.2: [2-4]\d\.\d% \[\d+\.\d%, \d+\.\d%\] \(\d+\/200\)  < required\n/);
      // Grouped by where they fell: wrong clean first, then the smallest ε.
      expect(err?.message).toMatch(/\n  wrong clean: (mnist\/test\/\d\/\d+, ){7}mnist\/test\/\d\/\d+ … \(\+\d+ more\)\n  fell at ε 0\.05: mnist\/test\//);
    });

    it('supports .not both ways', async () => {
      await expect(model).not.toResist(fgsm(), { data, eps: 0.2, atLeast: 0.9 });
      await expect(expect(model).not.toResist(fgsm(), { data, eps: 0.05, atLeast: 0.9 })).rejects.toThrow(/expected .* not to resist fgsm/);
    });

    it('refuses a nonsensical threshold and a non-model', async () => {
      await expect(expect(model).toResist(fgsm(), { data, eps: 0.1, atLeast: 80 })).rejects.toThrow(/atLeast 80 must be a robust accuracy in \[0, 1\]/);
      await expect(expect(42).toResist('fgsm', { data, eps: 0.1, atLeast: 0.5 })).rejects.toThrow(/needs a Classifier .* or a model folder, got number/);
    });
  });

  describe('toMatchRobustnessBaseline', () => {
    it('passes the model the baseline was recorded on, as a Classifier or a folder', async () => {
      await expect(model).toMatchRobustnessBaseline(baseline);
      await expect(MODEL).toMatchRobustnessBaseline(baseline);
    });

    it('fails a weakened model with the table and the lost examples', async () => {
      const err = await expect(weakened)
        .toMatchRobustnessBaseline(baseline)
        .then(() => undefined, (e: unknown) => e as Error);
      expect(err?.message).toMatch(/^expected .*advtest-perturbed-.* to match robustness baseline .*robustness\.json\n/);
      expect(err?.message).toMatch(/│ fgsm \(linf\) │ 0\.1 │ .* │ REGRESSION │/);
      expect(err?.message).toMatch(/fgsm \(linf\) ε=0\.1 lost: mnist\/test\/\d\/\d+, /);
      await expect(weakened).not.toMatchRobustnessBaseline(baseline);
    });

    it('takes the tolerance: a drop within it passes', async () => {
      await expect(weakened).toMatchRobustnessBaseline(baseline, { tolerance: 0.5 });
    });

    it('rejects (does not fail) when the baseline cannot be compared', async () => {
      const b = JSON.parse(await readFile(baseline, 'utf8')) as Baseline;
      b.data.fingerprint = 'f'.repeat(64);
      const other = path.join(path.dirname(baseline), 'other-data.json');
      await writeFile(other, JSON.stringify(b));
      await expect(expect(model).toMatchRobustnessBaseline(other)).rejects.toThrow(UserError);
      await expect(expect(model).not.toMatchRobustnessBaseline(other)).rejects.toThrow(/differ from the baseline's/);
    });
  });
});
