import * as tf from '@tensorflow/tfjs';
import { scoresOf } from '../src/model/scores.js';
import type { AttackContext, Classifier } from '../src/types.js';

/** What a score-based random search minimises per example; a negative margin is a success. */
export interface SearchScores {
  margin: Float32Array;
  loss: Float32Array;
}

export type SearchLoss = 'margin' | 'ce';

/**
 * Margin z_y − max_{i≠y} z_i (untargeted) or max_{i≠t} z_i − z_t (targeted), and the loss to
 * minimise: the margin, or −CE(y) (untargeted) / CE(t) (targeted) for 'ce'. Row-major logits.
 */
export function searchScores(logits: Float32Array, labels: ArrayLike<number>, k: number, targeted: boolean, loss: SearchLoss): SearchScores {
  const m = labels.length;
  const margin = new Float32Array(m);
  const out = new Float32Array(m);
  for (let i = 0; i < m; i++) {
    const z = logits.subarray(i * k, (i + 1) * k);
    const y = labels[i]!;
    let other = -Infinity;
    let top = -Infinity;
    for (let j = 0; j < k; j++) {
      top = Math.max(top, z[j]!);
      if (j !== y) other = Math.max(other, z[j]!);
    }
    margin[i] = targeted ? other - z[y]! : z[y]! - other;
    if (loss === 'margin') {
      out[i] = margin[i]!;
    } else {
      let sum = 0;
      for (let j = 0; j < k; j++) sum += Math.exp(z[j]! - top);
      const ce = top + Math.log(sum) - z[y]!;
      out[i] = targeted ? ce : -ce;
    }
  }
  return { margin, loss: out };
}

/**
 * Scores of a row-major batch of images (one forward pass, through the model's async query when it
 * has one); counts one query per row.
 */
export async function queryScores(model: Classifier, images: Float32Array, shape: [number, number, number], ctx: AttackContext): Promise<Float32Array> {
  const m = images.length / (shape[0] * shape[1] * shape[2]);
  const x = tf.tensor4d(images, [m, ...shape]);
  try {
    const z = await scoresOf(model, x);
    const out = Float32Array.from(await z.data());
    z.dispose();
    ctx.costs.queries += m;
    return out;
  } finally {
    x.dispose();
  }
}
