/**
 * MobileNetV2 built in code with tf.layers (Sandler et al. 2018, the torchvision layout): a 3×3
 * stride-2 stem, inverted residual blocks (1×1 expansion, 3×3 depthwise, 1×1 linear projection,
 * each conv followed by batch norm, ReLU6 after the first two), a 1×1 conv to 1280 channels,
 * global average pooling and a dense classifier. With the default settings at 224×224×3 and 1000
 * classes it has torchvision.models.mobilenet_v2's 3,504,872 parameters (batch-norm moving
 * statistics not counted, as PyTorch counts them as buffers).
 *
 * Weights come from seeded initialisers (batch-norm statistics included), so a model is the same
 * on every backend and in every run. Used by the wasm gradient tests and `npm run bench`.
 */
import * as tf from '@tensorflow/tfjs';

/** [expansion t, output channels c, repeats n, first stride s], torchvision's table. */
export type BlockSetting = [number, number, number, number];

export const MOBILENET_V2_BLOCKS: BlockSetting[] = [
  [1, 16, 1, 1],
  [6, 24, 2, 2],
  [6, 32, 3, 2],
  [6, 64, 4, 2],
  [6, 96, 3, 1],
  [6, 160, 3, 2],
  [6, 320, 1, 1],
];

export interface MobileNetV2Options {
  inputShape?: [number, number, number];
  classes?: number;
  blocks?: BlockSetting[];
  stemFilters?: number;
  lastFilters?: number;
  seed?: number;
  /**
   * How ReLU6 is written: 'relu6' (activation string → the Relu6 kernel) or 'maxValue'
   * (tf.layers.reLU({ maxValue: 6 }) → ClipByValue, as Keras-converted models have it).
   */
  relu6?: 'relu6' | 'maxValue';
  /**
   * Stride-2 convolutions with 'same' padding (default), or Keras-style ZeroPadding2D + 'valid'
   * (what keras.applications.MobileNetV2 exports).
   */
  stridePadding?: 'same' | 'zeroPadding';
  /** Dilation rate of the depthwise convolutions in stride-1 blocks (default 1). */
  depthwiseDilation?: number;
}

/** The MobileNetV2 LayersModel; its output is logits (the dense layer has no softmax). */
export function mobileNetV2(options: MobileNetV2Options = {}): tf.LayersModel {
  const inputShape = options.inputShape ?? [224, 224, 3];
  const blocks = options.blocks ?? MOBILENET_V2_BLOCKS;
  let seed = options.seed ?? 0;
  const next = (): number => seed++;
  const kernel = (): ReturnType<typeof tf.initializers.heNormal> => tf.initializers.heNormal({ seed: next() });
  const relu6 = (x: tf.SymbolicTensor): tf.SymbolicTensor =>
    (options.relu6 === 'maxValue' ? tf.layers.reLU({ maxValue: 6 }) : tf.layers.activation({ activation: 'relu6' })).apply(x) as tf.SymbolicTensor;
  const bn = (x: tf.SymbolicTensor): tf.SymbolicTensor =>
    tf.layers
      .batchNormalization({
        epsilon: 1e-5,
        gammaInitializer: tf.initializers.randomUniform({ minval: 0.5, maxval: 1.5, seed: next() }),
        betaInitializer: tf.initializers.randomUniform({ minval: -0.1, maxval: 0.1, seed: next() }),
        movingMeanInitializer: tf.initializers.randomUniform({ minval: -0.1, maxval: 0.1, seed: next() }),
        movingVarianceInitializer: tf.initializers.randomUniform({ minval: 0.5, maxval: 1.5, seed: next() }),
      })
      .apply(x) as tf.SymbolicTensor;
  const stride2 = (x: tf.SymbolicTensor, stride: number): { x: tf.SymbolicTensor; padding: 'same' | 'valid' } => {
    if (stride === 1 || options.stridePadding !== 'zeroPadding') return { x, padding: 'same' };
    // keras.applications' correct_pad for even sizes: one row/column after, none before.
    const padded = tf.layers.zeroPadding2d({ padding: [[0, 1], [0, 1]] }).apply(x) as tf.SymbolicTensor;
    return { x: padded, padding: 'valid' };
  };
  const conv = (x: tf.SymbolicTensor, filters: number, size: number, stride: number): tf.SymbolicTensor => {
    const p = stride2(x, stride);
    return tf.layers
      .conv2d({ filters, kernelSize: size, strides: stride, padding: p.padding, useBias: false, kernelInitializer: kernel() })
      .apply(p.x) as tf.SymbolicTensor;
  };
  const depthwise = (x: tf.SymbolicTensor, stride: number): tf.SymbolicTensor => {
    const p = stride2(x, stride);
    const dilation = stride === 1 ? (options.depthwiseDilation ?? 1) : 1;
    return tf.layers
      .depthwiseConv2d({
        kernelSize: 3,
        strides: stride,
        padding: p.padding,
        dilationRate: dilation,
        useBias: false,
        depthwiseInitializer: kernel(),
      })
      .apply(p.x) as tf.SymbolicTensor;
  };

  const input = tf.input({ shape: inputShape });
  let x = relu6(bn(conv(input, options.stemFilters ?? 32, 3, 2)));
  let channels = options.stemFilters ?? 32;
  for (const [t, c, n, s] of blocks) {
    for (let i = 0; i < n; i++) {
      const stride = i === 0 ? s : 1;
      let h = x;
      if (t !== 1) h = relu6(bn(conv(h, channels * t, 1, 1)));
      h = relu6(bn(depthwise(h, stride)));
      h = bn(conv(h, c, 1, 1));
      x = stride === 1 && channels === c ? (tf.layers.add().apply([x, h]) as tf.SymbolicTensor) : h;
      channels = c;
    }
  }
  x = relu6(bn(conv(x, options.lastFilters ?? 1280, 1, 1)));
  x = tf.layers.globalAveragePooling2d({}).apply(x) as tf.SymbolicTensor;
  const logits = tf.layers
    .dense({ units: options.classes ?? 1000, kernelInitializer: tf.initializers.glorotUniform({ seed: next() }), biasInitializer: tf.initializers.randomUniform({ minval: -0.1, maxval: 0.1, seed: next() }) })
    .apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: logits, name: 'mobilenet_v2' });
}

/** Trainable parameters (PyTorch's count: batch-norm moving statistics excluded). */
export function trainableParams(model: tf.LayersModel): number {
  return model.trainableWeights.reduce((n, w) => n + w.shape.reduce((p: number, d) => p * (d ?? 1), 1), 0);
}
