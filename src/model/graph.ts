import * as tf from '@tensorflow/tfjs';
import { UserError } from '../errors.js';
import type { Bounds, Classifier } from '../types.js';
import { fileLoader } from './fs-io.js';
import { graphClassifier, type GraphNode } from './graph-classifier.js';

export { logitsNodeOf } from './graph-classifier.js';

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
  return graphClassifier(model, topology, bounds, dir);
}
