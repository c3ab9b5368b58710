import * as tf from '@tensorflow/tfjs';
import { UserError } from '../errors.js';
import type { Bounds, Classifier, ImageShape } from '../types.js';
import { replaceUnscaledBatchNorms } from './batch-norm.js';
import { foldForInference } from './fold-batch-norm.js';
import { probeForward, probeGradient } from './gradient-probe.js';

export interface LayersClassifierOptions {
  bounds?: Bounds;
  /** Facts for the report (path, architecture…). */
  info?: Record<string, unknown>;
  /** Dispose the model with the classifier (true when we loaded it). */
  owned?: boolean;
  /** Name of each class, in output order. */
  classNames?: readonly string[];
  /**
   * Try one forward pass and one input gradient now, so that an op without a gradient (or a
   * kernel missing on this backend) is named at load time rather than mid-attack. Default false.
   */
  probe?: boolean;
}

type LogitsSource = 'model output' | 'pre-softmax (softmax activation of the last layer removed)' | 'pre-softmax (softmax layer skipped)';

function layerActivation(layer: tf.layers.Layer): string | undefined {
  const config = layer.getConfig() as { activation?: unknown };
  return typeof config.activation === 'string' ? config.activation : undefined;
}

/**
 * Finds the logits of a model that may end in a softmax: attacks must differentiate the
 * pre-softmax output, or the gradient vanishes on confident inputs.
 */
function logitsFunction(model: tf.LayersModel): { fn: (x: tf.Tensor4D) => tf.Tensor2D; source: LogitsSource } {
  const last = model.layers[model.layers.length - 1];
  if (model.outputs.length !== 1 || !last) {
    throw new UserError(`model "${model.name}" has ${model.outputs.length} outputs: a classifier needs exactly one`);
  }
  const className = last.getClassName();
  const activation = layerActivation(last);
  const isSoftmaxLayer = className === 'Softmax' || (className === 'Activation' && activation === 'softmax');
  if (isSoftmaxLayer) {
    const trunk = tf.model({ inputs: model.inputs, outputs: last.input as tf.SymbolicTensor });
    return { fn: (x) => trunk.apply(x) as tf.Tensor2D, source: 'pre-softmax (softmax layer skipped)' };
  }
  if (activation === 'softmax') {
    if (className !== 'Dense') {
      throw new UserError(`model "${model.name}" ends in a ${className} layer with a softmax activation; only Dense is supported: export the model without the final softmax`);
    }
    const trunk = tf.model({ inputs: model.inputs, outputs: last.input as tf.SymbolicTensor });
    return {
      fn: (x) =>
        // tidy: the trunk's output and the product are intermediates the caller never sees.
        tf.tidy(() => {
          // Read the layer's variables at call time: they are the model's own, and may be trained.
          const [kernel, bias] = last.getWeights();
          const h = trunk.apply(x) as tf.Tensor2D;
          const z = tf.matMul(h, kernel as tf.Tensor2D);
          return (bias ? tf.add(z, bias) : z) as tf.Tensor2D;
        }),
      source: 'pre-softmax (softmax activation of the last layer removed)',
    };
  }
  return { fn: (x) => model.apply(x, { training: false }) as tf.Tensor2D, source: 'model output' };
}

/** A Classifier over any single-input, single-output LayersModel taking NHWC images. */
export function layersClassifier(model: tf.LayersModel, options: LayersClassifierOptions = {}): Classifier {
  if (model.inputs.length !== 1) {
    throw new UserError(`model "${model.name}" has ${model.inputs.length} inputs (${model.inputs.map((i) => JSON.stringify(i.shape)).join(', ')}): advtest needs a model with one image input [batch, height, width, channels]`);
  }
  const shape = model.inputs[0]?.shape;
  if (!shape || shape.length !== 4 || shape.slice(1).some((d) => d === null)) {
    throw new UserError(`model "${model.name}" takes input of shape ${JSON.stringify(shape)}: advtest needs images [batch, height, width, channels]`);
  }
  const outShape = model.outputs[0]?.shape;
  if (!outShape || outShape.length !== 2 || outShape[1] === null) {
    throw new UserError(`model "${model.name}" outputs shape ${JSON.stringify(outShape)}: a classifier must output [batch, classes]`);
  }
  const { fn, source } = logitsFunction(model);
  const affineBatchNorms = replaceUnscaledBatchNorms(model);
  const inputShape = shape.slice(1) as ImageShape;
  let gradientUnavailable: string | undefined;
  if (options.probe) {
    probeForward(fn, inputShape, `model "${model.name}"`).dispose();
    gradientUnavailable = probeGradient(fn, inputShape);
  }
  const bounds = options.bounds ?? { lower: 0, upper: 1 };
  return {
    bounds,
    inputShape,
    numClasses: outShape[1],
    ...(options.classNames ? { classNames: options.classNames } : {}),
    ...(gradientUnavailable !== undefined ? { gradientUnavailable } : {}),
    logits: fn,
    dispose() {
      if (options.owned) model.dispose();
    },
    describe: () => ({
      ...options.info,
      name: model.name,
      logits: source,
      parameters: model.countParams(),
      ...(affineBatchNorms.length > 0
        ? { batchNorm: `${affineBatchNorms.length} batch norm layer(s) without scale/center computed as x·a + b so that TF.js can differentiate them (tensorflow/tfjs#2868): ${affineBatchNorms.join(', ')}` }
        : {}),
      ...(gradientUnavailable !== undefined ? { gradient: `unavailable: ${gradientUnavailable}` } : {}),
    }),
  };
}

/**
 * A classifier over a LayersModel just loaded from a file, which it owns and disposes (also when
 * it refuses the model). Such a model is only evaluated, never trained, so its batch norms are
 * folded into the convolutions before them: fewer kernels per forward and backward pass.
 */
export function loadedLayersClassifier(loaded: tf.LayersModel, info: Record<string, unknown>): Classifier {
  const { model, note } = foldForInference(loaded);
  try {
    return layersClassifier(model, { owned: true, probe: true, info: { ...info, ...(note ? { batchNormFolded: note } : {}) } });
  } catch (err) {
    model.dispose();
    throw err;
  }
}
