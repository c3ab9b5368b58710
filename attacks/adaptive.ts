import { UserError } from '../src/errors.js';
import { expectation, isTransformed, straightThrough } from '../src/model/input-transform.js';
import type { Attack, AttackContext, Classifier } from '../src/types.js';

/**
 * Runs an attack against a surrogate of the model (for its gradients) while the harness still
 * judges the result with the real model.
 */
function withSurrogate(attack: Attack, suffix: string, surrogate: (m: Classifier) => Classifier, extra: Record<string, unknown>, costFactor = 1): Attack {
  return {
    name: `${attack.name}+${suffix}`,
    norm: attack.norm,
    ...(attack.kind ? { kind: attack.kind } : {}),
    config: { ...attack.config, ...extra },
    run: (model, x, criterion, eps, ctx: AttackContext) => {
      // Each surrogate pass costs costFactor passes of the real model.
      const inner: AttackContext = { ...ctx, costs: { gradients: 0, queries: 0 } };
      const charge = () => {
        ctx.costs.gradients += inner.costs.gradients * costFactor;
        ctx.costs.queries += inner.costs.queries * costFactor;
      };
      const out = attack.run(surrogate(model), x, criterion, eps, inner);
      if (out instanceof Promise) {
        return out.then((t) => {
          charge();
          return t;
        });
      }
      charge();
      return out;
    },
  };
}

/**
 * BPDA — Athalye, Carlini & Wagner, "Obfuscated Gradients Give a False Sense of Security",
 * ICML 2018 (arXiv:1802.00420): differentiate through the model's input transform as if it were
 * the identity. Any gradient attack; the model must be a transformed classifier.
 */
export function bpda(attack: Attack): Attack {
  return withSurrogate(
    attack,
    'bpda',
    (model) => {
      if (!isTransformed(model)) {
        throw new UserError(`${attack.name}+bpda: the model has no input transform to approximate; BPDA applies to defenses such as bit-depth reduction, JPEG or median smoothing`);
      }
      return straightThrough(model);
    },
    { bpda: 'straight-through' },
  );
}

/**
 * EOT — Athalye, Engstrom, Ilyas & Kwok, "Synthesizing Robust Adversarial Examples", ICML 2018
 * (arXiv:1707.07397): gradients averaged over `samples` draws of a randomised model. Composes with
 * BPDA (bpda(eot(pgd)) or eot(bpda(pgd))). Costs `samples` gradients per step.
 */
export function eot(attack: Attack, samples: number): Attack {
  if (!Number.isInteger(samples) || samples < 1) throw new UserError(`--eot ${samples}: give a positive number of samples, e.g. --eot 10`);
  // A second average would multiply the draws (autoattack-rand already averages over 20).
  if (attack.config.eotSamples !== undefined) throw new UserError(`--eot ${samples}: ${attack.name} already averages over ${String(attack.config.eotSamples)} draws: drop --eot`);
  return withSurrogate(attack, `eot${samples}`, (model) => expectation(model, samples), { eotSamples: samples }, samples);
}
