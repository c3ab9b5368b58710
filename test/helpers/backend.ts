import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/select.js';

/** Tests run on the project's default backend (wasm with our kernels on this machine). */
export async function useTestBackend(): Promise<void> {
  await initBackend((process.env.ADVTEST_BACKEND as 'wasm' | 'cpu' | undefined) ?? 'wasm');
}

/** Runs fn and returns how many tensors it left behind (0 for a leak-free fn). */
export async function leakedTensors(fn: () => unknown | Promise<unknown>): Promise<number> {
  const before = tf.memory().numTensors;
  await fn();
  return tf.memory().numTensors - before;
}
