import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { apgd, topOtherClasses } from '../../attacks/apgd.js';
import { parseAttackSpec } from '../../attacks/index.js';
import type { AttackContext } from '../../src/types.js';
import { leakedTensors, useTestBackend } from '../helpers/backend.js';
import { runCli } from '../helpers/cli.js';
import { linearClassifier } from '../helpers/models.js';

const ctx = (seed = 1): AttackContext => ({ seed, costs: { gradients: 0, queries: 0 } });

describe('topOtherClasses', () => {
  it('ranks the other classes by clean logit, highest first, the true class left out', () => {
    // Row 0, label 2: logits 0.1, 0.9, 5, 0.3 → others by logit: 1, 3, 0.  Row 1, label 0: 3, 1, 2.
    const logits = Float32Array.from([0.1, 0.9, 5, 0.3, 4, -1, 0, 2]);
    const ranks = topOtherClasses(logits, [2, 0], 4, 3);
    expect(ranks.map((r) => Array.from(r))).toEqual([
      [1, 3],
      [3, 2],
      [0, 1],
    ]);
  });
});

describe('APGD-T on a linear four-class model', () => {
  beforeAll(useTestBackend);
  /*
   * x ∈ [0, 1]^4, x0 = 0.5. z0 = 1, z1 = 0.9 + 2(x₀ − 0.5), z2 = 0.95 − 2(x₁ − 0.5)·0 (constant),
   * z3 = 0. Class 1 overtakes class 0 when 2(x₀ − 0.5) > 0.1: at L∞ distance 0.05 (one pixel),
   * and nothing else can: z2 is constant below z0. Class 1 is the second other class by clean
   * logit (z2 = 0.95 > z1 = 0.9), so one target is not enough and two are.
   */
  const model = () =>
    linearClassifier(
      [
        [0, 0, 0, 0],
        [2, 0, 0, 0],
        [0, 0, 0, 0],
        [0, 0, 0, 0],
      ],
      [1, -0.1, 0.95, 0],
      [2, 2, 1],
    );
  const x0 = [0.5, 0.5, 0.5, 0.5];

  function predictionAt(targets: number, eps: number): number {
    const m = model();
    const x = tf.tensor4d(x0, [1, 2, 2, 1]);
    const labels = tf.tensor1d([0], 'int32');
    const adv = apgd({ loss: 'dlr', targets, steps: 20 }).run(m, x, { labels, targeted: false }, eps, ctx());
    const predicted = tf.tidy(() => tf.argMax(m.logits(adv), 1).dataSync()[0]!);
    tf.dispose([x, labels, adv]);
    m.dispose();
    return predicted;
  }

  it('reaches the target whose half-space is within ε (0.05 away): at ε = 0.06, not at 0.04', () => {
    expect(predictionAt(2, 0.06)).toBe(1);
    expect(predictionAt(2, 0.04)).toBe(0);
  });

  it('runs the targets in clean-logit order on the examples still standing: class 2 first (fails), then class 1', () => {
    const m = model();
    const x = tf.tensor4d(x0, [1, 2, 2, 1]);
    const labels = tf.tensor1d([0], 'int32');
    const c = ctx();
    const adv = apgd({ loss: 'dlr', targets: 3, steps: 10 }).run(m, x, { labels, targeted: false }, 0.06, c);
    // 11 gradients per run (the start and 10 steps): the run towards class 2 fails, the one towards
    // class 1 succeeds, and class 3 is never tried since nothing is left standing.
    expect(c.costs.gradients).toBe(22);
    expect(tf.tidy(() => tf.argMax(m.logits(adv), 1).dataSync()[0])).toBe(1);
    tf.dispose([x, labels, adv]);
    m.dispose();
  });

  it('refuses more targets than other classes, and leaks no tensor', async () => {
    const m = model();
    const x = tf.tensor4d(x0, [1, 2, 2, 1]);
    const labels = tf.tensor1d([0], 'int32');
    expect(() => apgd({ loss: 'dlr', targets: 9 }).run(m, x, { labels, targeted: false }, 0.1, ctx())).toThrow(/--targets 9 .* use --targets 3 or fewer/);
    expect(await leakedTensors(() => apgd({ loss: 'dlr', targets: 3, steps: 5, restarts: 2 }).run(m, x, { labels, targeted: false }, 0.02, ctx()).dispose())).toBe(0);
    tf.dispose([x, labels]);
    m.dispose();
  });
});

describe('--attack autoattack', () => {
  it('is the standard recipe: APGD-CE, APGD-T (9), FAB-T (9), Square (5,000), each 100 iterations, no restarts', () => {
    const { attacks, preset } = parseAttackSpec('autoattack');
    expect(preset).toBe('autoattack');
    expect(attacks.map((a) => a.name)).toEqual(['apgd-ce', 'apgd-t', 'fab-t', 'square']);
    const [ce, t, f, sq] = attacks.map((a) => a.config);
    expect(ce).toMatchObject({ steps: 100, restarts: 1, schedule: 'reference', suite: 'autoattack (standard version)' });
    expect(t).toMatchObject({ steps: 100, restarts: 1, targets: 9, loss: 'dlr', schedule: 'reference' });
    expect(f).toMatchObject({ steps: 100, restarts: 1, targets: 9, alphaMax: 0.1, eta: 1.05, beta: 0.9 });
    expect(sq).toMatchObject({ queries: 5000 });
  });

  it('L2: the same members in L2, Square in its L2 version with 5,000 queries', () => {
    const { attacks } = parseAttackSpec('autoattack', { norm: 'l2' });
    expect(attacks.map((a) => a.name)).toEqual(['apgd-ce-l2', 'apgd-t-l2', 'fab-t-l2', 'square-l2']);
    expect(attacks.map((a) => a.norm.name)).toEqual(['l2', 'l2', 'l2', 'l2']);
    expect(attacks[3]!.config).toMatchObject({ queries: 5000, norm: 'l2', suite: 'autoattack (standard version)' });
  });

  it('rand: APGD-CE and APGD-DLR with EOT over 20 draws', () => {
    const { attacks } = parseAttackSpec('autoattack-rand');
    expect(attacks.map((a) => a.name)).toEqual(['apgd-ce+eot20', 'apgd-dlr+eot20']);
    expect(attacks.every((a) => a.config.eotSamples === 20 && a.config.restarts === 1)).toBe(true);
  });

  it('refuses options that would change the recipe, naming the option', () => {
    expect(() => parseAttackSpec('autoattack', { steps: 50 })).toThrow(/fixed reference recipe .*drop --steps/);
    expect(() => parseAttackSpec('autoattack', { targets: 3 })).toThrow(/drop --targets/);
  });

  it('strong stays the quick suite', () => {
    expect(parseAttackSpec('strong').attacks.map((a) => a.name)).toEqual(['pgd', 'apgd-ce', 'apgd-dlr', 'square']);
  });
});

describe('the command line', () => {
  it('advtest eval --attack autoattack --steps 5: exit 2, one line naming --steps', async () => {
    const r = await runCli('eval', '--model', 'fixtures/models/mnist-cnn', '--attack', 'autoattack', '--steps', '5', '--limit', '10', '--eps', '0.1');
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/autoattack is the fixed reference recipe .*drop --steps/);
  });

  it('advtest eval --attack fab-t --targets 2 runs FAB-T against two targets and reports it', async () => {
    const r = await runCli('eval', '--model', 'fixtures/models/mnist-cnn', '--attack', 'fab-t', '--targets', '2', '--steps', '10', '--limit', '10', '--eps', '0.2');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/│ fab-t +│ 0\.2 /);
  });

  it('--targets on an attack without targets is refused', async () => {
    const r = await runCli('eval', '--model', 'fixtures/models/mnist-cnn', '--attack', 'apgd-ce', '--targets', '2', '--limit', '10');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--targets applies to apgd-t and fab-t/);
  });
});
