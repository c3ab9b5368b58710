import * as tf from '@tensorflow/tfjs';
import { UserError } from '../errors.js';
import type { Classifier } from '../types.js';
import { loadedLayersClassifier } from '../model/classifier.js';
import { finishClassifier } from '../model/finish.js';
import { graphClassifier, type GraphNode } from '../model/graph-classifier.js';
import type { LoadModelOptions, ModelMetadata } from '../model/store.js';

/** A File of an <input type=file> or a drop (tfjs's own type: this project's TypeScript has no DOM library). */
export type ModelFile = Parameters<typeof tf.io.browserFiles>[0][number];

/** A model.json URL (or its folder's URL, ending in /), the files of a model picked or dropped in a page, or any tfjs IOHandler. */
export type ModelSource = string | readonly ModelFile[] | tf.io.IOHandler;

function handlerOf(source: ModelSource): { handler: tf.io.IOHandler; where: string } {
  if (typeof source === 'string') {
    const url = source.endsWith('/') ? `${source}model.json` : source;
    return { handler: tf.io.http(url), where: url };
  }
  if (Array.isArray(source)) {
    const files = source as readonly { name: string }[] as readonly ModelFile[];
    const json = files.filter((f) => f.name.endsWith('.json') && f.name !== 'metadata.json');
    if (json.length !== 1) {
      throw new UserError(`${files.map((f) => f.name).join(', ') || 'no files'}: give exactly one model.json with its weight files (found ${json.length} model JSON files)`);
    }
    // browserFiles wants model.json first, then the weight files it lists.
    return { handler: tf.io.browserFiles([json[0]!, ...files.filter((f) => f !== json[0] && f.name !== 'metadata.json')]), where: json[0]!.name };
  }
  return { handler: source as tf.io.IOHandler, where: 'model' };
}

/**
 * The browser's loadModel: a LayersModel or GraphModel from a URL or File objects, wrapped as
 * loadModel wraps a folder in Node (logits before a softmax, preprocessing and class names from
 * options or advtest's metadata in model.json, gradient probe) — the same code, src/model/finish.ts.
 */
export async function loadModelFrom(source: ModelSource, options: LoadModelOptions = {}): Promise<Classifier> {
  const { handler, where } = handlerOf(source);
  let artifacts: tf.io.ModelArtifacts;
  try {
    if (!handler.load) throw new Error('the handler cannot load');
    artifacts = await handler.load();
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`${where} could not be loaded (${(err as Error).message.split('\n')[0]}): check the URL or pick model.json together with its weight files`);
  }
  const saved = (artifacts.userDefinedMetadata as { advtest?: Partial<ModelMetadata> } | undefined)?.advtest;
  const topology = artifacts.modelTopology as { node?: GraphNode[] } | undefined;
  const isGraph = artifacts.format === 'graph-model' || Array.isArray(topology?.node);
  let base: Classifier;
  try {
    if (isGraph) {
      base = graphClassifier(await tf.loadGraphModel(tf.io.fromMemory(artifacts)), topology ?? {}, { lower: 0, upper: 1 }, where);
    } else {
      const model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
      base = loadedLayersClassifier(model, { path: where, arch: saved?.arch, trainedOn: saved?.data });
    }
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`${where} could not be loaded as a TF.js ${isGraph ? 'GraphModel' : 'LayersModel'} (${(err as Error).message.split('\n')[0]}): check that it is tfjs_layers_model or tfjs_graph_model output`);
  }
  try {
    return finishClassifier(where, base, saved, undefined, options);
  } catch (err) {
    base.dispose?.();
    throw err;
  }
}
