import * as tf from '@tensorflow/tfjs';
import { UserError } from '../errors.js';
import type { Bounds, Classifier, ImageShape } from '../types.js';
import { fileLoader } from './fs-io.js';
import { probeForward, probeGradient } from './gradient-probe.js';

interface GraphNode {
  name: string;
  op: string;
  input?: string[];
}

const nodeName = (input: string) => input.replace(/^\^/, '').split(':')[0]!;

/**
 * The node to read logits from: the input of a final Softmax, looking through the Identity nodes
 * converters put after it (`Identity(Softmax(x))`, `Identity(Identity(Softmax(x)))`). Returns the
 * output node itself when the graph does not end in a softmax.
 */
export function logitsNodeOf(nodes: GraphNode[], outputName: string): { node: string; softmax?: string } {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  let current = byName.get(outputName);
  const seen = new Set<string>();
  while (current?.op === 'Identity' && current.input?.[0] !== undefined && !seen.has(current.name)) {
    seen.add(current.name);
    current = byName.get(nodeName(current.input[0]));
  }
  if (current?.op === 'Softmax' && current.input?.[0] !== undefined) return { node: nodeName(current.input[0]), softmax: current.name };
  return { node: outputName };
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
  const outputName = nodeName(model.outputs[0]!.name);
  const { node: logitsNode, softmax } = logitsNodeOf(topology.node ?? [], outputName);
  const inputShape = shape.slice(1) as ImageShape;
  const run = (x: tf.Tensor4D) => model.execute({ [input!.name]: x }, logitsNode) as tf.Tensor2D;
  let numClasses: number;
  try {
    const probe = probeForward(run, inputShape, `graph model in ${dir}`);
    numClasses = probe.shape[1] ?? 0;
    probe.dispose();
    if (probe.rank !== 2) throw new UserError(`graph model in ${dir} outputs shape ${JSON.stringify(probe.shape)} at node ${logitsNode}: a classifier must output [batch, classes]`);
  } catch (err) {
    model.dispose();
    throw err;
  }
  const missing = probeGradient(run, inputShape);
  return {
    bounds,
    inputShape,
    numClasses,
    logits: run,
    ...(missing ? { gradientUnavailable: missing } : {}),
    dispose: () => model.dispose(),
    describe: () => ({
      path: dir,
      format: 'graph-model',
      logits: softmax ? `pre-softmax (node ${logitsNode})` : 'model output',
      ...(softmax && softmax !== outputName ? { softmaxNode: `${softmax} (behind Identity output ${outputName})` } : {}),
      ...(missing ? { gradient: `unavailable: ${missing}` } : {}),
    }),
  };
}
