import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { readModelJson, resolveWeightPath } from '../model/fs-io.js';
import type { Classifier } from '../types.js';

/**
 * sha256 of a model folder's weights: the bytes of every weight file its manifest lists, in
 * order. Two folders with the same weights give the same digest whatever their path; a model
 * retrained or replaced in place gives another.
 */
export async function weightsDigest(dir: string): Promise<string> {
  const json = await readModelJson(dir);
  const hash = createHash('sha256');
  for (const group of json.weightsManifest) {
    for (const p of group.paths) hash.update(await readFile(resolveWeightPath(dir, p)));
  }
  return hash.digest('hex');
}

/** The weights digest of a classifier loaded from a folder (describe().path); undefined otherwise. */
export async function classifierWeightsDigest(model: Classifier): Promise<string | undefined> {
  const dir = model.describe?.().path;
  if (typeof dir !== 'string') return undefined;
  try {
    return await weightsDigest(dir);
  } catch {
    // The classifier is already loaded: a folder that cannot be read again has no digest to compare.
    return undefined;
  }
}
