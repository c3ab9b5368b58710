import type * as tf from '@tensorflow/tfjs';
import type { Attack, AttackContext, Classifier, Costs, Criterion } from '../src/types.js';
import { UserError } from '../src/errors.js';
import { finalizeAdversarial } from '../src/tensor/finalize.js';
import { convergenceRecorder, exampleTracer, type ConvergenceSums, type ExampleTraceRecord } from './convergence.js';

/**
 * Runs one attack and returns its output projected, clipped and verified — the only way the
 * harness, the CLI and adversarial training obtain adversarial images (here, below the harness,
 * so that training defenses need not import it).
 */
export async function runAttack(
  model: Classifier,
  attack: Attack,
  x: tf.Tensor4D,
  criterion: Criterion,
  eps: number,
  seed: number,
  indices?: Int32Array,
  /** Indices (in the evaluated set, as `indices`) of examples whose loss and margin to trace per iteration. */
  traced?: ReadonlySet<number>,
): Promise<{ adv: tf.Tensor4D; costs: Costs; convergence?: ConvergenceSums; traces?: ExampleTraceRecord[] }> {
  if (model.gradientUnavailable && attack.kind !== 'black-box') {
    throw new UserError(`${attack.name} needs gradients, but the model has none (${model.gradientUnavailable}): use a score-based attack (--attack square)`);
  }
  const ctx: AttackContext = { seed, costs: { gradients: 0, queries: 0 } };
  if (indices) ctx.indices = indices;
  const trace = convergenceRecorder();
  ctx.convergence = trace;
  const rows = traced && traced.size > 0 ? Array.from({ length: x.shape[0] }, (_, r) => r).filter((r) => traced.has(indices ? indices[r]! : r)) : [];
  const tracer = rows.length > 0 ? exampleTracer(rows.map((r) => (indices ? indices[r]! : r))) : undefined;
  if (tracer) {
    trace.tracedRows = rows;
    trace.recordExamples = tracer.record;
  }
  const raw = await attack.run(model, x, criterion, eps, ctx);
  try {
    const convergence = trace.sums();
    const traces = tracer?.traces() ?? [];
    return {
      adv: finalizeAdversarial(raw, x, eps, attack.norm, model.bounds, attack.name),
      costs: ctx.costs,
      ...(convergence ? { convergence } : {}),
      ...(traces.length > 0 ? { traces } : {}),
    };
  } finally {
    raw.dispose();
  }
}
