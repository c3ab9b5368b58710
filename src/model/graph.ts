import * as tf from '@tensorflow/tfjs';
import { UserError } from '../errors.js';
import type { Bounds, Classifier, ImageShape } from '../types.js';
import { fileLoader } from './fs-io.js';

interface GraphNode {
  name: string;
  op: string;
  input?: string[];
}

/** Ops whose absence of a gradient makes white-box attacks impossible, found by trying one. */
function missingGradientOp(run: (x: tf.Tensor4D) => tf.Tensor2D, shape: ImageShape): string | undefined {
  try {
    tf.tidy(() => tf.grad((x: tf.Tensor) => tf.sum(run(x as tf.Tensor4D)))(tf.zeros([1, ...shape])));
    return undefined;
  } catch (err) {
    // tfjs says "Cannot compute gradient: gradient function not found for Einsum."
    const match = /gradient function not found for (\w+)/i.exec((err as Error).message);
    if (match) return match[1]!;
    throw err;
  }
}

/**
 * A Classifier over a TF.js GraphModel (tensorflowjs_converter output). Logits are read before a
 * final Softmax node. When an op has no gradient in TF.js the classifier still predicts, and
 * `gradientUnavailable` names the op so that the harness can refuse white-box attacks clearly.
 */
export async function loadGraphClassifier(dir: string, topology: { node?: GraphNode[] }, bounds: Bounds): Promise<Classifier> {
  let model: tf.GraphModel;
  try {
    model = await tf.loadGraphModel(fileLoader(dir));
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`${dir}/model.json could not be loaded as a TF.js GraphModel (${(err as Error).message.split('\n')[0]}): check the tensorflowjs_converter output`);
  }
  const input = model.inputs[0];
  const shape = input?.shape;
  if (model.inputs.length !== 1 || !shape || shape.length !== 4 || shape.slice(1).some((d) => d === null || d < 0)) {
    throw new UserError(`graph model in ${dir} takes ${JSON.stringify(model.inputs.map((i) => i.shape))}: advtest needs one image input [batch, height, width, channels]`);
  }
  const outputName = model.outputs[0]!.name.split(':')[0]!;
  const outNode = topology.node?.find((n) => n.name === outputName);
  const softmax = outNode?.op === 'Softmax' && outNode.input?.[0] !== undefined;
  const logitsNode = softmax ? outNode!.input![0]!.split(':')[0]! : outputName;
  const inputShape = shape.slice(1) as ImageShape;
  const run = (x: tf.Tensor4D) => model.execute({ [input!.name]: x }, logitsNode) as tf.Tensor2D;
  const probe = tf.tidy(() => run(tf.zeros([1, ...inputShape])));
  const numClasses = probe.shape[1];
  probe.dispose();
  const missing = missingGradientOp(run, inputShape);
  return {
    bounds,
    inputShape,
    numClasses,
    logits: run,
    ...(missing ? { gradientUnavailable: `op ${missing} has no gradient in TF.js` } : {}),
    dispose: () => model.dispose(),
    describe: () => ({
      path: dir,
      format: 'graph-model',
      logits: softmax ? `pre-softmax (node ${logitsNode})` : 'model output',
      ...(missing ? { gradient: `unavailable: op ${missing} has no gradient in TF.js` } : {}),
    }),
  };
}
