/**
 * Writes five small MobileNetV2-style fixtures (96×96 RGB; a 3×3 stem, inverted residual blocks
 * of 1×1 expand → 3×3 depthwise → 1×1 linear projection with batch norm and ReLU6, a residual
 * add, global average pooling, a 6-way dense softmax), all computing the same function of [0, 1]
 * pixels:
 *  - mobilenet-tiny: the LayersModel, briefly trained (seeded, wasm backend) on random crops of the
 *    committed photos (fixtures/photos, one class per sub-folder), with a metadata.json of labels
 *    as image-classifier exports write it;
 *  - mobilenet-tiny-graph: the same network as tensorflowjs_converter writes it — batch norms
 *    folded into _FusedConv2D / FusedDepthwiseConv2dNative (BiasAdd, Relu6), a _FusedMatMul
 *    head and Identity(Softmax(logits)) as output;
 *  - mobilenet-tiny-bn-noscale: batch norms with `scale: false` (γ moved into the moving variance,
 *    its sign into the preceding convolution), which tfjs alone cannot differentiate;
 *  - mobilenet-tiny-pm1: takes [-1, 1] (stem weights rescaled; advtest metadata bounds [-1, 1]);
 *  - mobilenet-tiny-meanstd: takes BGR (x − mean) / std (stem weights rescaled; advtest metadata
 *    preprocessing).
 * The stem convolution has "valid" padding so that the rescaled stems are exact.
 *   npx tsx scripts/make-mobilenet-fixtures.ts
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import seedrandom from 'seedrandom';
import sharp from 'sharp';
import { initBackend } from '../src/backend/select.js';
import { fileLoader } from '../src/model/fs-io.js';
import { saveModel } from '../src/model/store.js';
import { fixtureModelPath } from '../src/package-info.js';

const SIZE = 96;
const SEED = 13;
const PHOTOS = path.resolve(import.meta.dirname, '..', 'fixtures', 'photos');
/** The [-1, 1] and mean/std variants' input contracts. */
const PM1 = { lower: -1, upper: 1 };
const MEAN_STD = { mean: [0.406, 0.456, 0.485], std: [0.225, 0.224, 0.229], channelOrder: 'bgr' as const };

interface Block {
  expand: number;
  out: number;
  stride: number;
}
const BLOCKS: Block[] = [
  { expand: 1, out: 8, stride: 1 },
  { expand: 4, out: 16, stride: 2 },
  { expand: 4, out: 16, stride: 1 },
  { expand: 4, out: 24, stride: 2 },
];
const STEM = 8;
const HEAD = 48;

function buildNet(classes: number, scale: boolean): tf.LayersModel {
  let k = 0;
  const init = () => tf.initializers.heNormal({ seed: SEED * 1000 + k++ });
  const bn = (name: string) => tf.layers.batchNormalization({ name, scale, epsilon: 1e-3, momentum: 0.9 });
  const relu6 = (name: string) => tf.layers.reLU({ name, maxValue: 6 });
  const input = tf.input({ shape: [SIZE, SIZE, 3], name: 'image' });
  let x = tf.layers.conv2d({ name: 'stem_conv', filters: STEM, kernelSize: 3, strides: 2, padding: 'valid', useBias: false, kernelInitializer: init() }).apply(input) as tf.SymbolicTensor;
  x = relu6('stem_relu').apply(bn('stem_bn').apply(x)) as tf.SymbolicTensor;
  let channels = STEM;
  BLOCKS.forEach((b, i) => {
    const name = `block${i + 1}`;
    const inp = x;
    let h = x;
    if (b.expand !== 1) {
      h = tf.layers.conv2d({ name: `${name}_expand`, filters: channels * b.expand, kernelSize: 1, useBias: false, kernelInitializer: init() }).apply(h) as tf.SymbolicTensor;
      h = relu6(`${name}_expand_relu`).apply(bn(`${name}_expand_bn`).apply(h)) as tf.SymbolicTensor;
    }
    h = tf.layers.depthwiseConv2d({ name: `${name}_depthwise`, kernelSize: 3, strides: b.stride, padding: 'same', useBias: false, depthwiseInitializer: init() }).apply(h) as tf.SymbolicTensor;
    h = relu6(`${name}_depthwise_relu`).apply(bn(`${name}_depthwise_bn`).apply(h)) as tf.SymbolicTensor;
    h = tf.layers.conv2d({ name: `${name}_project`, filters: b.out, kernelSize: 1, useBias: false, kernelInitializer: init() }).apply(h) as tf.SymbolicTensor;
    h = bn(`${name}_project_bn`).apply(h) as tf.SymbolicTensor;
    if (b.stride === 1 && b.out === channels) h = tf.layers.add({ name: `${name}_add` }).apply([inp, h]) as tf.SymbolicTensor;
    x = h;
    channels = b.out;
  });
  x = tf.layers.conv2d({ name: 'head_conv', filters: HEAD, kernelSize: 1, useBias: false, kernelInitializer: init() }).apply(x) as tf.SymbolicTensor;
  x = relu6('head_relu').apply(bn('head_bn').apply(x)) as tf.SymbolicTensor;
  x = tf.layers.globalAveragePooling2d({ name: 'pool' }).apply(x) as tf.SymbolicTensor;
  const out = tf.layers.dense({ name: 'predictions', units: classes, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: SEED }) }).apply(x) as tf.SymbolicTensor;
  return tf.model({ name: 'mobilenet_tiny', inputs: input, outputs: out });
}

/** Every photo as a [h, w, 3] tensor in [0, 1], with its class index. */
async function loadPhotos(): Promise<{ classNames: string[]; photos: { image: tf.Tensor3D; label: number; file: string }[] }> {
  const classNames = (await readdir(PHOTOS, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  const photos: { image: tf.Tensor3D; label: number; file: string }[] = [];
  for (const [label, name] of classNames.entries()) {
    for (const file of (await readdir(path.join(PHOTOS, name))).sort()) {
      const { data, info } = await sharp(path.join(PHOTOS, name, file)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      photos.push({ image: tf.tidy(() => tf.div(tf.tensor3d(new Uint8Array(data), [info.height, info.width, 3], 'int32').toFloat(), 255)), label, file });
    }
  }
  return { classNames, photos };
}

/** n random square crops (side 45–100% of the short side, random flips) per photo, at SIZE×SIZE. */
function crops(photos: { image: tf.Tensor3D; label: number }[], n: number, rng: seedrandom.PRNG): { x: tf.Tensor4D; y: tf.Tensor1D } {
  return tf.tidy(() => {
    const xs: tf.Tensor4D[] = [];
    const ys: number[] = [];
    for (const p of photos) {
      const [h, w] = p.image.shape;
      const boxes: number[][] = [];
      for (let i = 0; i < n; i++) {
        const side = Math.min(h, w) * (0.45 + 0.55 * rng());
        const top = (h - side) * rng();
        const left = (w - side) * rng();
        const box = [top / h, left / w, (top + side) / h, (left + side) / w];
        // A flipped crop: x1 > x2 mirrors it (crop_and_resize semantics).
        boxes.push(rng() < 0.5 ? box : [box[0]!, box[3]!, box[2]!, box[1]!]);
        ys.push(p.label);
      }
      xs.push(tf.image.cropAndResize(p.image.expandDims(0) as tf.Tensor4D, boxes, new Array(n).fill(0), [SIZE, SIZE], 'bilinear'));
    }
    return { x: tf.concat(xs), y: tf.tensor1d(ys, 'int32') };
  });
}

async function train(model: tf.LayersModel, photos: { image: tf.Tensor3D; label: number }[], classes: number): Promise<void> {
  const rng = seedrandom(String(SEED));
  const optimizer = tf.train.adam(0.01);
  const steps = 24;
  const start = Date.now();
  for (let step = 0; step < steps; step++) {
    const { x, y } = crops(photos, 4, rng);
    const loss = optimizer.minimize(() => {
      const probs = model.apply(x, { training: true }) as tf.Tensor2D;
      return tf.losses.softmaxCrossEntropy(tf.oneHot(y, classes), tf.log(tf.add(probs, 1e-7))) as tf.Scalar;
    }, true) as tf.Scalar;
    console.log(`step ${step + 1}/${steps}: loss ${(await loss.data())[0]!.toFixed(4)} (${((Date.now() - start) / 1000).toFixed(1)} s)`);
    tf.dispose([x, y, loss]);
  }
  optimizer.dispose();
}

type Weights = Map<string, Float32Array>;
const weightsOf = (model: tf.LayersModel): Weights => new Map(model.weights.map((w) => [w.originalName, w.read().dataSync() as Float32Array]));
function setWeights(model: tf.LayersModel, values: Weights): void {
  for (const w of model.weights) {
    const v = values.get(w.originalName);
    if (!v) throw new Error(`no value for ${w.originalName}`);
    w.write(tf.tensor(v, w.shape as number[]));
  }
}

/**
 * Stem weights for a model fed z = (P(x)·(hi − lo) + lo − mean) / std instead of pixels x (P
 * reverses the channels when bgr): with "valid" padding, conv'(z) = conv(x) exactly needs
 * W'[., π(c), o] = W[., c, o]·std_π(c) / (hi − lo) and a bias Σ W[., c, o]·(mean_π(c) − lo) / (hi − lo),
 * which the stem's batch norm absorbs into its moving mean (μ' = μ − bias).
 */
function rescaleStem(w: Weights, p: { lower?: number; upper?: number; mean?: number[]; std?: number[]; channelOrder?: 'rgb' | 'bgr' }): Weights {
  const out = new Map(w);
  const kernel = w.get('stem_conv/kernel')!;
  const lo = p.lower ?? 0;
  const span = (p.upper ?? 1) - lo;
  const mean = p.mean ?? [0, 0, 0];
  const std = p.std ?? [1, 1, 1];
  const pi = (c: number) => (p.channelOrder === 'bgr' ? 2 - c : c);
  const next = new Float32Array(kernel.length);
  const bias = new Float64Array(STEM);
  for (let i = 0; i < kernel.length; i++) {
    const o = i % STEM;
    const c = Math.floor(i / STEM) % 3;
    const spatial = Math.floor(i / (STEM * 3));
    const j = (spatial * 3 + pi(c)) * STEM + o;
    next[j] = (kernel[i]! * std[pi(c)]!) / span;
    bias[o] += (kernel[i]! * (mean[pi(c)]! - lo)) / span;
  }
  out.set('stem_conv/kernel', next);
  const mu = w.get('stem_bn/moving_mean')!;
  out.set('stem_bn/moving_mean', Float32Array.from(mu, (m, o) => m - bias[o]!));
  return out;
}

/** The preceding layer of each batch norm (whose output channels a sign flip applies to). */
const BN_INPUT: Record<string, string> = Object.fromEntries([
  ['stem_bn', 'stem_conv'],
  ['head_bn', 'head_conv'],
  ...BLOCKS.flatMap((b, i) => [
    ...(b.expand !== 1 ? [[`block${i + 1}_expand_bn`, `block${i + 1}_expand`]] : []),
    [`block${i + 1}_depthwise_bn`, `block${i + 1}_depthwise`],
    [`block${i + 1}_project_bn`, `block${i + 1}_project`],
  ]),
]);

/**
 * Weights for the same network with `scale: false` batch norms: γ(x − μ)/√(σ²+ε) = (x' − μ')/√(σ'²+ε)
 * with x' = sign(γ)·x (the preceding kernel's output channel negated), μ' = sign(γ)·μ and
 * σ'² = (σ²+ε)/γ² − ε.
 */
function withoutScale(w: Weights): Weights {
  const out = new Map(w);
  for (const [bnName, conv] of Object.entries(BN_INPUT)) {
    const gamma = w.get(`${bnName}/gamma`)!;
    out.delete(`${bnName}/gamma`);
    const sign = Array.from(gamma, (g) => (g < 0 ? -1 : 1));
    const kernelName = conv.endsWith('depthwise') ? `${conv}/depthwise_kernel` : `${conv}/kernel`;
    const kernel = w.get(kernelName)!;
    const channels = gamma.length;
    out.set(kernelName, Float32Array.from(kernel, (v, i) => v * sign[i % channels]!));
    out.set(`${bnName}/moving_mean`, Float32Array.from(w.get(`${bnName}/moving_mean`)!, (m, c) => m * sign[c]!));
    out.set(`${bnName}/moving_variance`, Float32Array.from(w.get(`${bnName}/moving_variance`)!, (v, c) => (v + 1e-3) / gamma[c]! ** 2 - 1e-3));
  }
  return out;
}

// --- the converter-style GraphModel ---------------------------------------------------------

type Node = { name: string; op: string; input?: string[]; attr?: Record<string, unknown> };
const b64 = (s: string) => Buffer.from(s).toString('base64');
const float = { type: 'DT_FLOAT' };
const dims = (d: number[]) => ({ dim: d.map((size) => ({ size: String(size) })) });
const constNode = (name: string, shape: number[], dtype = 'DT_FLOAT'): Node => ({ name, op: 'Const', attr: { value: { tensor: { dtype, tensorShape: dims(shape) } }, dtype: { type: dtype } } });

/** BN folded into the preceding kernel (what tensorflowjs_converter's optimiser does). */
function fold(w: Weights, conv: string, bnName: string, depthwise: boolean): { kernel: Float32Array; bias: Float32Array } {
  const kernel = w.get(depthwise ? `${conv}/depthwise_kernel` : `${conv}/kernel`)!;
  const gamma = w.get(`${bnName}/gamma`)!;
  const beta = w.get(`${bnName}/beta`)!;
  const mu = w.get(`${bnName}/moving_mean`)!;
  const variance = w.get(`${bnName}/moving_variance`)!;
  const n = gamma.length;
  const a = Float64Array.from(gamma, (g, c) => g / Math.sqrt(variance[c]! + 1e-3));
  return { kernel: Float32Array.from(kernel, (v, i) => v * a[i % n]!), bias: Float32Array.from(beta, (b, c) => b - mu[c]! * a[c]!) };
}

function graphModel(w: Weights, classes: number): { json: object; weights: Buffer } {
  const nodes: Node[] = [{ name: 'image', op: 'Placeholder', attr: { dtype: float, shape: { shape: dims([-1, SIZE, SIZE, 3]) } } }];
  const specs: { name: string; shape: number[]; dtype: string }[] = [];
  const buffers: Buffer[] = [];
  const addConst = (name: string, shape: number[], values: Float32Array | Int32Array, dtype: 'float32' | 'int32' = 'float32') => {
    nodes.push(constNode(name, shape, dtype === 'float32' ? 'DT_FLOAT' : 'DT_INT32'));
    specs.push({ name, shape, dtype });
    buffers.push(Buffer.from(values.buffer, values.byteOffset, values.byteLength));
  };
  const conv = (name: string, input: string, kernelShape: number[], folded: { kernel: Float32Array; bias: Float32Array }, stride: number, padding: 'SAME' | 'VALID', relu6: boolean, depthwise: boolean) => {
    addConst(`${name}/weights`, kernelShape, folded.kernel);
    addConst(`${name}/bias`, [folded.bias.length], folded.bias);
    nodes.push({
      name,
      op: depthwise ? 'FusedDepthwiseConv2dNative' : '_FusedConv2D',
      input: [input, `${name}/weights`, `${name}/bias`],
      attr: {
        T: float,
        num_args: { i: '1' },
        strides: { list: { i: ['1', String(stride), String(stride), '1'] } },
        padding: { s: b64(padding) },
        data_format: { s: b64('NHWC') },
        dilations: { list: { i: ['1', '1', '1', '1'] } },
        fused_ops: { list: { s: relu6 ? [b64('BiasAdd'), b64('Relu6')] : [b64('BiasAdd')] } },
        ...(depthwise ? {} : { use_cudnn_on_gpu: { b: true }, explicit_paddings: { list: {} }, epsilon: { f: 0 } }),
      },
    });
    return name;
  };
  let x = conv('stem', 'image', [3, 3, 3, STEM], fold(w, 'stem_conv', 'stem_bn', false), 2, 'VALID', true, false);
  let channels = STEM;
  BLOCKS.forEach((b, i) => {
    const name = `block${i + 1}`;
    const inp = x;
    let h = x;
    if (b.expand !== 1) h = conv(`${name}/expand`, h, [1, 1, channels, channels * b.expand], fold(w, `${name}_expand`, `${name}_expand_bn`, false), 1, 'SAME', true, false);
    const wide = channels * b.expand;
    h = conv(`${name}/depthwise`, h, [3, 3, wide, 1], fold(w, `${name}_depthwise`, `${name}_depthwise_bn`, true), b.stride, 'SAME', true, true);
    h = conv(`${name}/project`, h, [1, 1, wide, b.out], fold(w, `${name}_project`, `${name}_project_bn`, false), 1, 'SAME', false, false);
    if (b.stride === 1 && b.out === channels) {
      nodes.push({ name: `${name}/add`, op: 'AddV2', input: [inp, h], attr: { T: float } });
      h = `${name}/add`;
    }
    x = h;
    channels = b.out;
  });
  x = conv('head', x, [1, 1, channels, HEAD], fold(w, 'head_conv', 'head_bn', false), 1, 'SAME', true, false);
  addConst('pool/axes', [2], new Int32Array([1, 2]), 'int32');
  nodes.push({ name: 'pool', op: 'Mean', input: [x, 'pool/axes'], attr: { T: float, Tidx: { type: 'DT_INT32' }, keep_dims: { b: false } } });
  addConst('predictions/kernel', [HEAD, classes], w.get('predictions/kernel')!);
  addConst('predictions/bias', [classes], w.get('predictions/bias')!);
  nodes.push({
    name: 'predictions/logits',
    op: '_FusedMatMul',
    input: ['pool', 'predictions/kernel', 'predictions/bias'],
    attr: { T: float, num_args: { i: '1' }, fused_ops: { list: { s: [b64('BiasAdd')] } }, transpose_a: { b: false }, transpose_b: { b: false }, epsilon: { f: 0 } },
  });
  nodes.push({ name: 'predictions/Softmax', op: 'Softmax', input: ['predictions/logits'], attr: { T: float } });
  nodes.push({ name: 'Identity', op: 'Identity', input: ['predictions/Softmax'], attr: { T: float } });
  const json = {
    format: 'graph-model',
    generatedBy: 'advtest scripts/make-mobilenet-fixtures.ts',
    convertedBy: 'advtest (hand-written in the layout of tensorflowjs_converter 4.x)',
    modelTopology: { node: nodes, library: {}, versions: { producer: 1 } },
    weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: specs }],
  };
  return { json, weights: Buffer.concat(buffers) };
}

// --- main ---------------------------------------------------------------------------------------

async function writeExportMetadata(dir: string, classNames: string[]): Promise<void> {
  // As image-classifier exports (Teachable Machine style) write it; no packageName, so no range is implied.
  await writeFile(path.join(dir, 'metadata.json'), `${JSON.stringify({ modelName: path.basename(dir), labels: classNames, imageSize: SIZE }, null, 2)}\n`);
}

async function main(): Promise<void> {
  // wasm with advtest's depthwise gradient kernels (tfjs's cpu backend takes ~20 s per step here).
  await initBackend('wasm');
  const { classNames, photos } = await loadPhotos();
  const classes = classNames.length;
  const model = buildNet(classes, true);
  await train(model, photos, classes);

  // How the trained model does on the photos (centre crops), so that its predictions mean something.
  const centre = tf.tidy(() =>
    tf.concat(
      photos.map((p) => {
        const [h, w] = p.image.shape;
        const s = Math.min(h, w);
        const box = [(h - s) / 2 / h, (w - s) / 2 / w, (h + s) / 2 / h, (w + s) / 2 / w];
        return tf.image.cropAndResize(p.image.expandDims(0) as tf.Tensor4D, [box], [0], [SIZE, SIZE], 'bilinear');
      }),
    ),
  );
  const predicted = tf.tidy(() => (model.predict(centre) as tf.Tensor).argMax(1).dataSync());
  const correct = photos.filter((p, i) => predicted[i] === p.label).length;
  console.log(`mobilenet-tiny: ${correct}/${photos.length} photos (centre crops) classified correctly`);

  const trained = weightsOf(model);
  const base = { arch: 'mobilenet-tiny', classNames, data: 'fixtures/photos (random crops)' };
  const dirA = fixtureModelPath('mobilenet-tiny');
  // The export's labels live in its metadata.json only (advtest's own metadata carries none).
  await saveModel(model, dirA, { arch: base.arch, data: base.data, bounds: { lower: 0, upper: 1 } });
  await writeExportMetadata(dirA, classNames);

  const pm1 = buildNet(classes, true);
  setWeights(pm1, rescaleStem(trained, PM1));
  await saveModel(pm1, fixtureModelPath('mobilenet-tiny-pm1'), { ...base, bounds: PM1 });

  const meanStd = buildNet(classes, true);
  setWeights(meanStd, rescaleStem(trained, MEAN_STD));
  await saveModel(meanStd, fixtureModelPath('mobilenet-tiny-meanstd'), { ...base, bounds: { lower: 0, upper: 1 }, preprocessing: MEAN_STD });

  const noScale = buildNet(classes, false);
  setWeights(noScale, withoutScale(trained));
  await saveModel(noScale, fixtureModelPath('mobilenet-tiny-bn-noscale'), { ...base, bounds: { lower: 0, upper: 1 } });

  const dirB = fixtureModelPath('mobilenet-tiny-graph');
  await mkdir(dirB, { recursive: true });
  const graph = graphModel(trained, classes);
  await writeFile(path.join(dirB, 'model.json'), JSON.stringify(graph.json));
  await writeFile(path.join(dirB, 'group1-shard1of1.bin'), graph.weights);
  await writeExportMetadata(dirB, classNames);

  // Each variant must compute the trained model's function (up to float rounding).
  const reference = tf.tidy(() => model.predict(centre) as tf.Tensor2D);
  const check = (name: string, probs: tf.Tensor) => {
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(probs, reference))).dataSync()[0]!);
    console.log(`${name}: max |Δ probability| vs mobilenet-tiny = ${diff.toExponential(2)}`);
    if (!(diff < 1e-4)) throw new Error(`${name} does not compute the trained function`);
    probs.dispose();
  };
  check('mobilenet-tiny-pm1', tf.tidy(() => pm1.predict(tf.sub(tf.mul(centre, 2), 1)) as tf.Tensor));
  check('mobilenet-tiny-meanstd', tf.tidy(() => meanStd.predict(tf.div(tf.sub(tf.reverse(centre, 3), MEAN_STD.mean), MEAN_STD.std)) as tf.Tensor));
  check('mobilenet-tiny-bn-noscale', tf.tidy(() => noScale.predict(centre) as tf.Tensor));
  const loadedGraph = await tf.loadGraphModel(fileLoader(dirB));
  check('mobilenet-tiny-graph', tf.tidy(() => loadedGraph.execute({ image: centre }, 'Identity') as tf.Tensor));
  loadedGraph.dispose();
  console.log('wrote', [dirA, dirB, 'mobilenet-tiny-pm1', 'mobilenet-tiny-meanstd', 'mobilenet-tiny-bn-noscale'].join(', '));
}

if (process.argv[1] && import.meta.filename === path.resolve(process.argv[1])) await main();
