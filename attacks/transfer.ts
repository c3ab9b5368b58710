import { UserError } from '../src/errors.js';
import type { Attack, Classifier } from '../src/types.js';

/**
 * Transfer attacks (Papernot et al. 2016; Liu et al. 2017): the adversarial examples are crafted
 * on a source model and judged on the target. The wrapper keeps the attack's name, so that its
 * seeds (derived from the name) are those of the white-box run: with source = target the two
 * runs are identical. The harness projects, clips and verifies the output on the target as for
 * any attack, so the source can never widen the budget.
 */

function shape(m: Classifier): string {
  return `${m.inputShape.join('×')} images, ${m.numClasses} classes, box [${m.bounds.lower}, ${m.bounds.upper}]`;
}

/** Refuses a source whose inputs, classes or box differ from the target's, naming both. */
export function checkTransferPair(source: Classifier, target: Classifier, sourceName = 'the source model'): void {
  const same =
    source.inputShape.length === target.inputShape.length &&
    source.inputShape.every((v, i) => v === target.inputShape[i]) &&
    source.numClasses === target.numClasses &&
    source.bounds.lower === target.bounds.lower &&
    source.bounds.upper === target.bounds.upper;
  if (!same) {
    throw new UserError(`--source-model ${sourceName} takes ${shape(source)} but the target model takes ${shape(target)}: choose a source model with the target's input shape, classes and box`);
  }
  if (source.gradientUnavailable) {
    throw new UserError(`--source-model ${sourceName} has no gradients (${source.gradientUnavailable}): a transfer source must be differentiable (a LayersModel or a GraphModel whose ops have gradients)`);
  }
}

/** The source model of each attack transferFrom made, so that whoever drops the attacks can free it. */
const SOURCES = new WeakMap<Attack, Classifier>();

/** The distinct source models of the transfer attacks among `attacks` (none for other attacks). */
export function transferSources(attacks: readonly Attack[]): Classifier[] {
  return [...new Set(attacks.flatMap((a) => (SOURCES.has(a) ? [SOURCES.get(a)!] : [])))];
}

/**
 * The attack crafted on `source`; `model` passed by the harness (the target) is used for nothing
 * but the check. Its config names the source (`transferFrom`, and `sourceModel`: the source's own
 * description, as reports and manifests describe the target), so a report or an `advtest attack`
 * manifest says which model the examples were crafted on.
 */
export function transferFrom(attack: Attack, source: Classifier, sourceName?: string): Attack {
  const info = source.describe?.() ?? {};
  const wrapped = {
    name: attack.name,
    norm: attack.norm,
    ...(attack.kind ? { kind: attack.kind } : {}),
    ...(attack.minimal ? { minimal: true } : {}),
    config: { ...attack.config, transferFrom: sourceName ?? (typeof info.path === 'string' ? info.path : 'source model'), sourceModel: info },
    ...(attack.fit ? { fit: (_target: Classifier, data, eps, seed) => attack.fit!(source, data, eps, seed) } : {}),
    run: (target, x, criterion, eps, ctx) => {
      checkTransferPair(source, target, sourceName);
      return attack.run(source, x, criterion, eps, ctx);
    },
  } as Attack;
  SOURCES.set(wrapped, source);
  return wrapped;
}
