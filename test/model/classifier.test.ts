import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { layersClassifier } from '../../src/model/classifier.js';
import { useTestBackend } from '../helpers/backend.js';

function denseSoftmaxModel(): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.flatten({ inputShape: [2, 2, 1] }),
      tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }), biasInitializer: 'ones' }),
    ],
  });
}

describe('layersClassifier', () => {
  beforeAll(useTestBackend);

  it('differentiates the pre-softmax output of a Dense-softmax model: logits = x·W + b', () => {
    const model = denseSoftmaxModel();
    const clf = layersClassifier(model);
    const x = tf.tensor4d([0.1, 0.2, 0.3, 0.4], [1, 2, 2, 1]);
    const [W, b] = model.layers[1]!.getWeights();
    const expected = tf.add(tf.matMul(tf.reshape(x, [1, 4]), W!), b!);
    const got = clf.logits(x);
    expect(Array.from(got.dataSync())).toEqual(Array.from(expected.dataSync()).map((v) => expect.closeTo(v, 6)));
    // Softmax of the logits gives back the model's own output.
    const probs = tf.softmax(got);
    const out = model.predict(x) as tf.Tensor;
    expect(Array.from(probs.dataSync())).toEqual(Array.from(out.dataSync()).map((v) => expect.closeTo(v, 6)));
    expect(clf.describe?.()).toMatchObject({ logits: expect.stringContaining('pre-softmax') });
    // W and b are the model's own variables: the model disposes them.
    tf.dispose([x, expected, got, probs, out]);
    clf.dispose?.();
    model.dispose();
  });

  it('skips a final Softmax layer', () => {
    const model = tf.sequential({
      layers: [tf.layers.flatten({ inputShape: [2, 2, 1] }), tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }), tf.layers.softmax()],
    });
    const clf = layersClassifier(model);
    const x = tf.tensor4d([0.5, 0.2, 0.9, 0.4], [1, 2, 2, 1]);
    const dense = model.layers[1]!.apply(tf.reshape(x, [1, 4])) as tf.Tensor;
    const got = clf.logits(x);
    expect(Array.from(got.dataSync())).toEqual(Array.from(dense.dataSync()).map((v) => expect.closeTo(v, 6)));
    tf.dispose([x, dense, got]);
    model.dispose();
  });

  it('refuses a model whose input is not an image', () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 2 })] });
    expect(() => layersClassifier(model)).toThrow(/needs images/);
    model.dispose();
  });
});

describe('layersClassifier memory', () => {
  beforeAll(useTestBackend);
  it('leaves no intermediate tensor behind when reading logits before a Dense softmax', () => {
    const model = denseSoftmaxModel();
    const clf = layersClassifier(model);
    const x = tf.zeros([1, 2, 2, 1]) as tf.Tensor4D;
    clf.logits(x).dispose();
    const before = tf.memory().numTensors;
    clf.logits(x).dispose();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    model.dispose();
  });
});
