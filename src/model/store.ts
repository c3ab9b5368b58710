import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../errors.js';
import type { Classifier } from '../types.js';
import { loadedLayersClassifier } from './classifier.js';
import { fileLoader, fileSaver, readModelJson } from './fs-io.js';
import { loadGraphClassifier } from './graph.js';
import { finishClassifier } from './finish.js';
import { readExportMetadata } from './labels.js';
import type { LoadModelOptions, ModelMetadata } from './metadata.js';

export type { LoadModelOptions, ModelMetadata } from './metadata.js';

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

/**
 * Loads a LayersModel or GraphModel folder as a Classifier on [0, 1] pixels (the model is
 * disposed with the classifier). The model's input range, mean/std and channel order — from
 * `options`, else advtest's metadata, else a metadata.json of an image-classifier export — become
 * a differentiable first step of the classifier; class names come from `options.labels`, else the
 * metadata. Ops without a gradient are named in `gradientUnavailable` at load time.
 */
export async function loadModel(dir: string, options: LoadModelOptions = {}): Promise<Classifier> {
  const json = await readModelJson(dir);
  const exported = await readExportMetadata(dir);
  let base: Classifier;
  let saved: Partial<ModelMetadata> | undefined;
  if (json.format === 'graph-model') {
    saved = (json.userDefinedMetadata as { advtest?: Partial<ModelMetadata> } | undefined)?.advtest;
    base = await loadGraphClassifier(dir, json.modelTopology as { node?: { name: string; op: string; input?: string[] }[] }, { lower: 0, upper: 1 });
  } else {
    const loaded = await loadLayersModel(dir);
    saved = (loaded.model.getUserDefinedMetadata() as { advtest?: Partial<ModelMetadata> } | undefined)?.advtest;
    const { metadata } = loaded;
    base = loadedLayersClassifier(loaded.model, { path: dir, arch: metadata.arch, trainedOn: metadata.data });
  }
  try {
    return finishClassifier(path.join(dir, 'model.json'), base, saved, exported, options);
  } catch (err) {
    base.dispose?.();
    throw err;
  }
}

export async function saveModel(model: tf.LayersModel, dir: string, metadata: ModelMetadata): Promise<void> {
  model.setUserDefinedMetadata({ advtest: metadata } as unknown as object);
  await model.save(fileSaver(dir));
}
