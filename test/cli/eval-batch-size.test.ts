import { mkdir, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/harness/report-types.js';
import { saveModel } from '../../src/model/store.js';
import { useTestBackend } from '../helpers/backend.js';
import { runCli } from '../helpers/cli.js';

let root: string;

beforeAll(async () => {
  await useTestBackend();
  root = await mkdtemp(path.join(tmpdir(), 'advtest-eval-batch-'));
  // A 2-class model on 96×96 RGB images, without class names.
  const model = tf.sequential({ layers: [tf.layers.globalAveragePooling2d({ inputShape: [96, 96, 3] }), tf.layers.dense({ units: 2 })] });
  model.setWeights([tf.tensor2d([[1, -1], [-1, 1], [0.5, 0.5]]), tf.tensor1d([0, 0])]);
  await saveModel(model, path.join(root, 'model'), { arch: 'tiny', bounds: { lower: 0, upper: 1 } });
  model.dispose();
  for (const [k, name] of ['light', 'dark'].entries()) {
    await mkdir(path.join(root, 'data', name), { recursive: true });
    const v = k === 0 ? 220 : 30;
    await sharp({ create: { width: 120, height: 90, channels: 3, background: { r: v, g: v, b: v } } }).png().toFile(path.join(root, 'data', name, '0.png'));
  }
});

describe('advtest eval --batch-size', () => {
  it('defaults to auto: 48 for 96×96×3 inputs, and the report notes folder labels taken by position', async () => {
    const json = path.join(root, 'report.json');
    const r = await runCli('eval', '--model', path.join(root, 'model'), '--data', `folder:${path.join(root, 'data')}`, '--attack', 'fgsm', '--eps', '0.1', '--workers', '1', '--json', json, '--quiet');
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(await readFile(json, 'utf8')) as Report;
    expect(report.config.batchSize).toBe(48);
    expect(report.data.notes?.[0]).toBe('the model has no class names: class folders are labelled by their sorted position (dark = 0, light = 1); give the model its class names to match folders by name');
  }, 60_000);

  it('keeps 128 for 28×28 digits, takes a number, and refuses anything else', async () => {
    const json = path.join(root, 'digits.json');
    const auto = await runCli('eval', '--model', 'fixtures/models/mnist-cnn', '--limit', '10', '--attack', 'fgsm', '--eps', '0.1', '--workers', '1', '--json', json, '--quiet');
    expect(auto.code, auto.stderr).toBe(0);
    expect((JSON.parse(await readFile(json, 'utf8')) as Report).config.batchSize).toBe(128);
    const bad = await runCli('eval', '--model', 'fixtures/models/mnist-cnn', '--limit', '10', '--batch-size', 'lots', '--eps', '0.1', '--quiet');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('advtest: --batch-size "lots" must be auto or a positive integer\n');
  }, 60_000);
});
