// The cpu comparison of test/backend/simd-kernels.test.ts on tfjs's pthread build (2 threads, a
// shared heap), in a worker thread: slow only because a threaded backend takes seconds to start.
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import type { SimdProbeResult } from '../backend/simd-threads-probe.js';

const BOOTSTRAP = fileURLToPath(new URL('../../src/run/ts-worker.mjs', import.meta.url));
const PROBE = new URL('../backend/simd-threads-probe.ts', import.meta.url).href;

describe('SIMD kernels on the pthread build', () => {
  it('import its shared memory and equal the cpu gradients bit for bit', async () => {
    const result = await new Promise<SimdProbeResult>((resolve, reject) => {
      const worker = new Worker(BOOTSTRAP, { workerData: { entry: PROBE, threads: 2 } });
      worker.once('message', (r: SimdProbeResult) => {
        resolve(r);
        void worker.terminate();
      });
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`probe exited (code ${code}) without a result`)));
    });
    expect(result).toEqual({ threads: 2, sharedHeap: true, unavailable: null, mismatches: [] });
  });
});
