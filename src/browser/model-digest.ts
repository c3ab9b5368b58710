import type { Classifier } from '../types.js';

/** Stands in for harness/model-digest.ts in the browser build: only journals use it, and no folder can be read. */
export async function classifierWeightsDigest(_model: Classifier): Promise<string | undefined> {
  return undefined;
}
