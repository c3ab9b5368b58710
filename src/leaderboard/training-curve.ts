import { readModelJson } from '../model/fs-io.js';
import type { ModelMetadata } from '../model/metadata.js';
import type { HeldOutRecord } from '../train/monitor.js';

/**
 * An entry's held-out monitor per epoch (`training.heldOut` of its model's metadata): robustness
 * against training time, the curve that shows where a recipe stands when its budget ran out.
 * Undefined for a model trained without a monitor (`holdout: 0`) or before times were recorded.
 */
export async function readTrainingCurve(modelDir: string): Promise<HeldOutRecord | undefined> {
  const json = await readModelJson(modelDir);
  const training = (json.userDefinedMetadata as { advtest?: ModelMetadata } | undefined)?.advtest?.training;
  const heldOut = training?.heldOut as HeldOutRecord | undefined;
  if (!heldOut || !Array.isArray(heldOut.history) || !heldOut.history.every((h) => typeof h.seconds === 'number')) return undefined;
  return heldOut;
}
