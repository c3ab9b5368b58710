import stableStringify from 'fast-json-stable-stringify';
import { bpda, eot } from '../../attacks/adaptive.js';
import { withInputDiversity } from '../../attacks/input-diversity.js';
import { ATTACK_REGISTRY, makeAttack, type AttackOptions } from '../../attacks/index.js';
import { UserError } from '../errors.js';
import type { AttackDescription } from '../harness/report-types.js';
import { isLossName } from '../tensor/loss.js';
import type { Attack, NormName } from '../types.js';

/** The settings a stored attack configuration can pass back to the attack's factory. */
function optionsFrom(d: AttackDescription): AttackOptions {
  const c = d.config;
  const o: AttackOptions = { norm: d.norm as NormName };
  if (typeof c.steps === 'number') o.steps = c.steps;
  if (typeof c.relStepsize === 'number') o.relStepsize = c.relStepsize;
  if (typeof c.absStepsize === 'number') o.absStepsize = c.absStepsize;
  if (typeof c.restarts === 'number') o.restarts = c.restarts;
  if (typeof c.loss === 'string' && isLossName(c.loss)) o.loss = c.loss;
  if (typeof c.queries === 'number') o.queries = c.queries;
  return o;
}

/**
 * The attack a report describes, rebuilt from its name and stored configuration: "pgd",
 * "pgd-l2" (the norm is an option), "pgd+eot10+bpda" (adaptive wrappers, innermost first).
 * Refuses when the rebuilt attack's name or configuration differs from the stored one, since its
 * images would then not be the ones the report counted.
 */
export function rebuildAttack(d: AttackDescription): Attack {
  const [head = '', ...wrappers] = d.name.split('+');
  const base = head in ATTACK_REGISTRY ? head : head.replace(/-(linf|l2)$/, '');
  if (d.kind === 'universal') {
    throw new UserError(`attack "${d.name}" fitted one perturbation on training data, which the report does not hold: its per-example images are not rebuilt (pass --no-images; the patch or perturbation itself is in the report's "universal" entries)`);
  }
  const options = optionsFrom(d);
  let attack = makeAttack(base, options);
  for (const w of wrappers) {
    const samples = /^eot(\d+)$/.exec(w);
    if (samples) attack = eot(attack, Number(samples[1]));
    else if (w === 'bpda') attack = bpda(attack);
    else if (/^di[\d.]+$/.test(w)) attack = withInputDiversity(attack, Number(w.slice(2)));
    else throw new UserError(`the report's attack "${d.name}" has an unknown part "${w}": re-run the evaluation with this version of advtest`);
  }
  if (attack.name !== d.name || stableStringify(attack.config) !== stableStringify(d.config)) {
    throw new UserError(
      `cannot rebuild attack "${d.name}" with the report's settings (rebuilt: ${attack.name} ${stableStringify(attack.config)}; stored: ${stableStringify(d.config)}): re-run the evaluation with this version of advtest, or pass --no-images`,
    );
  }
  return attack;
}
