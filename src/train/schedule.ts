import * as tf from '@tensorflow/tfjs';
import { UserError } from '../errors.js';

export type ScheduleName = 'constant' | 'step' | 'cosine' | 'one-cycle';
export const SCHEDULES: readonly ScheduleName[] = ['constant', 'step', 'cosine', 'one-cycle'];

/** The learning rate of one step, from the base rate and the step's place in training. */
export type Schedule = (baseRate: number, step: number, totalSteps: number) => number;

/**
 * Learning-rate schedules, each evaluated at the middle of the step (t + ½)/T so that no step
 * gets a rate of exactly 0 (tfjs would take it, but the step would be wasted).
 * - step: ×0.1 at 50% and again at 75% of training (the piecewise decay of Madry et al.'s runs);
 * - cosine: ½·(1 + cos πp) (Loshchilov & Hutter 2017, SGDR, without restarts);
 * - one-cycle: linear 0 → base at 40%, then → 0 at the end: the cyclic rate of Wong et al. 2020
 *   ("Fast is better than free", arXiv:2001.03994), which fast FGSM training depends on.
 */
export const SCHEDULE_FUNCTIONS: Record<ScheduleName, Schedule> = {
  constant: (lr) => lr,
  step: (lr, t, total) => {
    const p = (t + 0.5) / total;
    return p < 0.5 ? lr : p < 0.75 ? lr * 0.1 : lr * 0.01;
  },
  cosine: (lr, t, total) => lr * 0.5 * (1 + Math.cos((Math.PI * (t + 0.5)) / total)),
  'one-cycle': (lr, t, total) => {
    const p = (t + 0.5) / total;
    return p < 0.4 ? (lr * p) / 0.4 : (lr * (1 - p)) / 0.6;
  },
};

export function makeSchedule(name: string): Schedule {
  const s = SCHEDULE_FUNCTIONS[name as ScheduleName];
  if (!s) throw new UserError(`unknown learning-rate schedule "${name}": use one of ${SCHEDULES.join(', ')}`);
  return s;
}

/**
 * Changes the rate of an optimizer made by makeOptimizer. SGD and both momentum variants keep
 * it as a kept scalar (setLearningRate swaps it); Adam reads its numeric field on every update.
 * By class name: tfjs's optimizers answer instanceof for any optimizer class (Symbol.hasInstance
 * checks only for an optimizer's methods).
 */
export function setLearningRate(optimizer: tf.Optimizer, rate: number): void {
  const name = optimizer.getClassName();
  if (name === 'SGD' || name === 'Momentum') (optimizer as tf.SGDOptimizer).setLearningRate(rate);
  else if (name === 'Adam') (optimizer as unknown as { learningRate: number }).learningRate = rate;
  else throw new Error(`cannot set the learning rate of ${name}`);
}
