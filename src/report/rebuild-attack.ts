import stableStringify from 'fast-json-stable-stringify';
import { ATTACK_REGISTRY, makeAttack, type AttackOptions } from '../../attacks/index.js';
import { UserError } from '../errors.js';
import type { AttackDescription } from '../harness/report-types.js';
import { ATTACK_OPTION_TABLE, type AttackOptionTable } from '../run/attack-option-table.js';
import type { Attack } from '../types.js';

/** The settings a stored attack configuration can pass back to the attack's factory: those of the attack options, and the query budget (no flag). */
function optionsFrom(d: AttackDescription, table: AttackOptionTable): AttackOptions {
  const o: AttackOptions = Object.assign({}, ...table.map((row) => row.fromStored?.(d) ?? {}));
  if (typeof d.config.queries === 'number') o.queries = d.config.queries;
  return o;
}

/**
 * The attack a report describes, rebuilt from its name and stored configuration: "pgd",
 * "pgd-l2" (the norm is an option), "pgd+eot10+bpda" (adaptive wrappers, innermost first).
 * Refuses when the rebuilt attack's name or configuration differs from the stored one, since its
 * images would then not be the ones the report counted. `table`: the attack options to read.
 */
export function rebuildAttack(d: AttackDescription, table: AttackOptionTable = ATTACK_OPTION_TABLE): Attack {
  const [head = '', ...wrappers] = d.name.split('+');
  const base = head in ATTACK_REGISTRY ? head : head.replace(/-(linf|l2)$/, '');
  if (d.kind === 'universal') {
    throw new UserError(`attack "${d.name}" fitted one perturbation on training data, which the report does not hold: its per-example images are not rebuilt (pass --no-images; the patch or perturbation itself is in the report's "universal" entries)`);
  }
  let attack = makeAttack(base, optionsFrom(d, table));
  for (const w of wrappers) {
    const match = table.map((row) => ({ row, m: row.namePart?.exec(w) })).find((x) => x.m && x.row.wrap);
    if (!match) throw new UserError(`the report's attack "${d.name}" has an unknown part "${w}": re-run the evaluation with this version of advtest`);
    attack = match.row.wrap!.apply(attack, match.m![1] ?? 'true');
  }
  if (attack.name !== d.name || stableStringify(attack.config) !== stableStringify(d.config)) {
    throw new UserError(
      `cannot rebuild attack "${d.name}" with the report's settings (rebuilt: ${attack.name} ${stableStringify(attack.config)}; stored: ${stableStringify(d.config)}): re-run the evaluation with this version of advtest, or pass --no-images`,
    );
  }
  return attack;
}
