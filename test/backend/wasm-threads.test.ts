import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import type { ThreadsProbeResult } from './threads-probe.js';

const BOOTSTRAP = fileURLToPath(new URL('../../src/run/ts-worker.mjs', import.meta.url));
const PROBE = new URL('./threads-probe.ts', import.meta.url).href;

/** Runs the probe in a fresh worker thread (its own tfjs engine and wasm module). */
function probe(threads: number): Promise<ThreadsProbeResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(BOOTSTRAP, { workerData: { entry: PROBE, threads } });
    worker.once('message', (r: ThreadsProbeResult) => {
      resolve(r);
      void worker.terminate();
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`probe with ${threads} threads exited (code ${code}) without a result`)));
  });
}

/** Positions where two float arrays differ in any bit (NaN included). */
function bitDifferences(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  let n = 0;
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) n++;
  return n;
}

describe('threaded wasm kernels', () => {
  it('run on 2 threads and give bit-for-bit the results of 1 thread: logits, gradient, PGD, training', async () => {
    const [one, two] = [await probe(1), await probe(2)];
    expect(one.threads).toBe(1);
    expect(two.threads).toBe(2);
    // advtest's SIMD kernels ran on both heaps (the pthread build's is a shared memory).
    expect([one.simdKernels, two.simdKernels]).toEqual([null, null]);
    for (const key of ['logits', 'gradient', 'adversarial', 'trained'] as const) {
      expect(one[key].length, key).toBeGreaterThan(0);
      expect(bitDifferences(one[key], two[key]), key).toBe(0);
    }
    // The comparison has teeth: training moved the weights, and PGD moved the digits.
    expect(one.gradient.some((g) => g !== 0)).toBe(true);
  }, 180_000);

  it('let a finished process exit although the pool threads wait for work', () => {
    const script = "import { initBackend } from './src/backend/select.ts'; const b = await initBackend('wasm', { threads: 2 }); console.log(b.threads);";
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(run.error, 'the process did not exit on its own').toBeUndefined();
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout.trim()).toBe('2');
  }, 90_000);

  it('refuse a thread count that is not a whole number from 1 to 8, naming it', async () => {
    const { initBackend } = await import('../../src/backend/select.js');
    await expect(initBackend('wasm', { threads: 0 })).rejects.toThrow(/--threads 0: give a whole number from 1 to 8/);
    await expect(initBackend('wasm', { threads: 9 })).rejects.toThrow(/--threads 9/);
  });
});
