import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { layersClassifier } from '../../src/model/classifier.js';
import { applyPreprocessing, describePreprocessing, validatePreprocessing, withPreprocessing, type Preprocessing } from '../../src/model/preprocessing.js';
import { scoreClassifier } from '../../src/model/score-model.js';
import { leakedTensors, useTestBackend } from '../helpers/backend.js';

const SHAPE = [2, 2, 3] as const;
const PIXELS = Array.from({ length: 12 }, (_, i) => ((i * 37) % 255) / 255);

/** The model's input for pixel value v of channel c (model order) by the documented formula, in plain JS. */
function byHand(pixels: number[], p: Preprocessing): number[] {
  const out: number[] = [];
  for (let i = 0; i < pixels.length; i += 3) {
    const rgb = pixels.slice(i, i + 3);
    const ordered = p.channelOrder === 'bgr' ? [...rgb].reverse() : rgb;
    ordered.forEach((v, c) => {
      const lo = p.range?.lower ?? 0;
      const hi = p.range?.upper ?? 1;
      out.push((lo + v * (hi - lo) - (p.mean?.[c] ?? 0)) / (p.std?.[c] ?? 1));
    });
  }
  return out;
}

function denseModel(): tf.LayersModel {
  return tf.sequential({
    layers: [tf.layers.flatten({ inputShape: [...SHAPE] }), tf.layers.dense({ units: 4, activation: 'tanh', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }), tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) })],
  });
}

const CASES: Record<string, Preprocessing> = {
  'range [-1, 1]': { range: { lower: -1, upper: 1 } },
  'range [0, 255] + BGR + caffe mean': { range: { lower: 0, upper: 255 }, channelOrder: 'bgr', mean: [103.939, 116.779, 123.68] },
  'torchvision mean/std': { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
};

describe('preprocessing: the model input contract as a differentiable first step', () => {
  beforeAll(useTestBackend);

  for (const [name, p] of Object.entries(CASES)) {
    it(`${name}: logits of the wrapped classifier on pixels = the raw model's on the hand-transformed input; gradients follow the chain rule`, () => {
      const model = denseModel();
      const raw = layersClassifier(model);
      const clf = withPreprocessing(raw, p);
      expect(clf.bounds).toEqual({ lower: 0, upper: 1 });
      expect(clf.describe?.()).toMatchObject({ preprocessing: describePreprocessing(p) });
      const x = tf.tensor4d(PIXELS, [1, ...SHAPE]);
      const z = tf.tensor4d(byHand(PIXELS, p), [1, ...SHAPE]);
      const got = clf.logits(x);
      const want = raw.logits(z);
      expect(Array.from(got.dataSync())).toEqual(Array.from(want.dataSync()).map((v) => expect.closeTo(v, 4)));
      // d/dx f(T(x)) = Jᵀ ∇f(z): T scales channel c (model order) by (hi − lo)/std_c and permutes.
      const loss = (m: typeof raw) => (t: tf.Tensor) => tf.sum(tf.mul(m.logits(t as tf.Tensor4D), tf.tensor1d([1, -2, 0.5])));
      const gx = tf.grad(loss(clf))(x).dataSync();
      const gz = tf.grad(loss(raw))(z).dataSync();
      const span = (p.range?.upper ?? 1) - (p.range?.lower ?? 0);
      for (let i = 0; i < gx.length; i++) {
        const pixel = i % 3;
        const c = p.channelOrder === 'bgr' ? 2 - pixel : pixel;
        const j = i - pixel + c;
        expect(gx[i]).toBeCloseTo((gz[j]! * span) / (p.std?.[c] ?? 1), 4);
      }
      tf.dispose([x, z, got, want]);
      model.dispose();
    });
  }

  it('applyPreprocessing matches the formula element by element', () => {
    const p = CASES['range [0, 255] + BGR + caffe mean']!;
    const y = applyPreprocessing(tf.tensor4d(PIXELS, [1, ...SHAPE]), p);
    expect(Array.from(y.dataSync())).toEqual(byHand(PIXELS, p).map((v) => expect.closeTo(v, 3)));
    y.dispose();
  });

  it('takes a base classifier whose bounds are not [0, 1] as expecting that range', () => {
    const model = denseModel();
    const raw = layersClassifier(model, { bounds: { lower: -1, upper: 1 } });
    const clf = withPreprocessing(raw, {});
    expect(clf.bounds).toEqual({ lower: 0, upper: 1 });
    expect(clf.describe?.()).toMatchObject({ preprocessing: '[0, 1]→[-1, 1]' });
    const x = tf.tensor4d(PIXELS, [1, ...SHAPE]);
    const z = tf.tensor4d(PIXELS.map((v) => 2 * v - 1), [1, ...SHAPE]);
    expect(Array.from(clf.logits(x).dataSync())).toEqual(Array.from(raw.logits(z).dataSync()).map((v) => expect.closeTo(v, 5)));
    model.dispose();
  });

  it('sends score-only models the preprocessed values', async () => {
    let seen: Float32Array | undefined;
    const remote = scoreClassifier(
      async (images, [n]) => {
        seen = images.slice();
        return Array.from({ length: n }, () => [0, 1]);
      },
      { inputShape: [...SHAPE], numClasses: 2 },
    );
    const clf = withPreprocessing(remote, { range: { lower: 0, upper: 255 } });
    const x = tf.tensor4d(PIXELS, [1, ...SHAPE]);
    const scores = await clf.query!(x);
    expect(Array.from(seen!)).toEqual(PIXELS.map((v) => expect.closeTo(v * 255, 3)));
    expect(clf.gradientUnavailable).toBe(remote.gradientUnavailable);
    tf.dispose([x, scores]);
  });

  it('leaves no tensor behind (logits, gradient)', async () => {
    const model = denseModel();
    const clf = withPreprocessing(layersClassifier(model), CASES['range [0, 255] + BGR + caffe mean']!);
    const x = tf.tensor4d(PIXELS, [1, ...SHAPE]);
    expect(await leakedTensors(() => tf.dispose([clf.logits(x), tf.grad((t: tf.Tensor) => tf.sum(clf.logits(t as tf.Tensor4D)))(x)]))).toBe(0);
    x.dispose();
    model.dispose();
  });

  it('refuses mean/std of the wrong length, std ≤ 0, an empty range and bgr on grey models, naming the value', () => {
    const refuse = (p: Preprocessing, channels: number, source: string) => {
      try {
        validatePreprocessing(p, channels, source);
      } catch (err) {
        expect(err).toBeInstanceOf(UserError);
        return (err as Error).message;
      }
      throw new Error('accepted');
    };
    expect(refuse({ mean: [0.5, 0.5] }, 3, 'cli')).toBe('--mean 0.5,0.5 has 2 values but the model takes 3 channels: give one mean per channel');
    expect(refuse({ std: [0.2, 0, 0.2] }, 3, 'cli')).toBe('--std 0.2,0,0.2 has a value ≤ 0: standard deviations must be positive');
    expect(refuse({ std: [1, 1, 1, 1] }, 3, 'm/model.json')).toBe('m/model.json: std 1,1,1,1 has 4 values but the model takes 3 channels: give one std per channel');
    expect(refuse({ range: { lower: 1, upper: 1 } }, 3, 'cli')).toMatch(/^--input-range \[1, 1\] is not an interval/);
    expect(refuse({ channelOrder: 'bgr' }, 1, 'cli')).toMatch(/^--channel-order bgr needs 3 channels but the model takes 1/);
  });
});
