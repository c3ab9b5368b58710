import * as tf from '@tensorflow/tfjs';
import { UserError } from '../errors.js';
import type { ImageShape } from '../types.js';

/** First line of an error's message. */
function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n')[0]!;
}

/**
 * Why tfjs cannot differentiate, in the user's terms, for the messages tfjs gives; undefined for
 * any other error.
 */
export function explainGradientError(err: unknown): string | undefined {
  const message = firstLine(err);
  // "Cannot compute gradient: gradient function not found for Einsum."
  const noGrad = /gradient function not found for (\w+)/i.exec(message);
  if (noGrad) return `op ${noGrad[1]} has no gradient in TF.js`;
  // "Kernel 'DepthwiseConv2dNativeBackpropInput' not registered for backend 'wasm'"
  const noKernel = /Kernel '(\w+)' not registered for backend '(\w+)'/.exec(message);
  if (noKernel) return `kernel ${noKernel[1]} (needed by the gradient) is not available on the ${noKernel[2]} backend; white-box attacks need --backend cpu`;
  const fused = /Cannot compute gradient for fused activation (\w+)/.exec(message);
  if (fused) return `fused activation ${fused[1]} has no gradient in TF.js`;
  return undefined;
}

/**
 * Tries one input gradient (batch of 1 at zero) at load time. Returns why white-box attacks are
 * impossible, or undefined when the gradient works. Errors tfjs raises inside its own backward
 * pass (a TypeError on an undefined tensor, as for tensorflow/tfjs#2868) are reported too:
 * score-based attacks still apply, which beats an internal error halfway through a run.
 */
export function probeGradient(run: (x: tf.Tensor4D) => tf.Tensor2D, shape: ImageShape): string | undefined {
  try {
    // tidy keeps what it returns: the gradient is disposed here.
    tf.tidy(() => tf.grad((x: tf.Tensor) => tf.sum(run(x as tf.Tensor4D)))(tf.zeros([1, ...shape]))).dispose();
    return undefined;
  } catch (err) {
    if (err instanceof UserError) throw err;
    return explainGradientError(err) ?? `the input gradient fails in TF.js (${firstLine(err)})`;
  }
}

/**
 * Runs the model once on a zero image (batch of 1) and returns its output; a kernel missing on
 * this backend becomes a UserError naming it, since no attack can run without a forward pass.
 */
export function probeForward(run: (x: tf.Tensor4D) => tf.Tensor2D, shape: ImageShape, where: string): tf.Tensor2D {
  try {
    return tf.tidy(() => run(tf.zeros([1, ...shape])));
  } catch (err) {
    const noKernel = /Kernel '(\w+)' not registered for backend '(\w+)'/.exec(firstLine(err));
    if (noKernel) throw new UserError(`${where}: op ${noKernel[1]} has no kernel on the ${noKernel[2]} backend: run with --backend cpu`);
    throw err;
  }
}
