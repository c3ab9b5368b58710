import * as tf from '@tensorflow/tfjs';
import { deriveSeed, seededNormal } from '../tensor/random.js';
import type { Classifier } from '../types.js';
import { tidyInts } from '../tensor/read.js';

/**
 * Noisy copies are drawn in chunks of this many, chunk j of one example from its own seed: copy s
 * of an example gets the same noise whatever the batch size, the shard or the other examples.
 */
export const NOISE_CHUNK = 100;

/** Which of CERTIFY's and PREDICT's independent samples a draw belongs to. */
export type SamplePhase = 'selection' | 'estimation' | 'prediction';
const PHASE_SALT: Record<SamplePhase, number> = { selection: 1, estimation: 2, prediction: 3 };

export interface SampleOptions {
  sigma: number;
  /** Noisy copies per forward pass (rounded to whole chunks of NOISE_CHUNK). */
  batchSize: number;
  seed: number;
}

/**
 * How often the base classifier predicts each class on `num` copies of one image plus N(0, σ²I)
 * noise (Cohen et al.'s SampleUnderNoise): the noise is not clipped to the input box, as in the
 * paper. `example` is the image's index in the evaluated split, which keys its noise.
 */
export function sampleVotes(model: Classifier, image: tf.Tensor4D, example: number, num: number, phase: SamplePhase, o: SampleOptions): number[] {
  const counts = new Array<number>(model.numClasses).fill(0);
  const [, h, w, c] = image.shape;
  const chunksPerPass = Math.max(1, Math.floor(o.batchSize / NOISE_CHUNK));
  const chunks = Math.ceil(num / NOISE_CHUNK);
  for (let first = 0; first < chunks; first += chunksPerPass) {
    const predicted = tidyInts(() => {
      const parts: tf.Tensor[] = [];
      for (let j = first; j < Math.min(chunks, first + chunksPerPass); j++) {
        const rows = Math.min(NOISE_CHUNK, num - j * NOISE_CHUNK);
        parts.push(seededNormal([rows, h, w, c], 0, o.sigma, deriveSeed(o.seed, PHASE_SALT[phase], example, j)));
      }
      const noisy = tf.add(image, parts.length === 1 ? parts[0]! : tf.concat(parts)) as tf.Tensor4D;
      return tf.argMax(model.logits(noisy), 1);
    });
    for (const k of predicted) counts[k]!++;
  }
  return counts;
}

/** Index of the largest count (the lowest class on ties) and the runner-up. */
export function topTwo(counts: number[]): [number, number] {
  let a = 0;
  for (let k = 1; k < counts.length; k++) if (counts[k]! > counts[a]!) a = k;
  let b = a === 0 ? 1 : 0;
  for (let k = 0; k < counts.length; k++) if (k !== a && counts[k]! > counts[b]!) b = k;
  return [a, b];
}
