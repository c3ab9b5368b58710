/**
 * `Relu`, `Relu6` and `ClipByValue` on wasm as SIMD loops on the heap (simd-kernels.wat). In
 * tfjs's pthread build — ours whenever it runs on more than one thread — the stock unary kernels
 * cost ~1.5 ns of CPU per element against ~0.25 in its single-thread build and for a binary `Add`
 * (4M elements, medians of 15; issue 21): a `Relu6` was a third of a MobileNetV2 forward pass.
 * The results are the stock kernels' bit for bit, special values included (NaN, ±Infinity, -0).
 */
import type * as tf from '@tensorflow/tfjs';
import { heapOffset, simdKernels } from './simd-kernels.js';
import { callOriginal, isWasmBackend, sizeOf, type ReplacedKernel } from './wasm-fallback.js';

type Activation = (simd: NonNullable<ReturnType<typeof simdKernels>>, x: number, out: number, n: number, attrs: Record<string, unknown>) => void;

function activationKernel(name: ReplacedKernel, run: Activation): tf.KernelFunc {
  return (args) => {
    const { inputs, attrs, backend } = args;
    const x = inputs['x'];
    if (x === undefined || x.dtype !== 'float32' || !isWasmBackend(backend)) return callOriginal(name, args, `input ${x?.dtype ?? 'missing'}`);
    const simd = simdKernels(backend);
    if (simd === undefined) return callOriginal(name, args, 'no SIMD kernels here');
    const out = backend.makeOutput(x.shape, 'float32');
    run(simd, heapOffset(backend, x), heapOffset(backend, out), sizeOf(x.shape), (attrs ?? {}) as Record<string, unknown>);
    return out;
  };
}

export const reluKernel = activationKernel('Relu', (k, x, out, n) => k.relu(x, out, n));
export const relu6Kernel = activationKernel('Relu6', (k, x, out, n) => k.clamp(x, out, n, 0, 6));
// The bounds as float32, as the stock kernel takes them.
export const clipByValueKernel = activationKernel('ClipByValue', (k, x, out, n, a) => k.clamp(x, out, n, Math.fround(a['clipValueMin'] as number), Math.fround(a['clipValueMax'] as number)));
