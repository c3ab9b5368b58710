import * as tf from '@tensorflow/tfjs';
import { UserError } from '../errors.js';
import type { Bounds, Classifier, ImageShape } from '../types.js';
import { probeForward, probeGradient } from './gradient-probe.js';

// The GraphModel → Classifier step of loadGraphClassifier, without file IO, so that the browser
// build wraps a GraphModel loaded from a URL or File objects the same way.

export interface GraphNode {
  name: string;
  op: string;
  input?: string[];
}

export const nodeName = (input: string) => input.replace(/^\^/, '').split(':')[0]!;

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
 * A Classifier over a loaded GraphModel; `where` (a folder or URL) names it in messages and
 * describe().path. The model is disposed with the classifier, or here if it is refused.
 */
export function graphClassifier(model: tf.GraphModel, topology: { node?: GraphNode[] }, bounds: Bounds, where: string): Classifier {
  const input = model.inputs[0];
  const shape = input?.shape;
  if (model.inputs.length !== 1 || !shape || shape.length !== 4 || shape.slice(1).some((d) => d === null || d < 0)) {
    throw new UserError(`graph model in ${where} takes ${JSON.stringify(model.inputs.map((i) => i.shape))}: advtest needs one image input [batch, height, width, channels]`);
  }
  const outputName = nodeName(model.outputs[0]!.name);
  const { node: logitsNode, softmax } = logitsNodeOf(topology.node ?? [], outputName);
  const inputShape = shape.slice(1) as ImageShape;
  const run = (x: tf.Tensor4D) => model.execute({ [input!.name]: x }, logitsNode) as tf.Tensor2D;
  let numClasses: number;
  try {
    const probe = probeForward(run, inputShape, `graph model in ${where}`);
    numClasses = probe.shape[1] ?? 0;
    probe.dispose();
    if (probe.rank !== 2) throw new UserError(`graph model in ${where} outputs shape ${JSON.stringify(probe.shape)} at node ${logitsNode}: a classifier must output [batch, classes]`);
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
      path: where,
      format: 'graph-model',
      logits: softmax ? `pre-softmax (node ${logitsNode})` : 'model output',
      ...(softmax && softmax !== outputName ? { softmaxNode: `${softmax} (behind Identity output ${outputName})` } : {}),
      ...(missing ? { gradient: `unavailable: ${missing}` } : {}),
    }),
  };
}
