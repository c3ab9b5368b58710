import * as tf from '@tensorflow/tfjs';
import { ADAM_KERNEL, type AdamAttrs } from '../backend/wasm-adam.js';
import { UserError } from '../errors.js';

export type OptimizerName = 'sgd' | 'momentum' | 'nesterov' | 'adam';
export const OPTIMIZERS: readonly OptimizerName[] = ['sgd', 'momentum', 'nesterov', 'adam'];

/**
 * tfjs 4.22's MomentumOptimizer.dispose does not call SGDOptimizer.dispose, so the learning-rate
 * scalar it inherits leaks one tensor per optimizer; dispose it here.
 */
class MomentumOptimizer extends tf.MomentumOptimizer {
  override dispose(): void {
    super.dispose();
    (this as unknown as { c?: tf.Tensor }).c?.dispose();
  }
}

interface AdamInternals {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: { originalName: string; variable: tf.Variable }[];
  accumulatedSecondMoment: { originalName: string; variable: tf.Variable }[];
}

/**
 * tfjs's Adam (same state, weights, serialisation and float32 arithmetic), updating each variable
 * with one kernel (backend/wasm-adam.ts) where the backend has it, instead of tfjs's 14.
 */
type VariableGradients = Parameters<tf.AdamOptimizer['applyGradients']>[0];

class Adam extends tf.AdamOptimizer {
  override applyGradients(variableGradients: VariableGradients): void {
    const list = Array.isArray(variableGradients);
    const names = list ? variableGradients.map((v) => v.name) : Object.keys(variableGradients);
    const gradientOf = (i: number): tf.Tensor | undefined => (list ? variableGradients[i]?.tensor : variableGradients[names[i]!]);
    const variables = tf.engine().registeredVariables;
    const fused =
      tf.getKernel(ADAM_KERNEL, tf.getBackend()) !== undefined &&
      names.every((name, i) => {
        const g = gradientOf(i);
        const w = variables[name];
        return g === undefined || g === null || (w !== undefined && w.dtype === 'float32' && g.dtype === 'float32' && tf.util.arraysEqual(g.shape, w.shape));
      });
    if (!fused) {
      super.applyGradients(variableGradients);
      return;
    }
    const self = this as unknown as AdamInternals;
    const f = Math.fround;
    // tfjs: sub(1, accBeta) in float32, then the scalars mul(·, β), mul(·, 1 − β), add(·, ε), mul(·, −lr).
    const base = { b1: f(self.beta1), omb1: f(1 - self.beta1), b2: f(self.beta2), omb2: f(1 - self.beta2), eps: f(self.epsilon), nlr: f(-self.learningRate) };
    const attrs: AdamAttrs = { ...base, c1: f(1 - self.accBeta1.dataSync()[0]!), c2: f(1 - self.accBeta2.dataSync()[0]!) };
    tf.tidy(() => {
      names.forEach((name, i) => {
        const value = variables[name]!;
        // The moments' slots and names as tfjs makes them (checkpoints read them back by position).
        self.accumulatedFirstMoment[i] ??= { originalName: `${name}/m`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        self.accumulatedSecondMoment[i] ??= { originalName: `${name}/v`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        const gradient = gradientOf(i);
        if (gradient === undefined || gradient === null) return;
        const m = self.accumulatedFirstMoment[i]!.variable;
        const v = self.accumulatedSecondMoment[i]!.variable;
        const [w2, m2, v2] = tf.engine().runKernel(ADAM_KERNEL, { w: value, g: gradient, m, v }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
        m.assign(m2!);
        v.assign(v2!);
        value.assign(w2!);
      });
      self.accBeta1.assign(tf.mul(self.accBeta1, self.beta1));
      self.accBeta2.assign(tf.mul(self.accBeta2, self.beta2));
    });
    this.incrementIterations();
  }
}

/** Momentum 0.9 for the two momentum variants, as is usual for CNNs. */
export function makeOptimizer(name: string, learningRate: number): tf.Optimizer {
  if (!(learningRate > 0 && Number.isFinite(learningRate))) {
    throw new UserError(`learning rate ${learningRate} must be a positive number, e.g. --lr 0.001`);
  }
  switch (name) {
    case 'sgd':
      return tf.train.sgd(learningRate);
    case 'momentum':
      return new MomentumOptimizer(learningRate, 0.9, false);
    case 'nesterov':
      return new MomentumOptimizer(learningRate, 0.9, true);
    case 'adam':
      // tf.train.adam's defaults: β1 0.9, β2 0.999, ε the backend's.
      return new Adam(learningRate, 0.9, 0.999);
    default:
      throw new UserError(`unknown optimizer "${name}": use one of ${OPTIMIZERS.join(', ')}`);
  }
}
