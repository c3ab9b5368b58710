import { readdir } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../src/model/store.js';
import { fixtureModelPath } from '../../src/package-info.js';
import type { Classifier } from '../../src/types.js';
import { leakedTensors, useTestBackend } from '../helpers/backend.js';

const PHOTOS = path.resolve(import.meta.dirname, '..', '..', 'fixtures', 'photos');
const VARIANTS = ['mobilenet-tiny-graph', 'mobilenet-tiny-bn-noscale', 'mobilenet-tiny-pm1', 'mobilenet-tiny-meanstd'] as const;

/** Centre crops of every photo at 96×96 (bilinear), in [0, 1], with their folder index. */
async function photos(): Promise<{ x: tf.Tensor4D; labels: number[]; classes: string[] }> {
  const classes = (await readdir(PHOTOS, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  const images: tf.Tensor4D[] = [];
  const labels: number[] = [];
  for (const [label, name] of classes.entries()) {
    for (const file of (await readdir(path.join(PHOTOS, name))).sort()) {
      const { data, info } = await sharp(path.join(PHOTOS, name, file)).resize(96, 96, { fit: 'cover' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      images.push(tf.tidy(() => tf.div(tf.tensor4d(Float32Array.from(data), [1, info.height, info.width, 3]), 255)));
      labels.push(label);
    }
  }
  const x = tf.concat(images);
  tf.dispose(images);
  return { x, labels, classes };
}

const loss = (clf: Classifier, labels: number[]) => (t: tf.Tensor) => tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d(labels, 'int32'), 6), clf.logits(t as tf.Tensor4D));

// On the test backend (wasm with the project's kernels, depthwise gradients included: 5× faster than cpu here).
describe('MobileNet-class fixtures (fixtures/models/mobilenet-tiny*)', () => {
  let data: Awaited<ReturnType<typeof photos>>;
  let reference: Classifier;
  beforeAll(async () => {
    await useTestBackend();
    data = await photos();
    reference = await loadModel(fixtureModelPath('mobilenet-tiny'));
  });

  it('mobilenet-tiny: a LayersModel whose metadata.json labels are the photo folders, and which classifies most photos', async () => {
    expect(reference.inputShape).toEqual([96, 96, 3]);
    expect(reference.classNames).toEqual(data.classes);
    expect(reference.gradientUnavailable).toBeUndefined();
    expect(reference.describe?.()).toMatchObject({ logits: expect.stringContaining('pre-softmax'), preprocessing: expect.stringMatching(/^none/) });
    const predicted = tf.tidy(() => Array.from(tf.argMax(reference.logits(data.x), 1).dataSync()));
    const correct = predicted.filter((p, i) => p === data.labels[i]).length;
    expect(correct).toBeGreaterThanOrEqual(9);
  });

  for (const name of VARIANTS) {
    it(`${name}: same logits and input gradient on photos as mobilenet-tiny, through its own preprocessing / BN / graph form`, async () => {
      const clf = await loadModel(fixtureModelPath(name));
      expect(clf.bounds).toEqual({ lower: 0, upper: 1 });
      expect(clf.gradientUnavailable).toBeUndefined();
      expect(clf.classNames).toEqual(data.classes);
      const got = clf.logits(data.x);
      const want = reference.logits(data.x);
      const scale = Math.max(...Array.from(want.abs().dataSync()));
      expect(tf.max(tf.abs(tf.sub(got, want))).dataSync()[0]!).toBeLessThan(1e-4 * scale);
      // Two photos keep the gradient short.
      const two = data.x.slice([0, 0, 0, 0], [2, 96, 96, 3]);
      const g = tf.grad(loss(clf, data.labels.slice(0, 2)))(two);
      const gRef = tf.grad(loss(reference, data.labels.slice(0, 2)))(two);
      two.dispose();
      const rel = tf.tidy(() => tf.div(tf.norm(tf.sub(g, gRef)), tf.norm(gRef)).dataSync()[0]!);
      expect(rel).toBeLessThan(1e-3);
      tf.dispose([got, want, g, gRef]);
      clf.dispose?.();
    });
  }

  it('describes what it did: preprocessing from metadata, BN folded, softmax seen behind Identity', async () => {
    const describe = async (name: string) => {
      const clf = await loadModel(fixtureModelPath(name));
      const d = clf.describe?.();
      clf.dispose?.();
      return d;
    };
    expect(await describe('mobilenet-tiny-pm1')).toMatchObject({ preprocessing: '[0, 1]→[-1, 1]' });
    expect(await describe('mobilenet-tiny-meanstd')).toMatchObject({ preprocessing: 'RGB→BGR; (x − [0.406, 0.456, 0.485]) / [0.225, 0.224, 0.229]' });
    // Loaded to be evaluated, so each BN (γ-less here) is folded into the convolution before it.
    expect(await describe('mobilenet-tiny-bn-noscale')).toMatchObject({ batchNormFolded: expect.stringMatching(/^13 batch norm layer/) });
    expect(await describe('mobilenet-tiny')).toMatchObject({ batchNormFolded: expect.stringMatching(/^13 batch norm layer/) });
    expect(await describe('mobilenet-tiny-graph')).toMatchObject({ format: 'graph-model', logits: 'pre-softmax (node predictions/logits)', softmaxNode: 'predictions/Softmax (behind Identity output Identity)' });
  });

  for (const name of ['mobilenet-tiny', ...VARIANTS]) {
    it(`${name}: load + logits + gradient + dispose leaves no tensor behind, timed`, async () => {
      const x = data.x.slice([0, 0, 0, 0], [1, 96, 96, 3]);
      const run = async () => {
        const clf = await loadModel(fixtureModelPath(name));
        tf.dispose([clf.logits(x), tf.grad(loss(clf, [data.labels[0]!]))(x)]);
        clf.dispose?.();
      };
      // A first run fills tfjs's one-time caches; the second must leave nothing behind.
      await run();
      const start = performance.now();
      const leaked = await leakedTensors(run);
      const ms = performance.now() - start;
      console.log(`${name}: load + logits + gradient ${ms.toFixed(0)} ms (${tf.getBackend()})`);
      expect(leaked).toBe(0);
      x.dispose();
    });
  }
});
