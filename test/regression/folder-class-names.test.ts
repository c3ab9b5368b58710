import { mkdir, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { saveModel } from '../../src/model/store.js';
import { recordBaseline } from '../../src/regression/baseline.js';
import { runCheck } from '../../src/regression/check.js';
import { loadSpecData } from '../../src/regression/run-spec.js';
import type { EvaluationSpec } from '../../src/regression/baseline-file.js';
import { useTestBackend } from '../helpers/backend.js';

/**
 * A model whose classes are ['dog', 'cat'] and a folder: dataset with sub-folders cat/ and dog/:
 * by sorted position cat would be class 0, by name it is class 1. baseline and check must label
 * by name, as eval does.
 */
describe('baseline and check label folder: data by the model class names', () => {
  let root: string;
  let modelDir: string;
  let data: string;
  beforeAll(async () => {
    await useTestBackend();
    root = await mkdtemp(path.join(tmpdir(), 'advtest-spec-names-'));
    modelDir = path.join(root, 'model');
    // Mean red minus mean green: red images are "dog" (0), green ones "cat" (1).
    const model = tf.sequential({ layers: [tf.layers.globalAveragePooling2d({ inputShape: [8, 8, 3] }), tf.layers.dense({ units: 2 })] });
    model.setWeights([tf.tensor2d([[4, -4], [-4, 4], [0, 0]]), tf.tensor1d([0, 0])]);
    await saveModel(model, modelDir, { arch: 'tiny', bounds: { lower: 0, upper: 1 }, classNames: ['dog', 'cat'] });
    model.dispose();
    data = path.join(root, 'photos');
    const colours: Record<string, [number, number, number]> = { cat: [40, 200, 40], dog: [200, 40, 40] };
    for (const [name, rgb] of Object.entries(colours)) {
      await mkdir(path.join(data, name), { recursive: true });
      for (const k of [0, 1]) {
        const bytes = Buffer.alloc(8 * 8 * 3);
        for (let i = 0; i < 64; i++) bytes.set(rgb.map((c) => c + k * 10), i * 3);
        await sharp(bytes, { raw: { width: 8, height: 8, channels: 3 } }).png().toFile(path.join(data, name, `${k}.png`));
      }
    }
  });

  it('loadSpecData matches sub-folders to the class names it is given', async () => {
    const spec = { data: `folder:${data}`, split: 'test' } as EvaluationSpec;
    const { data: ds } = await loadSpecData(spec, root, [8, 8, 3], ['dog', 'cat']);
    expect(ds.ids).toEqual(['cat/0.png', 'cat/1.png', 'dog/0.png', 'dog/1.png']);
    expect(Array.from(ds.labels)).toEqual([1, 1, 0, 0]);
  });

  it('recordBaseline and runCheck evaluate with labels by name (the model is 100% right, not 0%)', async () => {
    const out = path.join(root, 'robustness.json');
    const { report } = await recordBaseline({
      modelDir,
      data: `folder:${data}`,
      request: { attack: 'fgsm' },
      epsilons: [0.01],
      seed: 0,
      batchSize: 4,
      target: 'untargeted',
      out,
    });
    expect(report.examples.labels).toEqual([1, 1, 0, 0]);
    expect(report.clean.accuracy).toBe(1);
    expect(report.data.notes).toContain("class folders matched to the model's class names: 2 of 2 classes");
    const stored = JSON.parse(await readFile(out, 'utf8')) as { figures: { clean: { correct: number } } };
    expect(stored.figures.clean.correct).toBe(4);
    const check = await runCheck({ baseline: out, compare: { tolerance: 0.01, alpha: 0.05, test: 'paired' } });
    expect(check.report.examples.labels).toEqual([1, 1, 0, 0]);
    expect(check.passed).toBe(true);
  });
});
