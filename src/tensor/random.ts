import * as tf from '@tensorflow/tfjs';
import seedrandom from 'seedrandom';

/** A seeded PRNG returning floats in [0, 1); the same seed gives the same stream everywhere. */
export type Rng = () => number;

export function makeRng(seed: number | string): Rng {
  return seedrandom(String(seed));
}

/** A generator whose position can be saved and restored (training checkpoints). */
export interface RestorableRng {
  (): number;
  state(): object;
}

/** Same stream as makeRng(seed); from a saved state it continues where that state was taken. */
export function makeRestorableRng(seed: number | string, state?: object): RestorableRng {
  return (state ? seedrandom('', { state: state as seedrandom.State.Arc4 }) : seedrandom(String(seed), { state: true })) as unknown as RestorableRng;
}

/**
 * Derives a 31-bit seed from a base seed and indices (batch, attack, ε, restart), so that any
 * slice of the work reproduces the seeds the full run would use.
 */
export function deriveSeed(base: number, ...parts: number[]): number {
  let h = 2166136261;
  for (const p of [base, ...parts]) {
    h = Math.imul(h ^ (p >>> 0), 16777619);
    h ^= h >>> 13;
  }
  return (h >>> 0) % 2147483647;
}

/** Fisher–Yates shuffle of 0..n-1 with the given generator. */
export function permutation(n: number, rng: Rng): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = out[i]!;
    out[i] = out[j]!;
    out[j] = t;
  }
  return out;
}

/** One seed per row of a batch, from the attack's seed, a salt (e.g. the restart) and the row's global index. */
export function exampleSeeds(seed: number, n: number, indices: Int32Array | undefined, ...salt: number[]): number[] {
  return Array.from({ length: n }, (_, i) => deriveSeed(seed, ...salt, indices ? indices[i]! : i));
}

/**
 * tf.randomNormal that always honours its seed. tfjs takes a seed of 0 for "no seed" (MPRandGauss:
 * `seed ? seed : Math.random()`), so noise whose seed worked out to 0 — training with --seed 0
 * at step 0, where TRADES and MART draw their random start — was fresh on every run. 0 goes in as
 * 0.5, which no integer seed gives (the generator hashes the seed's decimal string).
 */
export function seededNormal(shape: number[], mean: number, stdDev: number, seed: number): tf.Tensor {
  return tf.randomNormal(shape, mean, stdDev, 'float32', seed === 0 ? 0.5 : seed);
}
