import type * as tf from '@tensorflow/tfjs';
import type { Attack, AttackContext, Classifier, Costs, Criterion } from '../types.js';
import { UserError } from '../errors.js';
import { finalizeAdversarial } from './finalize.js';
import { convergenceRecorder, type ConvergenceSums } from '../report/convergence.js';

/**
 * Runs one attack and returns its output projected, clipped and verified — the only way the
 * harness and the CLI obtain adversarial images.
 */
export async function runAttack(
  model: Classifier,
  attack: Attack,
  x: tf.Tensor4D,
  criterion: Criterion,
  eps: number,
  seed: number,
  indices?: Int32Array,
): Promise<{ adv: tf.Tensor4D; costs: Costs; convergence?: ConvergenceSums }> {
  if (model.gradientUnavailable && attack.kind !== 'black-box') {
    throw new UserError(`${attack.name} needs gradients, but the model has none (${model.gradientUnavailable}): use a score-based attack (--attack square)`);
  }
  const ctx: AttackContext = { seed, costs: { gradients: 0, queries: 0 } };
  if (indices) ctx.indices = indices;
  const trace = convergenceRecorder();
  ctx.convergence = trace;
  const raw = await attack.run(model, x, criterion, eps, ctx);
  try {
    const convergence = trace.sums();
    return { adv: finalizeAdversarial(raw, x, eps, attack.norm, model.bounds, attack.name), costs: ctx.costs, ...(convergence ? { convergence } : {}) };
  } finally {
    raw.dispose();
  }
}
