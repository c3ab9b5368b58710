import { l2, linf } from '../src/tensor/norms.js';
import type { SyncAttack } from '../src/types.js';
import { gradientDescentAttack } from './gradient-descent.js';
import type { LoopOptions } from './options.js';

/**
 * FGSM — Goodfellow, Shlens & Szegedy, "Explaining and Harnessing Adversarial Examples",
 * ICLR 2015 (arXiv:1412.6572). L∞: x' = clip(x + ε·sign(∇ₓL)). One step of size ε, no random start.
 * Targeted when the criterion carries targets (a step down the loss on the target class).
 */
export function fgsm(options: Pick<LoopOptions, 'loss'> = {}): SyncAttack {
  return gradientDescentAttack('fgsm', linf, { steps: 1, relStepsize: 1, randomStart: false, loss: options.loss ?? 'ce', restarts: 1 });
}

/** FGM — the L2 fast gradient method: x' = clip(x + ε·∇ₓL/‖∇ₓL‖₂), per example. */
export function fgm(options: Pick<LoopOptions, 'loss'> = {}): SyncAttack {
  return gradientDescentAttack('fgm', l2, { steps: 1, relStepsize: 1, randomStart: false, loss: options.loss ?? 'ce', restarts: 1 });
}
