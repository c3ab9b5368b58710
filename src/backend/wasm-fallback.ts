/**
 * What every replacement wasm kernel shares: the stock kernels it falls back to for cases it
 * does not cover, and access to the wasm backend's heap.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

export const BACKEND = 'wasm';

/** The wasm kernels advtest replaces (or, for the conv and depthwise backprops tfjs lacks, adds). */
export const REPLACED_KERNELS = [
  'Conv2DBackpropInput',
  'Conv2DBackpropFilter',
  'MaxPoolGrad',
  'BatchMatMul',
  'Identity',
  'Cast',
  'Tile',
  'Sum',
  'DepthwiseConv2dNativeBackpropInput',
  'DepthwiseConv2dNativeBackpropFilter',
  '_FusedMatMul',
  'Relu',
  'Relu6',
  'ClipByValue',
] as const;
export type ReplacedKernel = (typeof REPLACED_KERNELS)[number];

/**
 * What was registered for wasm before we replaced it (undefined: nothing, which is the case for
 * Conv2DBackpropFilter and both depthwise backprops in tfjs 4.22). Used for fallbacks and to unregister.
 */
export const originals = new Map<ReplacedKernel, tf.KernelConfig | undefined>();

/** Runs the kernel we replaced, for inputs/attrs our replacement does not cover. */
export function callOriginal(name: ReplacedKernel, args: Parameters<tf.KernelFunc>[0], why: string): ReturnType<tf.KernelFunc> {
  const original = originals.get(name);
  if (original === undefined) {
    throw new Error(`${name} on wasm: unsupported ${why} (and no stock wasm kernel to fall back to)`);
  }
  return original.kernelFunc(args);
}

export function isWasmBackend(backend: unknown): backend is BackendWasm {
  const b = backend as Partial<BackendWasm> | null;
  return (
    b !== null &&
    typeof b.typedArrayFromHeap === 'function' &&
    typeof b.makeOutput === 'function' &&
    typeof b.incRef === 'function'
  );
}

/** Kernel inputs are normally Tensors; wrap a bare TensorInfo (tracked, so a tidy disposes it). */
export function asTensor(info: tf.TensorInfo): tf.Tensor {
  return info instanceof tf.Tensor ? info : tf.engine().makeTensorFromTensorInfo(info);
}

/** The dtypes the wasm heap holds (strings and complex numbers live elsewhere). */
export function onHeap(dtype: tf.DataType): boolean {
  return dtype === 'float32' || dtype === 'int32' || dtype === 'bool';
}

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((p, d) => p * d, 1);
}
