import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { datasetFromImages } from '../../src/browser/dataset.js';
import { imageToTensor } from '../../src/browser/images.js';
import { loadModelFrom } from '../../src/browser/load-model.js';
import { UserError } from '../../src/errors.js';
import { fileLoader } from '../../src/model/fs-io.js';
import { loadModel } from '../../src/model/store.js';
import { leakedTensors, useTestBackend } from '../helpers/backend.js';

const MODEL = 'fixtures/models/mnist-cnn';

describe('the browser entry’s loaders (run in Node through IO handlers and pixel data)', () => {
  beforeAll(useTestBackend);

  it('wraps a model from any IOHandler exactly as loadModel wraps the folder, and frees it', async () => {
    const x = tf.randomUniform([3, 28, 28, 1], 0, 1, 'float32', 7) as tf.Tensor4D;
    const folder = await loadModel(MODEL);
    const expected = await folder.logits(x).array();
    const folderFacts = folder.describe?.();
    folder.dispose?.();
    const leaked = await leakedTensors(async () => {
      const m = await loadModelFrom(fileLoader(MODEL), { labels: ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'] });
      expect(m.classNames?.[3]).toBe('three');
      expect(m.describe?.().preprocessing).toBe(folderFacts?.preprocessing);
      expect(m.describe?.().logits).toBe(folderFacts?.logits);
      const logits = m.logits(x);
      expect(await logits.array()).toEqual(expected);
      logits.dispose();
      m.dispose?.();
    });
    expect(leaked).toBe(0);
    x.dispose();
  });

  it('names what is wrong with the files or labels given', async () => {
    const file = (name: string) => ({ name }) as unknown as File;
    await expect(loadModelFrom([file('a.json'), file('b.json'), file('w.bin')])).rejects.toThrow(/a\.json, b\.json, w\.bin: give exactly one model\.json/);
    await expect(loadModelFrom(fileLoader(MODEL), { labels: ['a', 'b'] })).rejects.toThrow(UserError);
    const images = tf.zeros([2, 2, 2, 1]) as tf.Tensor4D;
    expect(() => datasetFromImages('d', images, [0], ['a', 'b'])).toThrow(/1 labels for 2 images/);
    expect(() => datasetFromImages('d', images, [0, 2], ['a', 'b'], ['x.png', 'y.png'])).toThrow(/label 2 of image y\.png is not a class index 0\.\.1/);
    expect(datasetFromImages('d', images, [0, 1], ['a', 'b']).ids).toEqual(['0', '1']);
    images.dispose();
  });

  it('turns RGBA pixels into the CLI decoder’s k/255 values (alpha on white, BT.601 luma) without leaking', async () => {
    // 2×1 RGBA: opaque pure red, and half-transparent black.
    const data = { width: 2, height: 1, data: new Uint8Array([255, 0, 0, 255, 0, 0, 0, 128]) };
    let grey: number[] = [];
    let rgb: number[] = [];
    const leaked = await leakedTensors(async () => {
      const g = imageToTensor(data, [1, 2, 1]);
      const c = imageToTensor(data, [1, 2, 3]);
      grey = Array.from(await g.data());
      rgb = Array.from(await c.data());
      tf.dispose([g, c]);
    });
    expect(leaked).toBe(0);
    // red: floor((299·255 + 500)/1000) = 76; black at α=128 over white: round(255·127/255) = 127.
    expect(grey).toEqual([76 / 255, 127 / 255].map(Math.fround));
    expect(rgb).toEqual([1, 0, 0, 127 / 255, 127 / 255, 127 / 255].map(Math.fround));
    expect(() => imageToTensor(data, [28, 28, 1])).toThrow(/image is 2×1 but the model takes 28×28: resize it, or pass \{ resize: true \}/);
    expect(await leakedTensors(() => imageToTensor(data, [4, 4, 1], { resize: true }).dispose())).toBe(0);
  });
});
