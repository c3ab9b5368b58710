import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import { deriveSeed, seededNormal } from '../tensor/random.js';
import type { Classifier } from '../types.js';
import { sampleVotes } from './sampling.js';

export interface SmoothedOptions {
  sigma: number;
  /** Noise draws per soft-logit evaluation (what attacks differentiate). */
  samples: number;
  /** Noisy copies whose plurality vote is the prediction the harness judges. */
  votes: number;
  seed: number;
  /** Noisy copies per forward pass when voting. */
  batchSize?: number;
}

/** A seed from an image's bytes, so a judged prediction depends on the image, not on its batch. */
function contentSeed(pixels: Float32Array): number {
  return createHash('sha256').update(Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength)).digest().readUInt32BE(0) & 0x7fffffff;
}

/**
 * The smoothed classifier g(x) = argmax_c P(f(x + δ) = c), δ ~ N(0, σ²I) (Cohen et al. 2019), as a
 * Classifier the harness and the attacks can evaluate.
 * - logits (what gradient attacks see): the log of the mean softmax over `samples` fresh noise
 *   draws, the soft smoothed classifier of Salman et al. 2019 (arXiv:1906.04584, eq. 6) estimated
 *   by Monte Carlo. Each call draws new noise, so the model is randomised: attack it with EOT.
 * - query (what the harness judges with): the vote fractions of the base classifier over `votes`
 *   noisy copies, i.e. the Monte Carlo estimate of g itself, with noise keyed by the image's bytes.
 */
export function smoothedClassifier(base: Classifier, o: SmoothedOptions): Classifier {
  let calls = 0;
  const k = base.numClasses;
  return {
    bounds: base.bounds,
    inputShape: base.inputShape,
    numClasses: k,
    classNames: base.classNames,
    logits: (x) =>
      tf.tidy(() => {
        const [n, h, w, c] = x.shape;
        const m = o.samples;
        // Through rank 3: tfjs has no gradient for a rank-5 tile.
        const copies = tf.reshape(tf.tile(tf.reshape(x, [n, 1, h * w * c]), [1, m, 1]), [n * m, h, w, c]);
        const noise = seededNormal([n * m, h, w, c], 0, o.sigma, deriveSeed(o.seed, 0x5300, calls++));
        const logProbs = tf.reshape(tf.logSoftmax(base.logits(tf.add(copies, noise) as tf.Tensor4D)), [n, m, k]);
        // log((1/m)·Σ softmax) without underflow.
        return tf.sub(tf.logSumExp(logProbs, 1), Math.log(m)) as tf.Tensor2D;
      }),
    query: async (x) => {
      const [n, h, w, c] = x.shape;
      const pixels = (await x.data()) as Float32Array;
      const rows: number[][] = [];
      for (let i = 0; i < n; i++) {
        const row = pixels.subarray(i * h * w * c, (i + 1) * h * w * c);
        const image = tf.tensor4d(row, [1, h, w, c]);
        try {
          rows.push(sampleVotes(base, image, contentSeed(row), o.votes, 'prediction', { sigma: o.sigma, batchSize: o.batchSize ?? 1000, seed: o.seed }).map((v) => v / o.votes));
        } finally {
          image.dispose();
        }
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      return tf.tensor2d(rows, [n, k]);
    },
    dispose: () => base.dispose?.(),
    describe: () => ({ ...base.describe?.(), smoothing: { sigma: o.sigma, logits: `log mean softmax over ${o.samples} noise draws`, prediction: `plurality of ${o.votes} noisy votes` } }),
  };
}
