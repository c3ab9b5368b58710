/**
 * advtest's own WebAssembly SIMD kernels (simd-kernels.wat; the binaries in simd-kernels-wasm.ts),
 * instantiated on the tfjs wasm backend's memory so that they read their inputs and write their
 * output where tfjs keeps tensors, with no copy. They replace JS loops over the heap that took a
 * third of a PGD step on the MNIST CNN (issue 21): the ReLU / Relu6 / ClipByValue gradient
 * (lazy-grads.ts), MaxPoolGrad (wasm-max-pool-grad.ts), a first layer's filter gradient
 * (wasm-im2col.ts) and Adam's update (wasm-adam.ts).
 *
 * tfjs's pthread build keeps its heap in a shared memory and its single-thread builds in an
 * unshared one; a module imports one kind only, so there is a binary for each. Where neither
 * instantiates (a runtime without wasm SIMD), the kernels keep their JS loops.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';
import { SIMD_KERNELS_SHARED, SIMD_KERNELS_UNSHARED } from './simd-kernels-wasm.js';

/** The module's exports: pointers are byte offsets into the heap, counts are elements. */
export interface SimdKernels {
  relu_grad(dy: number, x: number, out: number, n: number, lo: number, hi: number): void;
  clip_grad(dy: number, x: number, out: number, n: number, lo: number, hi: number): void;
  relu(x: number, out: number, n: number): void;
  clamp(x: number, out: number, n: number, lo: number, hi: number): void;
  max_pool_grad(
    x: number, dy: number, dx: number, acc: number,
    n: number, h: number, w: number, ch: number,
    oh: number, ow: number, fh: number, fw: number,
    sh: number, sw: number, pt: number, pl: number,
  ): void;
  adam(
    w: number, g: number, m: number, v: number,
    w2: number, m2: number, v2: number, n: number,
    b1: number, omb1: number, b2: number, omb2: number,
    c1: number, c2: number, eps: number, nlr: number,
  ): void;
  conv_filter_grad(
    xp: number, dy: number, out: number,
    n: number, hp: number, wp: number, ci: number,
    oh: number, ow: number, co: number,
    fh: number, fw: number, sh: number, sw: number,
  ): void;
}

/** The parts of the WebAssembly JS API used here (the project's lib settings declare none). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { exports: unknown };
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

let enabled = true;

/** Turns the SIMD kernels off (the JS loops run instead) or on again: for A/B benches and tests. */
export function setSimdKernelsEnabled(on: boolean): void {
  enabled = on;
}

/** One instance per tfjs heap, or why it cannot be instantiated there. */
const instances = new WeakMap<WasmMemory, SimdKernels | { failed: string }>();

/** The WasmMemory holding the backend's heap (pthread build: `wasmMemory`; else the module's export). */
export function heapMemory(backend: BackendWasm): WasmMemory | undefined {
  const m = backend.wasm as unknown as { wasmMemory?: WasmMemory; asm?: { memory?: WasmMemory } };
  return m.wasmMemory ?? m.asm?.memory;
}

function decode(base64: string): Uint8Array {
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

/** Instantiates the kernels on any memory (tfjs's, or one a test made). */
export function instantiateSimdKernels(memory: WasmMemory): SimdKernels {
  const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
  // Synchronous: the module is ~1.3 KB, under the size browsers allow on the main thread.
  const module = new wasmApi.Module(decode(shared ? SIMD_KERNELS_SHARED : SIMD_KERNELS_UNSHARED));
  return new wasmApi.Instance(module, { env: { memory } }).exports as unknown as SimdKernels;
}

function lookUp(backend: BackendWasm): SimdKernels | { failed: string } {
  const memory = heapMemory(backend);
  if (memory === undefined) return { failed: 'the wasm backend exposes no WasmMemory' };
  let k = instances.get(memory);
  if (k === undefined) {
    try {
      k = instantiateSimdKernels(memory);
    } catch (err) {
      k = { failed: (err as Error).message };
    }
    instances.set(memory, k);
  }
  return k;
}

/** The SIMD kernels on this backend's heap, or undefined (turned off, or unavailable here). */
export function simdKernels(backend: BackendWasm): SimdKernels | undefined {
  if (!enabled) return undefined;
  const k = lookUp(backend);
  return 'failed' in k ? undefined : k;
}

/** Why the SIMD kernels do not run on this backend, or undefined when they do. */
export function simdKernelsUnavailable(backend: BackendWasm): string | undefined {
  if (!enabled) return 'turned off (setSimdKernelsEnabled)';
  const k = lookUp(backend);
  return 'failed' in k ? k.failed : undefined;
}

/** Byte offset of a tensor's data in the heap. */
export function heapOffset(backend: BackendWasm, t: tf.TensorInfo): number {
  return backend.dataIdMap.get(t.dataId)!.memoryOffset;
}
