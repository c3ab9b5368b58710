import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/select.js';
import { layersClassifier } from '../../src/model/classifier.js';
import { logitsNodeOf } from '../../src/model/graph.js';
import { leakedTensors } from '../helpers/backend.js';

// tfjs's own backward passes are what is checked here: cpu, where every kernel exists.
beforeAll(() => initBackend('cpu'));

/** conv → BN(options) → relu → dense, with non-trivial moving statistics. */
function bnModel(bn: { scale?: boolean; center?: boolean }, seed: number): tf.LayersModel {
  const input = tf.input({ shape: [5, 5, 2] });
  let x = tf.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', kernelInitializer: tf.initializers.glorotUniform({ seed }) }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ ...bn, epsilon: 1e-3 }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.activation({ activation: 'tanh' }).apply(x) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 4, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }) }).apply(tf.layers.flatten().apply(x)) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

/** Copies weights into `to` in order, setting the γ / β `from` lacks to 1 / 0. */
function copyInto(from: tf.LayersModel, to: tf.LayersModel): void {
  const source = from.weights;
  let j = 0;
  for (const w of to.weights) {
    const short = w.originalName.split('/').pop()!;
    if (source[j] && source[j]!.originalName.split('/').pop() === short) w.write(source[j++]!.read());
    else if (short === 'gamma') w.write(tf.ones(w.shape as number[]));
    else if (short === 'beta') w.write(tf.zeros(w.shape as number[]));
    else throw new Error(`no value for ${w.originalName}`);
  }
}

const x = () => tf.randomUniform([2, 5, 5, 2], 0, 1, 'float32', 7) as tf.Tensor4D;
const lossOf = (f: (t: tf.Tensor4D) => tf.Tensor2D) => (t: tf.Tensor) => tf.sum(tf.mul(f(t as tf.Tensor4D), tf.tensor1d([1, -1, 0.5, 2])));

describe('batch norm without scale or center (tensorflow/tfjs#2868)', () => {
  for (const bn of [{ scale: false }, { center: false }, { scale: false, center: false }]) {
    it(`${JSON.stringify(bn)}: the input gradient equals that of the same network with γ = 1 / β = 0, and finite differences`, () => {
      const model = bnModel(bn, 11);
      // Non-trivial moving statistics, so that the affine map is not the identity.
      for (const w of model.weights) {
        if (w.originalName.endsWith('moving_mean')) w.write(tf.tensor1d([0.3, -0.2, 0.1]));
        if (w.originalName.endsWith('moving_variance')) w.write(tf.tensor1d([0.5, 2, 1.5]));
        if (w.originalName.endsWith('beta')) w.write(tf.tensor1d([0.1, 0.2, -0.3]));
        if (w.originalName.endsWith('gamma')) w.write(tf.tensor1d([1.5, -0.5, 0.8]));
      }
      const input = x();
      // The defect this works around: tfjs alone cannot differentiate the model.
      expect(() => tf.grad(lossOf((t) => model.apply(t) as tf.Tensor2D))(input)).toThrow();
      const forwardBefore = (model.predict(input) as tf.Tensor).dataSync();

      const clf = layersClassifier(model, { probe: true });
      expect(clf.gradientUnavailable).toBeUndefined();
      expect(clf.describe?.()).toMatchObject({ batchNorm: expect.stringMatching(/^1 batch norm layer\(s\) without scale\/center computed as x·a \+ b/) });
      // Same function as before.
      expect(Array.from(clf.logits(input).dataSync())).toEqual(Array.from(forwardBefore).map((v) => expect.closeTo(v, 5)));

      const reference = bnModel({}, 11);
      copyInto(model, reference);
      const g = tf.grad(lossOf(clf.logits))(input).dataSync();
      const gRef = tf.grad(lossOf((t) => reference.apply(t) as tf.Tensor2D))(input).dataSync();
      expect(Array.from(g)).toEqual(Array.from(gRef).map((v) => expect.closeTo(v, 4)));

      // Central finite differences at a few coordinates.
      const base = input.dataSync();
      const h = 1e-2;
      for (const i of [0, 7, 23, 49, 88]) {
        const at = (d: number) => {
          const v = Float32Array.from(base);
          v[i]! += d;
          return tf.tidy(() => lossOf(clf.logits)(tf.tensor4d(v, input.shape as [number, number, number, number])).dataSync()[0]!);
        };
        expect(g[i]).toBeCloseTo((at(h) - at(-h)) / (2 * h), 2);
      }
      model.dispose();
      reference.dispose();
    });
  }

  it('leaves no tensor behind: load + logits + gradient + dispose', async () => {
    const input = x();
    const leaked = await leakedTensors(() => {
      const model = bnModel({ scale: false }, 3);
      const clf = layersClassifier(model, { probe: true, owned: true });
      tf.dispose([clf.logits(input), tf.grad(lossOf(clf.logits))(input)]);
      clf.dispose?.();
    });
    expect(leaked).toBe(0);
    input.dispose();
  });
});

/** A layer calling an op that has no gradient in tfjs (einsum). */
class NoGradient extends tf.layers.Layer {
  static className = 'AdvtestNoGradient';
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const t = Array.isArray(inputs) ? inputs[0]! : inputs;
    return tf.einsum('bhwc->bhwc', t);
  }
}

/** A kernel whose gradient needs a kernel the backend does not have. */
const FORWARD = 'AdvtestForwardOnly';
let kernelsRegistered = false;
function registerForwardOnlyKernel(): void {
  if (kernelsRegistered) return;
  kernelsRegistered = true;
  tf.registerKernel({ kernelName: FORWARD, backendName: 'cpu', kernelFunc: ({ inputs, backend }) => {
    const xIn = inputs.x as tf.TensorInfo;
    const values = (backend as unknown as { readSync(id: object): Float32Array }).readSync(xIn.dataId);
    return (backend as unknown as { makeTensorInfo(shape: number[], dtype: string, values: Float32Array): tf.TensorInfo }).makeTensorInfo(xIn.shape, 'float32', Float32Array.from(values));
  } });
  tf.registerGradient({ kernelName: FORWARD, inputsToSave: ['x'], gradFunc: (dy) => ({ x: () => tf.engine().runKernel('AdvtestMissingBackprop', { dy: dy as tf.Tensor }) as tf.Tensor }) });
}
class ForwardOnly extends tf.layers.Layer {
  static className = 'AdvtestForwardOnlyLayer';
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.engine().runKernel(FORWARD, { x: Array.isArray(inputs) ? inputs[0]! : inputs }) as tf.Tensor;
  }
}

describe('load-time probe of a LayersModel', () => {
  const withLayer = (layer: tf.layers.Layer) => tf.sequential({ layers: [tf.layers.inputLayer({ inputShape: [2, 2, 1] }), layer, tf.layers.flatten(), tf.layers.dense({ units: 2 })] });

  it('names an op without a gradient instead of failing mid-attack; the forward pass still works', () => {
    const clf = layersClassifier(withLayer(new NoGradient({})), { probe: true, owned: true });
    expect(clf.gradientUnavailable).toBe('op Einsum has no gradient in TF.js');
    expect(clf.describe?.()).toMatchObject({ gradient: 'unavailable: op Einsum has no gradient in TF.js' });
    const out = clf.logits(tf.zeros([1, 2, 2, 1]));
    expect(out.shape).toEqual([1, 2]);
    out.dispose();
    clf.dispose?.();
  });

  it('names a kernel missing on the backend for the gradient, and the fix', () => {
    registerForwardOnlyKernel();
    const clf = layersClassifier(withLayer(new ForwardOnly({})), { probe: true, owned: true });
    expect(clf.gradientUnavailable).toBe('kernel AdvtestMissingBackprop (needed by the gradient) is not available on the cpu backend; white-box attacks need --backend cpu');
    clf.dispose?.();
  });

  it('refuses a two-input model with one line saying it needs one image input', () => {
    const a = tf.input({ shape: [4, 4, 1] });
    const b = tf.input({ shape: [4, 4, 1] });
    const cat = tf.layers.concatenate().apply([a, b]) as tf.SymbolicTensor;
    const model = tf.model({ inputs: [a, b], outputs: tf.layers.dense({ units: 2 }).apply(tf.layers.flatten().apply(cat)) as tf.SymbolicTensor });
    expect(() => layersClassifier(model)).toThrow(/has 2 inputs \(\[null,4,4,1\], \[null,4,4,1\]\): advtest needs a model with one image input/);
    model.dispose();
  });
});

describe('GraphModel outputs behind Identity nodes', () => {
  const node = (name: string, op: string, input?: string[]) => ({ name, op, ...(input ? { input } : {}) });
  it('reads logits before a Softmax seen through a chain of Identity nodes', () => {
    const nodes = [node('x', 'Placeholder'), node('logits', 'BiasAdd', ['x']), node('sm', 'Softmax', ['logits:0']), node('id1', 'Identity', ['sm']), node('Identity', 'Identity', ['id1:0'])];
    expect(logitsNodeOf(nodes, 'Identity')).toEqual({ node: 'logits', softmax: 'sm' });
    expect(logitsNodeOf(nodes, 'sm')).toEqual({ node: 'logits', softmax: 'sm' });
    expect(logitsNodeOf(nodes.slice(0, 2), 'logits')).toEqual({ node: 'logits' });
    // An Identity after something else is not a softmax.
    expect(logitsNodeOf([node('x', 'Placeholder'), node('r', 'Relu', ['x']), node('Identity', 'Identity', ['r'])], 'Identity')).toEqual({ node: 'Identity' });
  });
});

afterAll(() => undefined);
