// advtest's wasm SIMD kernels (src/backend/simd-kernels.wat, issue 21): the ReLU / Relu6 /
// ClipByValue gradient and MaxPoolGrad, bit for bit tfjs's stock cpu gradients on the tfjs heap
// (unshared: the single-thread build); the JS loops they fall back to likewise; the binary for
// the pthread build on a shared memory; and the committed binaries are the .wat assembled.
// On the pthread build itself: wasm-threads.test.ts checks they run there, and
// test/slow/simd-kernels-threads.test.ts repeats the cpu comparison there.
import { readFile } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OUT_FILE, simdKernelsModule, WAT_FILE } from '../../scripts/build-simd-kernels.js';
import { initBackend } from '../../src/backend/select.js';
import {
  heapMemory,
  instantiateSimdKernels,
  setSimdKernelsEnabled,
  simdKernelsUnavailable,
  type WasmMemory,
} from '../../src/backend/simd-kernels.js';
import { SIMD_KERNELS_SHARED, SIMD_KERNELS_UNSHARED } from '../../src/backend/simd-kernels-wasm.js';
import { bitDifferences, clipInputs, compareWithCpu, POOL_CASES, poolInputs, poolLabel } from './simd-cases.js';

beforeAll(async () => {
  await initBackend('wasm', { threads: 1 });
});
afterEach(() => setSimdKernelsEnabled(true));

describe('SIMD kernels on the single-thread wasm build', () => {
  it('are instantiated on the backend heap (an unshared memory)', () => {
    const backend = tf.backend() as BackendWasm;
    expect(simdKernelsUnavailable(backend)).toBeUndefined();
    expect(heapMemory(backend)?.buffer instanceof SharedArrayBuffer).toBe(false);
  });

  it('equal tfjs stock cpu gradients bit for bit: relu, relu6, clipByValue, maxPool (ties, NaN, ±Inf, -0 dy, same/valid/explicit pads, overlaps)', async () => {
    expect(await compareWithCpu()).toEqual([]);
  });

  it('the JS loops they fall back to equal them too', async () => {
    setSimdKernelsEnabled(false);
    expect(simdKernelsUnavailable(tf.backend() as BackendWasm)).toMatch(/turned off/);
    expect(await compareWithCpu()).toEqual([]);
  });

  it("the cpu backend's AdvtestClipGrad (the same JS loop) equals tfjs's stock gradient too, float32 bounds included", async () => {
    expect(await compareWithCpu('cpu')).toEqual([]);
  });

  it('leave no tensor behind', () => {
    const x = tf.randomNormal([4, 9, 9, 6], 0, 1, 'float32', 3);
    const before = tf.memory().numTensors;
    const grads = tf.tidy(() => [
      tf.grad((t: tf.Tensor) => tf.relu(t))(x),
      tf.grad((t: tf.Tensor) => tf.clipByValue(t, -0.5, 0.5))(x),
      tf.grad((t: tf.Tensor) => tf.maxPool(t as tf.Tensor4D, 3, 2, 'same'))(x),
    ]);
    expect(tf.memory().numTensors).toBe(before + 3);
    tf.dispose([...grads, x]);
  });
});

describe('the binary for a shared memory', () => {
  it("runs on a shared memory with the pthread build's limits and gives the results the tfjs heap gets", () => {
    // tfjs's pthread build: new WebAssembly.Memory({ initial: 16 MiB, maximum: 4 GiB, shared: true }).
    const { Memory } = (globalThis as unknown as { WebAssembly: { Memory: new (d: object) => WasmMemory } }).WebAssembly;
    const memory = new Memory({ initial: 256, maximum: 65536, shared: true });
    const k = instantiateSimdKernels(memory);
    const heap = new Float32Array(memory.buffer);
    let top = 16;
    /** Places n floats (16-byte aligned) and returns their byte offset. */
    const put = (values: Float32Array | number): number => {
      const p = top * 4;
      if (typeof values !== 'number') heap.set(values, top);
      top += Math.ceil((typeof values === 'number' ? values : values.length) / 4) * 4;
      return p;
    };
    const read = (p: number, n: number): Float32Array => heap.slice(p / 4, p / 4 + n);

    const { x, dy } = clipInputs();
    const [px, pdy, pout] = [put(x), put(dy), put(x.length)];
    k.relu_grad(pdy, px, pout, x.length, 0, 6);
    const relu6 = read(pout, x.length);
    k.clip_grad(pdy, px, pout, x.length, 0.1, 0.7);
    const clip = read(pout, x.length);
    const [wantRelu6, wantClip] = tf.tidy(() =>
      [tf.grad((t: tf.Tensor) => tf.relu6(t)), tf.grad((t: tf.Tensor) => tf.clipByValue(t, 0.1, 0.7))].map((g) =>
        Float32Array.from(g(tf.tensor1d(x), tf.tensor1d(dy)).dataSync() as Float32Array),
      ),
    );
    expect(bitDifferences(relu6, wantRelu6!), 'relu6').toBe(0);
    expect(bitDifferences(clip, wantClip!), 'clipByValue').toBe(0);

    // Overlapping windows (the float64 scratch) and tiling 2×2 ones.
    for (const c of POOL_CASES.filter((c) => c.f === 3 && c.pad === 'same').concat(POOL_CASES.slice(-1))) {
      const info = tf.backend_util.computePool2DInfo(c.x, c.f, c.s, 1, c.pad);
      const outSize = info.outShape.reduce((a, b) => a * b, 1);
      const { x: xv, dy: dyv } = poolInputs(c, outSize);
      const [qx, qdy, qdx, acc] = [put(xv), put(dyv), put(xv.length), put(2 * xv.length)];
      const overlap = info.filterHeight > info.strideHeight || info.filterWidth > info.strideWidth;
      k.max_pool_grad(qx, qdy, qdx, overlap ? acc : 0, info.batchSize, info.inHeight, info.inWidth, info.inChannels, info.outHeight, info.outWidth,
        info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth, info.padInfo.top, info.padInfo.left);
      const want = tf.tidy(() =>
        Float32Array.from(
          tf.grad((t: tf.Tensor) => tf.maxPool(t as tf.Tensor4D, c.f, c.s, c.pad))(tf.tensor4d(xv, c.x), tf.tensor4d(dyv, info.outShape)).dataSync() as Float32Array,
        ),
      );
      expect(bitDifferences(read(qdx, xv.length), want), poolLabel(c)).toBe(0);
    }
  });

  it('is refused by an unshared memory, and the unshared one by a shared memory (hence two binaries)', () => {
    const { Memory } = (globalThis as unknown as { WebAssembly: { Memory: new (d: object) => WasmMemory } }).WebAssembly;
    const shared = new Memory({ initial: 1, maximum: 65536, shared: true });
    const unshared = new Memory({ initial: 1 });
    expect(() => instantiateSimdKernels(shared)).not.toThrow();
    expect(() => instantiateSimdKernels(unshared)).not.toThrow();
    // The wrong pairing is what instantiateSimdKernels avoids by looking at the buffer.
    const bytes = (b64: string): Uint8Array => Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
    const api = (globalThis as unknown as { WebAssembly: { Module: new (b: Uint8Array) => object; Instance: new (m: object, i: object) => object } }).WebAssembly;
    expect(() => new api.Instance(new api.Module(bytes(SIMD_KERNELS_SHARED)), { env: { memory: unshared } })).toThrow();
    expect(() => new api.Instance(new api.Module(bytes(SIMD_KERNELS_UNSHARED)), { env: { memory: shared } })).toThrow();
  });
});

describe('the committed binaries', () => {
  it('are simd-kernels.wat assembled (run `npm run build:simd` after editing it)', async () => {
    const want = await simdKernelsModule(await readFile(WAT_FILE, 'utf8'));
    expect(await readFile(OUT_FILE, 'utf8')).toBe(want);
  });
});
