import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readTrainingCurve } from '../../src/leaderboard/training-curve.js';
import { fixtureModelPath } from '../../src/package-info.js';
import { runCli } from '../helpers/cli.js';
import { useTestBackend } from '../helpers/backend.js';

describe('advtest train --defense', () => {
  beforeAll(useTestBackend);

  it('trains with composed defenses, logs the held-out PGD accuracy per epoch, records them in the model', async () => {
    const out = path.join(await mkdtemp(path.join(tmpdir(), 'advtest-defense-')), 'm');
    const r = await runCli('train', '--arch', 'mlp', '--epochs', '1', '--defense', 'fast-fgsm,augment=crop,clip-global=5', '--train-eps', '0.1', '--holdout', '100', '--schedule', 'one-cycle', '--early-stop', '--out', out);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/epoch 1\/1: loss [\d.]+, train acc [\d.]+%, held-out clean [\d.]+%, pgd ε=0.1 [\d.]+% \(n=100\)/);
    const meta = JSON.parse(await readFile(path.join(out, 'model.json'), 'utf8')).userDefinedMetadata.advtest.training;
    expect(meta).toMatchObject({ defense: 'fast-fgsm,augment=crop,clip-global=5', schedule: 'one-cycle', heldOut: { examples: 100, attack: 'pgd', eps: 0.1 } });
    expect(meta.defenses['fast-fgsm']).toMatchObject({ eps: 0.1, attack: 'fgsm-rs', relStepsize: 1.25 });
    // The epoch's probe with its training time: the leaderboard's robustness-against-time curve reads it back.
    const [epoch] = meta.heldOut.history;
    expect(epoch).toMatchObject({ epoch: 1, n: 100, seconds: expect.any(Number), cpuSeconds: expect.any(Number) });
    expect(epoch.seconds).toBeGreaterThan(0);
    const curve = await readTrainingCurve(out);
    expect(curve).toEqual(meta.heldOut);
    // A model trained before times were recorded has no curve to draw.
    expect(await readTrainingCurve(fixtureModelPath('mnist-cnn-pgd-at'))).toBeUndefined();
  });

  it('refuses unknown defenses listing the valid ones, and a training attack with the wrong options', async () => {
    const out = path.join(tmpdir(), 'advtest-never-written');
    const r = await runCli('train', '--arch', 'mlp', '--epochs', '1', '--defense', 'fgsm-at,mixup', '--out', out);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown defense "mixup": use one of fgsm-at, fast-fgsm, pgd-at, trades, augment, clip-value/);
    const s = await runCli('train', '--arch', 'mlp', '--epochs', '1', '--defense', 'fgsm-at', '--train-attack', 'fgsm', '--train-steps', '7', '--out', out);
    expect(s.code).toBe(2);
    expect(s.stderr).toMatch(/fgsm takes one step/);
  });
});
