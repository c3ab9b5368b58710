import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadLayersModel, saveModel } from '../../src/model/store.js';

export interface Perturbation {
  /** Every weight tensor is multiplied by this first (default 1). */
  scale?: number;
  /** Then Gaussian noise of this many standard deviations of the tensor is added (default 0). */
  noise?: number;
  seed?: number;
}

/**
 * A copy of a saved model with perturbed weights, saved to a fresh temp folder: the
 * "someone changed the model" side of a regression test. Seeded, so a test sees the same
 * model every run.
 */
export async function perturbedModel(dir: string, p: Perturbation): Promise<string> {
  const { model, metadata } = await loadLayersModel(dir);
  const scale = p.scale ?? 1;
  const noise = p.noise ?? 0;
  const weights = model.getWeights();
  const changed = weights.map((w, k) =>
    tf.tidy(() => {
      const { variance } = tf.moments(w);
      const sd = tf.sqrt(variance);
      const eps = tf.randomNormal(w.shape, 0, 1, 'float32', (p.seed ?? 0) * 1000 + k);
      return tf.add(tf.mul(w, scale), tf.mul(eps, tf.mul(sd, noise)));
    }),
  );
  model.setWeights(changed);
  changed.forEach((t) => t.dispose());
  const out = await mkdtemp(path.join(tmpdir(), 'advtest-perturbed-'));
  await saveModel(model, out, metadata);
  model.dispose();
  return out;
}
