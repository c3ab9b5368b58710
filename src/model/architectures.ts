import * as tf from '@tensorflow/tfjs';
import { UserError } from '../errors.js';
import type { ImageShape } from '../types.js';

export type ArchitectureName = 'mnist-cnn' | 'mlp' | 'madry-cnn';
export const ARCHITECTURES: readonly ArchitectureName[] = ['mnist-cnn', 'mlp', 'madry-cnn'];

function init(seed: number, k: number): ReturnType<typeof tf.initializers.glorotUniform> {
  return tf.initializers.glorotUniform({ seed: seed * 100 + k });
}

/**
 * The network of the project's source documents: conv 32·3×3 relu → max-pool 2 → conv 64·3×3 relu → max-pool 2 →
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

/**
 * The network of Madry et al.'s MNIST challenge (MadryLab/mnist_challenge, model.py): conv 32·5×5
 * "same" relu → max-pool 2 → conv 64·5×5 "same" relu → max-pool 2 → dense 1024 relu → dense 10
 * (3,274,634 weights, 14.6× mnist-cnn's 225,034). Capacity matters for robust
 * training (Madry et al. 2018, §4): the larger network for the challenge's AutoAttack comparison.
 */
function madryCnn(shape: ImageShape, classes: number, seed: number): tf.Sequential {
  return tf.sequential({
    name: 'madry_cnn',
    layers: [
      tf.layers.conv2d({ inputShape: shape, filters: 32, kernelSize: 5, padding: 'same', activation: 'relu', kernelInitializer: init(seed, 1) }),
      tf.layers.maxPooling2d({ poolSize: 2, padding: 'same' }),
      tf.layers.conv2d({ filters: 64, kernelSize: 5, padding: 'same', activation: 'relu', kernelInitializer: init(seed, 2) }),
      tf.layers.maxPooling2d({ poolSize: 2, padding: 'same' }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 1024, activation: 'relu', kernelInitializer: init(seed, 3) }),
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

export interface TemplateNetOptions {
  /** Blocks of the template (each halves the image side). */
  depth: number;
  /** Filters of every block's convolution. */
  width: number;
  seed?: number;
}

/**
 * A network made of one repeated block — conv width·3×3 ("same") relu → max-pool 2 — `depth`
 * times, then dense logits: the members of the source documents' "cross-network replication"
 * ensembles, which differ in depth, width and seed. Named "template-<depth>x<width>" (the same
 * string --arch accepts).
 */
export function buildTemplateNet(shape: ImageShape, classes: number, options: TemplateNetOptions): tf.Sequential {
  const { depth, width } = options;
  const seed = options.seed ?? 0;
  const maxDepth = Math.floor(Math.log2(Math.min(shape[0], shape[1])));
  if (!Number.isInteger(depth) || depth < 1 || depth > maxDepth) throw new UserError(`template depth ${depth}: give 1 to ${maxDepth} blocks for ${shape[0]}×${shape[1]} images`);
  if (!Number.isInteger(width) || width < 1 || width > 1024) throw new UserError(`template width ${width}: give 1 to 1024 filters per block`);
  const layers: tf.layers.Layer[] = [];
  for (let b = 0; b < depth; b++) {
    layers.push(tf.layers.conv2d({ ...(b === 0 ? { inputShape: shape } : {}), filters: width, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(seed, b + 1) }));
    layers.push(tf.layers.maxPooling2d({ poolSize: 2 }));
  }
  layers.push(tf.layers.flatten(), tf.layers.dense({ units: classes, kernelInitializer: init(seed, depth + 1) }));
  return tf.sequential({ name: `template_${depth}x${width}`, layers });
}

/** Builds a fresh, seeded model of a built-in architecture (or "template-<depth>x<width>"). */
export function buildArchitecture(name: string, shape: ImageShape, classes: number, seed = 0): tf.Sequential {
  const template = /^template-(\d+)x(\d+)$/.exec(name);
  if (template) return buildTemplateNet(shape, classes, { depth: Number(template[1]), width: Number(template[2]), seed });
  switch (name) {
    case 'mnist-cnn':
      return mnistCnn(shape, classes, seed);
    case 'mlp':
      return mlp(shape, classes, seed);
    case 'madry-cnn':
      return madryCnn(shape, classes, seed);
    default:
      throw new UserError(`unknown architecture "${name}": use one of ${ARCHITECTURES.join(', ')}, or template-<depth>x<width> (e.g. template-2x16)`);
  }
}
