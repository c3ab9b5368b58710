/**
 * Issue 18 items 12 (diverging training) and 13 (damaged checkpoint): training whose loss or
 * weights become non-finite stops with the epoch and step and the fix, and writes no model; a
 * truncated or torn checkpoint is refused with advice instead of crashing.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { buildArchitecture } from '../../src/model/architectures.js';
import { loadCheckpoint, saveCheckpoint } from '../../src/train/checkpoint.js';
import { trainModel } from '../../src/train/loop.js';
import { leakedTensors, useTestBackend } from '../helpers/backend.js';
import { runCli } from '../helpers/cli.js';
import { tinyDataset } from '../helpers/data.js';
import { twoImageFolder } from './folders.js';

describe('training that diverges', () => {
  beforeAll(useTestBackend);

  it('trainModel stops at the first non-finite loss, naming epoch, step and the learning rate', async () => {
    const data = tinyDataset([[0, 1], [1, 0], [0.2, 0.9], [0.8, 0.1]], [0, 1, 0, 1]);
    // Seeded weights: with random ones a step of 1e30 can leave every ReLU dead and the loss large
    // but finite, so whether training diverged depended on the draw.
    const init = (seed: number) => ({ kernelInitializer: tf.initializers.glorotUniform({ seed }) });
    const model = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [1, 2, 1] }), tf.layers.dense({ units: 8, activation: 'relu', ...init(1) }), tf.layers.dense({ units: 2, ...init(2) })] });
    let err: unknown;
    const leaked = await leakedTensors(async () => {
      err = await trainModel(model, data, { epochs: 3, batchSize: 2, learningRate: 1e30, optimizer: 'sgd' }).catch((e: unknown) => e);
    });
    model.dispose();
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(/^training diverged at epoch \d+, step \d+ of 2: (the loss is (NaN|Infinity)|weight \S+ holds NaN or infinite values) \(learning rate 1e\+30\); no model was written: lower the learning rate \(--lr\)/);
    expect(leaked).toBe(0);
  });

  it('advtest train --lr 1e30: exit 2, one line, no model folder', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'advtest-diverge-'));
    const data = `folder:${await twoImageFolder(path.join(dir, 'data'))}`;
    const out = path.join(dir, 'model');
    const r = await runCli('train', '--arch', 'mlp', '--data', data, '--epochs', '2', '--holdout', '0', '--lr', '1e30', '--optimizer', 'sgd', '--out', out, '--quiet');
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^advtest: training diverged at epoch \d+, step 1 of 1: .*lower the learning rate \(--lr\)/);
    expect(existsSync(out)).toBe(false);
  });
});

describe('a damaged checkpoint', () => {
  beforeAll(useTestBackend);

  async function saved(): Promise<string> {
    const dir = path.join(await mkdtemp(path.join(tmpdir(), 'advtest-ckpt-')), 'training');
    const weights = [tf.ones([3, 2]), tf.zeros([2])];
    await saveCheckpoint(dir, { key: 'k', epoch: 1, globalStep: 4, rngState: {}, history: [], model: weights, optimizer: [{ name: 'iter', tensor: tf.scalar(4, 'int32') }] });
    tf.dispose(weights);
    return dir;
  }

  it('loads whole; refuses truncated weights and torn JSON with one line saying to delete it', async () => {
    const good = await saved();
    const state = (await loadCheckpoint(good, 'k'))!;
    expect(state.epoch).toBe(1);
    tf.dispose([...state.model, ...state.optimizer.map((o) => o.tensor)]);

    const truncated = await saved();
    await truncate(path.join(truncated, 'model.bin'), 10);
    const a = await loadCheckpoint(truncated, 'k').catch((e: unknown) => e);
    expect(a).toBeInstanceOf(UserError);
    expect((a as Error).message).toBe(`checkpoint ${truncated} is damaged (model.bin holds 10 bytes, its manifest describes 32): delete ${truncated} to start this training afresh`);

    const torn = await saved();
    const json = await readFile(path.join(torn, 'checkpoint.json'), 'utf8');
    await writeFile(path.join(torn, 'checkpoint.json'), json.slice(0, Math.floor(json.length / 2)));
    const b = await loadCheckpoint(torn, 'k').catch((e: unknown) => e);
    expect(b).toBeInstanceOf(UserError);
    expect((b as Error).message).toMatch(new RegExp(`^checkpoint ${torn.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is damaged \\(checkpoint\\.json: .+\\): delete \\S+ to start this training afresh$`));
  });
});
