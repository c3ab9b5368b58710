import type { SyncAttack } from '../src/types.js';
import { gradientDescentAttack } from './gradient-descent.js';
import { attackName, resolveNorm, type LoopOptions } from './options.js';

/**
 * BIM / I-FGSM — Kurakin, Goodfellow & Bengio, "Adversarial examples in the physical world",
 * 2016 (arXiv:1607.02533). x ← Π(x + α·sign(∇ₓL)) from the clean image, no random start.
 * Defaults as foolbox's L∞BasicIterativeAttack: 10 steps of 0.2·ε. L∞ (L2 with norm: 'l2').
 */
export function bim(options: LoopOptions = {}): SyncAttack {
  const norm = resolveNorm(options.norm, 'linf');
  return gradientDescentAttack(attackName('bim', norm, 'linf'), norm, {
    steps: options.steps ?? 10,
    relStepsize: options.relStepsize ?? 0.2,
    ...(options.absStepsize !== undefined ? { absStepsize: options.absStepsize } : {}),
    randomStart: false,
    loss: options.loss ?? 'ce',
    restarts: options.restarts ?? 1,
  });
}
