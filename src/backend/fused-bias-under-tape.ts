/**
 * Keeps the bias inside the fused conv / matMul kernels while a gradient is being recorded.
 *
 * tfjs's `tf.fused.*` ops (which tf.layers' Conv2D and Dense call) fall back to
 * op + broadcast Add + activation whenever a tape is recording and the activation is not linear
 * (`shouldFuse` in tfjs-core). So every training step and every attack gradient paid a separate
 * broadcast Add over each activation — on wasm a generic single-threaded kernel, 1.7 ms of the MNIST
 * CNN's 60 ms training step for its first layer alone (issue 21's profile) — while XNNPACK adds the
 * bias in the convolution's own output loop. Under a tape we call the fused op with a linear
 * activation (fused and differentiated by lazy-grads.ts's configs) and apply ReLU / ReLU6 / ELU after it:
 * the same values as tfjs's unfused path but for the rounding of the bias sum, and the same
 * gradients (ReLU's through its own one-pass kernel).
 *
 * The ops are replaced on tfjs's `fused` namespace object, which tf.layers reads at call time; where
 * it cannot be written (a bundler's getter, a frozen object, a native ES-module namespace) nothing
 * changes. Converted GraphModels do not benefit: tfjs-converter executes its own copy of the ops.
 */
import * as tf from '@tensorflow/tfjs';

type FusedOp = (args: { activation?: string; preluActivationWeights?: unknown; leakyreluAlpha?: unknown } & Record<string, unknown>) => tf.Tensor;
type FusedName = 'conv2d' | 'depthwiseConv2d' | 'matMul';

const NAMES: FusedName[] = ['conv2d', 'depthwiseConv2d', 'matMul'];
/** Activations that are plain ops on the fused output. */
const SEPARABLE: Record<string, (t: tf.Tensor) => tf.Tensor> = { relu: tf.relu, relu6: tf.relu6, elu: tf.elu };

const originals = new Map<FusedName, FusedOp>();

function gradientRecording(): boolean {
  return (tf.engine() as unknown as { state: { gradientDepth: number } }).state.gradientDepth > 0;
}

function underTape(original: FusedOp): FusedOp {
  return (args) => {
    const activate = args.activation !== undefined && Object.hasOwn(SEPARABLE, args.activation) ? SEPARABLE[args.activation] : undefined;
    if (activate === undefined || !gradientRecording()) return original(args);
    return activate(original({ ...args, activation: 'linear' }));
  };
}

function fusedNamespace(): Record<FusedName, FusedOp> {
  return tf.fused as unknown as Record<FusedName, FusedOp>;
}

/** Installs the wrappers (idempotent); false where tfjs's namespace cannot be written. */
export function registerFusedBiasUnderTape(): boolean {
  const ns = fusedNamespace();
  for (const name of NAMES) {
    if (originals.has(name)) continue;
    if (Object.getOwnPropertyDescriptor(ns, name)?.writable !== true) return false;
    const original = ns[name];
    try {
      // A module namespace says writable and throws on assignment.
      ns[name] = underTape(original);
    } catch {
      return false;
    }
    originals.set(name, original);
  }
  return true;
}

/** Restores tfjs's ops (for before/after measurements and tests). */
export function unregisterFusedBiasUnderTape(): void {
  const ns = fusedNamespace();
  for (const [name, original] of originals) ns[name] = original;
  originals.clear();
}

export function fusedBiasUnderTapeRegistered(): boolean {
  return originals.size === NAMES.length;
}
