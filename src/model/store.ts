import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../errors.js';
import type { Bounds, Classifier } from '../types.js';
import { layersClassifier } from './classifier.js';
import { fileLoader, fileSaver, readModelJson } from './fs-io.js';
import { loadGraphClassifier } from './graph.js';

/** What advtest stores in model.json's userDefinedMetadata.advtest. */
export interface ModelMetadata {
  arch?: string;
  bounds: Bounds;
  classNames?: string[];
  data?: string;
  training?: Record<string, unknown>;
}

function readMetadata(model: tf.LayersModel): ModelMetadata {
  const meta = model.getUserDefinedMetadata() as { advtest?: Partial<ModelMetadata> } | undefined;
  const saved = meta?.advtest ?? {};
  const bounds = saved.bounds ?? { lower: 0, upper: 1 };
  return { ...saved, bounds };
}

export async function loadLayersModel(dir: string): Promise<{ model: tf.LayersModel; metadata: ModelMetadata }> {
  let model: tf.LayersModel;
  try {
    model = await tf.loadLayersModel(fileLoader(dir));
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`${path.join(dir, 'model.json')} could not be loaded as a TF.js LayersModel (${(err as Error).message.split('\n')[0]}): check that it was saved by tfjs-layers or tensorflowjs_converter --output_format tfjs_layers_model`);
  }
  return { model, metadata: readMetadata(model) };
}

/** Loads a LayersModel or GraphModel folder as a Classifier (the model is disposed with the classifier). */
export async function loadModel(dir: string, options: { bounds?: Bounds } = {}): Promise<Classifier> {
  const json = await readModelJson(dir);
  if (json.format === 'graph-model') {
    const meta = (json.userDefinedMetadata as { advtest?: Partial<ModelMetadata> } | undefined)?.advtest;
    return loadGraphClassifier(dir, json.modelTopology as { node?: { name: string; op: string; input?: string[] }[] }, options.bounds ?? meta?.bounds ?? { lower: 0, upper: 1 });
  }
  const { model, metadata } = await loadLayersModel(dir);
  const bounds = options.bounds ?? metadata.bounds;
  return layersClassifier(model, { bounds, owned: true, info: { path: dir, arch: metadata.arch, trainedOn: metadata.data } });
}

export async function saveModel(model: tf.LayersModel, dir: string, metadata: ModelMetadata): Promise<void> {
  model.setUserDefinedMetadata({ advtest: metadata } as unknown as object);
  await model.save(fileSaver(dir));
}
