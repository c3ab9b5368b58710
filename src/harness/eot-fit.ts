import { UserError } from '../errors.js';
import { isTransformed } from '../model/input-transform.js';
import type { Attack, Classifier } from '../types.js';

/**
 * --eot N averages gradients over N draws of a randomised model; on a deterministic one every draw
 * is the same and N only multiplies the cost. A LayersModel in inference mode, behind no input
 * transform or a deterministic one (bit-depth, JPEG, median), is deterministic: refused, as --bpda
 * without a transform is. Other models (GraphModels, HTTP models) may hold random ops: a note
 * (returned). The one rule for eval, attack and baseline; `transformOption` says whether the
 * command has --transform to suggest.
 */
export function checkEotFits(model: Classifier, attacks: Attack[], transformOption = true): string | undefined {
  const samples = attacks.map((a) => a.config.eotSamples).find((n): n is number => typeof n === 'number' && n > 1);
  if (samples === undefined) return undefined;
  if (isTransformed(model) && model.transform.randomized) return undefined;
  const base = isTransformed(model) ? model.base : model;
  const info = base.describe?.() ?? {};
  const transform = isTransformed(model) ? ` behind the deterministic transform ${model.transform.name}` : '';
  if (info.format === 'graph-model' || info.url !== undefined) {
    return `--eot ${samples}: nothing says the model${transform} is randomised; if it is deterministic, every draw is the same and EOT only multiplies the cost by ${samples}`;
  }
  const fix = transformOption ? 'drop --eot, or add a randomised transform (--transform noise=0.1)' : 'drop --eot';
  throw new UserError(`--eot ${samples}: the model${transform} is deterministic, so all ${samples} draws give the same gradient and EOT only multiplies the cost by ${samples}: ${fix}`);
}
