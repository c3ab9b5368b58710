// The profiler's arithmetic (test/bench/flops.ts): multiply-adds of the mnist-cnn's conv2 in its
// three forms, worked out by hand, and what the kernel profiler attaches to a call.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { conv2dWork, gflops, kernelWork, matMulWork } from '../bench/flops.js';
import { KernelProfiler } from '../bench/kernel-profile.js';

// conv2 forward: 128 × 11 × 11 outputs × 64 channels × 3·3·32 taps = 285,474,816.
const CONV2_MACS = 128 * 11 * 11 * 64 * (3 * 3 * 32);

describe('kernel arithmetic', () => {
  it('conv2 forward, valid: every tap is inside', () => {
    const w = conv2dWork([128, 13, 13, 32], [3, 3, 32, 64], { strides: 1, pad: 'valid' });
    expect(w.macs).toBe(285_474_816);
    expect(w.macs).toBe(CONV2_MACS);
    expect(w.usefulMacs).toBe(w.macs);
    expect(w.note).toBe('');
  });

  it("conv2's input gradient as a forward conv over dy padded by 2: padded taps are work, not useful", () => {
    const w = kernelWork('Conv2D', { x: [128, 11, 11, 64], filter: [3, 3, 64, 32] }, {
      strides: 1,
      pad: [[0, 0], [2, 2], [2, 2], [0, 0]],
    })!;
    // 13 × 13 outputs × 32 channels × 3·3·64 taps.
    expect(w.macs).toBe(128 * 13 * 13 * 32 * 576);
    expect(w.macs).toBe(398_721_024);
    // Per axis 13 outputs × 3 taps = 39, of which 11 inputs × 3 = 33 land on dy: the useful part
    // is exactly the forward conv's products.
    expect(w.usefulMacs).toBe(128 * 33 * 33 * 32 * 64);
    expect(w.usefulMacs).toBe(CONV2_MACS);
    expect(w.note).toBe('pad 2,2,2,2');
  });

  it("conv2's filter gradient as a conv with batch and channels swapped", () => {
    const w = kernelWork('Conv2D', { x: [32, 13, 13, 128], filter: [11, 11, 128, 64] }, { strides: 1, pad: 'valid', dilations: [1, 1] })!;
    // 32 × 3 × 3 outputs × 64 × 11·11·128 taps.
    expect(w.macs).toBe(32 * 3 * 3 * 64 * 11 * 11 * 128);
    expect(w.macs).toBe(CONV2_MACS);
  });

  it("'same' padding with stride 2 on 5×5: 3×3 outputs, 7 of 9 taps inside per axis", () => {
    const w = conv2dWork([1, 5, 5, 1], [3, 3, 1, 1], { strides: [2, 2], pad: 'same' });
    expect(w.macs).toBe(81);
    expect(w.usefulMacs).toBe(49);
    expect(w.note).toBe('pad 1,1,1,1 stride 2,2');
  });

  it('the gradient kernels count the forward products', () => {
    const input = kernelWork('Conv2DBackpropInput', { dy: [128, 11, 11, 64], filter: [3, 3, 32, 64] }, { inputShape: [128, 13, 13, 32], strides: 1, pad: 'valid' })!;
    expect(input.macs).toBe(CONV2_MACS);
    const filter = kernelWork('Conv2DBackpropFilter', { x: [128, 13, 13, 32], dy: [128, 11, 11, 64] }, { filterShape: [3, 3, 32, 64], strides: 1, pad: 'valid' })!;
    expect(filter.macs).toBe(CONV2_MACS);
  });

  it('matMul: batch × M × N × K, transposes read from the attributes', () => {
    expect(matMulWork([2, 3, 4], [2, 4, 5], {}).macs).toBe(120);
    expect(matMulWork([2, 4, 3], [2, 5, 4], { transposeA: true, transposeB: true }).macs).toBe(120);
    expect(matMulWork([1, 3, 4], [7, 4, 5], {}).macs).toBe(7 * 60);
    // The dense layer: 128 × 1600 by 1600 × 128.
    expect(kernelWork('_FusedMatMul', { a: [1, 128, 1600], b: [1, 1600, 128] })!.macs).toBe(26_214_400);
    expect(kernelWork('Relu', { x: [4] })).toBeUndefined();
    expect(gflops(500_000, 1)).toBe(1);
  });
});

describe('kernel profiler', () => {
  it('attaches the arithmetic and the padding to a conv call, and its inclusive and CPU time', async () => {
    await tf.setBackend('cpu');
    const profiler = new KernelProfiler('cpu');
    profiler.start();
    try {
      await profiler.record(() => {
        tf.tidy(() => tf.conv2d(tf.ones([1, 5, 5, 1]) as tf.Tensor4D, tf.ones([3, 3, 1, 1]) as tf.Tensor4D, 2, 'same'));
      });
    } finally {
      profiler.stop();
    }
    const conv = profiler.results().find((s) => s.key.startsWith('Conv2D'));
    expect(conv?.key).toBe('Conv2D [1,5,5,1] [3,3,1,1] pad 1,1,1,1 stride 2,2');
    expect(conv?.work?.macs).toBe(81);
    expect(conv?.nestedWork).toBeUndefined();
    expect(conv!.totalMs).toBeGreaterThanOrEqual(conv!.selfMs);
    expect(conv!.totalCpuMs).toBeGreaterThanOrEqual(conv!.selfCpuMs);
  });

  it('marks a counted kernel that runs another (as our gradient kernels do), so its work is not counted twice', async () => {
    await tf.setBackend('cpu');
    // A Conv2DBackpropInput built from a forward Conv2D, as src/backend/wasm-kernels.ts does on wasm.
    const stock = tf.getKernel('Conv2DBackpropInput', 'cpu')!;
    tf.unregisterKernel('Conv2DBackpropInput', 'cpu');
    tf.registerKernel({
      ...stock,
      kernelFunc: ({ inputs }) => {
        const dy = tf.engine().makeTensorFromTensorInfo(inputs['dy']!) as tf.Tensor4D;
        const out = tf.conv2d(dy, tf.ones([3, 3, 1, 1]) as tf.Tensor4D, 1, [[0, 0], [2, 2], [2, 2], [0, 0]]);
        return out;
      },
    });
    const profiler = new KernelProfiler('cpu');
    profiler.start();
    try {
      await profiler.record(() => {
        tf.tidy(() => tf.conv2dTranspose(tf.ones([1, 3, 3, 1]) as tf.Tensor4D, tf.ones([3, 3, 1, 1]) as tf.Tensor4D, [1, 5, 5, 1], 1, 'valid'));
      });
    } finally {
      profiler.stop();
      tf.unregisterKernel('Conv2DBackpropInput', 'cpu');
      tf.registerKernel(stock);
    }
    const stats = profiler.results();
    const wrapper = stats.find((s) => s.key.startsWith('Conv2DBackpropInput'));
    const child = stats.find((s) => s.key.startsWith('Conv2D '));
    // The gradient's products are the forward conv's, 3 × 3 outputs × 9 taps; its child, the full
    // correlation over dy padded by 2, does 5 × 5 × 9, of which the same 81 are useful.
    expect(wrapper?.work?.macs).toBe(81);
    expect(wrapper?.nestedWork).toBe(true);
    expect(child?.key).toBe('Conv2D [1,3,3,1] [3,3,1,1] pad 2,2,2,2');
    expect(child?.work?.macs).toBe(225);
    expect(child?.work?.usefulMacs).toBe(81);
    expect(child?.nestedWork).toBeUndefined();
    expect(wrapper!.totalMs).toBeGreaterThanOrEqual(child!.totalMs);
  });
});
