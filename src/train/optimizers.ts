import * as tf from '@tensorflow/tfjs';
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
      return tf.train.adam(learningRate);
    default:
      throw new UserError(`unknown optimizer "${name}": use one of ${OPTIMIZERS.join(', ')}`);
  }
}
