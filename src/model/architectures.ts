import * as tf from '@tensorflow/tfjs';
import { UserError } from '../errors.js';
import type { ImageShape } from '../types.js';

export type ArchitectureName = 'mnist-cnn' | 'mlp';
export const ARCHITECTURES: readonly ArchitectureName[] = ['mnist-cnn', 'mlp'];

function init(seed: number, k: number): ReturnType<typeof tf.initializers.glorotUniform> {
  return tf.initializers.glorotUniform({ seed: seed * 100 + k });
}

/**
 * The network of references.md: conv 32·3×3 relu → max-pool 2 → conv 64·3×3 relu → max-pool 2 →
 * dense 128 relu → dense 10. Ends in logits (no softmax).
 */
function mnistCnn(shape: ImageShape, classes: number, seed: number): tf.Sequential {
  return tf.sequential({
    name: 'mnist_cnn',
    layers: [
      tf.layers.conv2d({ inputShape: shape, filters: 32, kernelSize: 3, activation: 'relu', kernelInitializer: init(seed, 1) }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu', kernelInitializer: init(seed, 2) }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 128, activation: 'relu', kernelInitializer: init(seed, 3) }),
      tf.layers.dense({ units: classes, kernelInitializer: init(seed, 4) }),
    ],
  });
}

/** A small fully connected baseline: flatten → dense 256 relu → dense 10 (logits). */
function mlp(shape: ImageShape, classes: number, seed: number): tf.Sequential {
  return tf.sequential({
    name: 'mlp',
    layers: [
      tf.layers.flatten({ inputShape: shape }),
      tf.layers.dense({ units: 256, activation: 'relu', kernelInitializer: init(seed, 1) }),
      tf.layers.dense({ units: classes, kernelInitializer: init(seed, 2) }),
    ],
  });
}

/** Builds a fresh, seeded model of a built-in architecture. */
export function buildArchitecture(name: string, shape: ImageShape, classes: number, seed = 0): tf.Sequential {
  switch (name) {
    case 'mnist-cnn':
      return mnistCnn(shape, classes, seed);
    case 'mlp':
      return mlp(shape, classes, seed);
    default:
      throw new UserError(`unknown architecture "${name}": use one of ${ARCHITECTURES.join(', ')}`);
  }
}
