/**
 * Worker entry for test/slow/simd-kernels-threads.test.ts: starts wasm with workerData.threads kernel threads (2:
 * tfjs's pthread build, whose heap is a shared memory) and runs simd-cases.ts there.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { initBackend } from '../../src/backend/select.js';
import { heapMemory, simdKernelsUnavailable } from '../../src/backend/simd-kernels.js';
import { compareWithCpu } from './simd-cases.js';

export interface SimdProbeResult {
  threads: number;
  sharedHeap: boolean;
  unavailable: string | null;
  mismatches: string[];
}

const info = await initBackend('wasm', { threads: (workerData as { threads: number }).threads });
const backend = tf.backend() as BackendWasm;
const mismatches = await compareWithCpu();
const result: SimdProbeResult = {
  threads: info.threads ?? 0,
  sharedHeap: heapMemory(backend)?.buffer instanceof SharedArrayBuffer,
  unavailable: simdKernelsUnavailable(backend) ?? null,
  mismatches,
};
parentPort?.postMessage(result);
