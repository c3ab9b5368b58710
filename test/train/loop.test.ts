import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { balancedSubset } from '../../src/data/dataset.js';
import { loadMnist } from '../../src/data/mnist.js';
import { buildArchitecture } from '../../src/model/architectures.js';
import { trainModel, type HookContext, type TrainingBatch } from '../../src/train/loop.js';
import { collapsed, heldOutRecord } from '../../src/train/monitor.js';
import type { Attack } from '../../src/types.js';
import { linf } from '../../src/tensor/norms.js';
import { leakedTensors, useTestBackend } from '../helpers/backend.js';

describe('trainModel', () => {
  beforeAll(useTestBackend);
  const data = balancedSubset(loadMnist('train'), 256);

  it('trains the mnist-cnn on wasm (needs our Conv2DBackpropFilter) and lowers the loss', async () => {
    const model = buildArchitecture('mnist-cnn', [28, 28, 1], 10, 1);
    const losses: number[] = [];
    await trainModel(model, data, { epochs: 3, batchSize: 64, seed: 1, onStep: (p) => losses.push(p.loss) });
    const first = losses.slice(0, 4).reduce((a, b) => a + b) / 4;
    const last = losses.slice(-4).reduce((a, b) => a + b) / 4;
    expect(last).toBeLessThan(first * 0.8);
    model.dispose();
  });

  it('is reproducible: the same seed gives the same weights', async () => {
    const weightsAfter = async () => {
      const model = buildArchitecture('mlp', [28, 28, 1], 10, 3);
      await trainModel(model, data, { epochs: 1, batchSize: 32, seed: 5 });
      const w = model.getWeights().map((t) => Array.from(t.dataSync()));
      model.dispose();
      return w;
    };
    expect(await weightsAfter()).toEqual(await weightsAfter());
  });

  it('leaks no tensor over a training run (optimizer state included)', async () => {
    const model = buildArchitecture('mlp', [28, 28, 1], 10, 3);
    // The model's own variables exist before; the run must add nothing that stays.
    expect(await leakedTensors(() => trainModel(model, data, { epochs: 1, batchSize: 64, seed: 1, optimizer: 'nesterov' }))).toBe(0);
    expect(await leakedTensors(() => trainModel(model, data, { epochs: 1, batchSize: 64, seed: 1, optimizer: 'adam' }))).toBe(0);
    model.dispose();
  });

  it('applies the gradient hook (zero gradients leave the weights unchanged)', async () => {
    const model = buildArchitecture('mlp', [28, 28, 1], 10, 3);
    const before = model.getWeights().map((t) => Array.from(t.dataSync()));
    await trainModel(model, data, {
      epochs: 1,
      optimizer: 'sgd',
      hooks: { gradients: (g) => Object.fromEntries(Object.entries(g).map(([k, v]) => [k, tf.zerosLike(v)])) },
    });
    expect(model.getWeights().map((t) => Array.from(t.dataSync()))).toEqual(before);
    model.dispose();
  });

  it('awaits an async batch hook before the tape, hands its batch to the loss hook, and frees it', async () => {
    const model = buildArchitecture('mlp', [28, 28, 1], 10, 3);
    const seen: TrainingBatch[] = [];
    let losses = 0;
    const leaked = await leakedTensors(() =>
      trainModel(model, data, {
        epochs: 1,
        batchSize: 128,
        hooks: {
          batch: async (x, y) => {
            await new Promise((r) => setTimeout(r, 1));
            const b = { x: tf.concat([x, x]) as tf.Tensor4D, y: tf.concat([y, y]) as tf.Tensor1D, clean: x.shape[0] };
            seen.push(b);
            return b;
          },
          loss: (logits, y, _ctx, batch) => {
            losses++;
            expect(batch).toBe(seen[seen.length - 1]);
            expect(logits.shape[0]).toBe(2 * batch.clean!);
            return tf.losses.softmaxCrossEntropy(tf.oneHot(tf.cast(y, 'int32'), 10), logits) as tf.Scalar;
          },
        },
      }),
    );
    expect(seen).toHaveLength(2);
    expect(losses).toBe(2);
    expect(seen.every((b) => b.x.isDisposed && b.y.isDisposed)).toBe(true);
    expect(leaked).toBe(0);
    model.dispose();
  });

  it('calls afterStep after every update, with the model and the scheduled learning rate', async () => {
    const model = buildArchitecture('mlp', [28, 28, 1], 10, 3);
    const calls: HookContext[] = [];
    const rates: number[] = [];
    await trainModel(model, data, {
      epochs: 2,
      batchSize: 128,
      learningRate: 0.01,
      optimizer: 'sgd',
      schedule: 'step',
      hooks: { afterStep: (ctx) => void calls.push(ctx) },
      onStep: (p) => rates.push(p.learningRate),
    });
    expect(calls.map((c) => c.step)).toEqual([0, 1, 2, 3]);
    expect(calls[0]!.model).toBe(model);
    rates.forEach((r, i) => expect(r).toBeCloseTo([0.01, 0.01, 0.001, 0.0001][i]!, 10));
    model.dispose();
  });

  it('measures held-out robustness after each epoch and stops early on a collapse, restoring the previous weights', async () => {
    const model = buildArchitecture('mlp', [28, 28, 1], 10, 3);
    const heldOut = balancedSubset(loadMnist('test'), 100);
    // A stand-in attack that does nothing in epoch 1 and blanks every image in epoch 2 (ε = 1
    // allows it): the monitored accuracy collapses to that of one class.
    let calls = 0;
    const collapse: Attack = { name: 'collapse', norm: linf, config: {}, run: (_m, x) => (calls++ === 0 ? tf.clone(x) : tf.zerosLike(x)) };
    const afterFirst: number[][] = [];
    const summary = await trainModel(model, data, {
      epochs: 4,
      batchSize: 64,
      seed: 1,
      monitor: { data: heldOut, attack: collapse, eps: 1 },
      earlyStop: { drop: 0.2 },
      onEpoch: (p) => {
        if (p.epoch === 0) afterFirst.push(...model.getWeights().map((t) => Array.from(t.dataSync())));
      },
    });
    expect(summary.history).toHaveLength(2);
    const [first, second] = summary.history;
    expect(first!.heldOut!.robust).toBe(first!.heldOut!.clean);
    expect(first!.heldOut!.clean).toBeGreaterThan(0.3);
    expect(second!.heldOut!.robust).toBeLessThanOrEqual(0.1);
    expect(second!.stopped).toMatch(/collapse accuracy fell from .* catastrophic overfitting/);
    expect(summary.stoppedEarly).toMatchObject({ epoch: 1, restoredEpoch: 0 });
    expect(model.getWeights().map((t) => Array.from(t.dataSync()))).toEqual(afterFirst);
    model.dispose();
  });

  it('flags an epoch whose network gives every input one output (loss ln K, chance accuracy), and not a learning one', async () => {
    // All weights zero: every ReLU outputs 0 and passes no gradient, so only the last bias learns,
    // towards the class prior of this balanced set — uniform output, loss ln 10.
    const dead = buildArchitecture('mlp', [28, 28, 1], 10, 3);
    dead.setWeights(dead.getWeights().map((w) => tf.zerosLike(w)));
    const stuck = await trainModel(dead, data, { epochs: 1, batchSize: 32, seed: 5 });
    expect(stuck.history[0]!.loss).toBeCloseTo(Math.log(10), 2);
    expect(stuck.history[0]!.collapsed).toBe(true);
    dead.dispose();
    const alive = buildArchitecture('mlp', [28, 28, 1], 10, 3);
    const learning = await trainModel(alive, data, { epochs: 1, batchSize: 32, seed: 5 });
    expect(learning.history[0]!.collapsed).toBeUndefined();
    alive.dispose();
  });

  it('collapsed(): loss within 1% of ln K and accuracy ≤ 1.5/K, held-out clean accuracy taking precedence', () => {
    const epoch = { epoch: 0, epochs: 1, loss: 2.306, accuracy: 0.105 };
    expect(collapsed(epoch, 10)).toBe(true);
    expect(collapsed({ ...epoch, loss: 2.25 }, 10)).toBe(false); // 2.3% below ln 10 = 2.3026
    expect(collapsed({ ...epoch, accuracy: 0.16 }, 10)).toBe(false);
    // Adversarial training's batches can be at chance while clean held-out accuracy shows learning.
    expect(collapsed({ ...epoch, heldOut: { clean: 0.6, robust: 0, n: 200 } }, 10)).toBe(false);
    expect(collapsed({ ...epoch, accuracy: 0.9, heldOut: { clean: 0.1, robust: 0, n: 200 } }, 10)).toBe(true);
    expect(collapsed({ ...epoch, loss: Math.log(2), accuracy: 0.5 }, 2)).toBe(true);
  });

  it("keeps a collapsed epoch's flag in the model's held-out record (model.json's training.heldOut)", () => {
    const probe = { clean: 0.1, robust: 0, n: 200 };
    const record = heldOutRecord(200, 'pgd', 0.3, [
      { epoch: 0, epochs: 2, loss: 2.3026, accuracy: 0.1, heldOut: probe, collapsed: true },
      { epoch: 1, epochs: 2, loss: 1.2, accuracy: 0.6, heldOut: { ...probe, clean: 0.7 } },
    ]);
    expect(record.history.map((h) => h.collapsed)).toEqual([true, undefined]);
  });

  it('records the cumulative training time (wall and CPU) of every epoch, carried over a resumed run', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'advtest-train-time-'));
    const checkpoint = { dir: path.join(dir, 'run.checkpoint'), key: 'time-test' };
    const train = async (epochs: number) => {
      const model = buildArchitecture('mlp', [28, 28, 1], 10, 3);
      // A slow step hook stands in for real work, so that the times have a floor to check.
      const summary = await trainModel(model, data, { epochs, batchSize: 128, seed: 2, checkpoint, hooks: { afterStep: () => void Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20) } });
      model.dispose();
      return summary.history;
    };
    try {
      const [first] = await train(1);
      const history = await train(3);
      expect(history).toHaveLength(3);
      // Two steps of ≥ 20 ms per epoch: each epoch adds at least 0.04 s of wall time.
      expect(first!.seconds!).toBeGreaterThanOrEqual(0.04);
      expect(history[0]!.seconds).toBe(first!.seconds);
      expect(history[0]!.cpuSeconds).toBe(first!.cpuSeconds);
      for (let i = 1; i < 3; i++) {
        expect(history[i]!.seconds! - history[i - 1]!.seconds!).toBeGreaterThanOrEqual(0.04);
        expect(history[i]!.cpuSeconds!).toBeGreaterThan(history[i - 1]!.cpuSeconds!);
      }
      // A checkpoint written before times were recorded: no epoch gets a sum that would leave it out.
      const file = path.join(checkpoint.dir, 'checkpoint.json');
      await rm(checkpoint.dir, { recursive: true, force: true });
      await train(1);
      const old = JSON.parse(await readFile(file, 'utf8')) as { history: Record<string, unknown>[] };
      old.history.forEach((h) => (delete h['seconds'], delete h['cpuSeconds']));
      await writeFile(file, JSON.stringify(old));
      const resumed = await train(2);
      expect(resumed).toHaveLength(2);
      expect(resumed.map((h) => h.seconds)).toEqual([undefined, undefined]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
