/**
 * `Identity` and same-dtype `Cast` on wasm without copying.
 *
 * The stock wasm kernels copy the whole buffer. The engine calls Identity for every tensor it
 * saves for a backward pass (`clone`), about 30 times per input gradient of the MNIST CNN, and
 * tfjs's relu gradient casts a float32 `step(x)` to float32. The cpu backend shares the buffer
 * instead (incRef, as the wasm Reshape kernel already does); buffers are never written after
 * they are made (kernels always write a fresh output), so sharing cannot be observed.
 */
import type * as tf from '@tensorflow/tfjs';
import { callOriginal, isWasmBackend, onHeap } from './wasm-fallback.js';

function alias(x: tf.TensorInfo, backend: { incRef(dataId: tf.DataId): void }): tf.TensorInfo {
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

export const identityKernel: tf.KernelFunc = (args) => {
  const x = args.inputs['x'];
  if (x === undefined || !onHeap(x.dtype) || !isWasmBackend(args.backend)) {
    return callOriginal('Identity', args, `input ${x?.dtype ?? 'missing'}`);
  }
  return alias(x, args.backend);
};

export const castKernel: tf.KernelFunc = (args) => {
  const x = args.inputs['x'];
  const dtype = (args.attrs as { dtype?: tf.DataType } | undefined)?.dtype;
  // A real conversion is the stock kernel's business.
  if (x === undefined || dtype !== x.dtype || !onHeap(x.dtype) || !isWasmBackend(args.backend)) {
    return callOriginal('Cast', args, `cast ${x?.dtype ?? 'missing'} to ${String(dtype)}`);
  }
  return alias(x, args.backend);
};
