import { parseAttackSpec, type AttackOptions } from '../../attacks/index.js';
import type { SuiteMode } from '../harness/evaluate.js';
import type { Attack } from '../types.js';
import { ATTACK_OPTION_TABLE, effectiveAttackOptions, givenAttackOptions, type AttackOptionTable, type AttackOptionValues } from './attack-option-table.js';

/** The attacks of a run as the command line spells them (also stored in baselines, sent to workers); the options are declared in attack-option-table.ts. */
export interface AttackCliOptions extends AttackOptionValues {
  attack: string;
  mode?: SuiteMode;
}

/** What the attacks' factories take from the options. */
export function attackOptionsFrom(o: AttackCliOptions, table: AttackOptionTable = ATTACK_OPTION_TABLE): AttackOptions {
  const out: AttackOptions = {};
  for (const [row, text] of effectiveAttackOptions(o, table)) row.factory?.(text, out);
  return out;
}

/** The attack options of `o` (e.g. a command's parsed flags) and nothing else: what a worker or a baseline needs. */
export function pickAttackOptions(o: AttackCliOptions, table: AttackOptionTable = ATTACK_OPTION_TABLE): AttackCliOptions {
  return { attack: o.attack, ...(o.mode !== undefined ? { mode: o.mode } : {}), ...givenAttackOptions(o, table) };
}

/** The attacks and the suite mode a command line asks for. */
export function attacksFrom(o: AttackCliOptions, table: AttackOptionTable = ATTACK_OPTION_TABLE): { attacks: Attack[]; mode: SuiteMode } {
  const parsed = parseAttackSpec(o.attack, attackOptionsFrom(o, table));
  const { preset } = parsed;
  const wrappers = effectiveAttackOptions(o, table).flatMap(([row, text]) => (row.wrap ? [{ ...row.wrap, text }] : [])).sort((a, b) => a.layer - b.layer);
  const attacks = parsed.attacks.map((a) => wrappers.reduce((attack, w) => w.apply(attack, w.text), a));
  const mode = o.mode ?? (preset !== undefined || attacks.length > 1 ? 'sequential' : 'independent');
  return { attacks, mode };
}
