import { createHash } from 'node:crypto';
import path from 'node:path';
import stableStringify from 'fast-json-stable-stringify';
import { ATTACK_OPTION_TABLE, givenAttackOptions, type AttackOptionTable } from '../run/attack-option-table.js';
import type { AttackCliOptions } from '../run/attack-options.js';
import { UserError } from '../errors.js';
import type { Attack } from '../types.js';
import type { AttackRequest, EvaluationSpec } from './baseline-file.js';

/** sha256 of the canonical JSON of the spec: key order and absent options do not change it. */
export function evaluationHash(spec: EvaluationSpec): string {
  return createHash('sha256').update(stableStringify(spec)).digest('hex');
}

/**
 * A path as stored in a baseline: relative to the baseline's folder, with forward slashes,
 * so that a baseline committed next to its model keeps working from any checkout and OS.
 */
export function storedPath(p: string, baselineDir: string): string {
  const rel = path.relative(path.resolve(baselineDir), path.resolve(p));
  return rel === '' ? '.' : rel.split(path.sep).join('/');
}

/** The inverse of storedPath. */
export function resolveStoredPath(stored: string, baselineDir: string): string {
  return path.resolve(baselineDir, stored);
}

const FOLDER = 'folder:';

/** A data spec with the PATH of `folder:PATH` mapped by `f`; built-in names as they are. */
export function mapDataFolder(spec: string, f: (folder: string) => string): string {
  return spec.startsWith(FOLDER) && spec.length > FOLDER.length ? FOLDER + f(spec.slice(FOLDER.length)) : spec;
}

/** `folder:PATH` with PATH made relative to the baseline's folder. */
export const storedDataSpec = (spec: string, baselineDir: string): string => mapDataFolder(spec, (p) => storedPath(p, baselineDir));

export const resolveDataSpec = (spec: string, baselineDir: string): string => mapDataFolder(spec, (p) => resolveStoredPath(p, baselineDir));

/** Attacks as a spec stores them: name, norm and the full configuration. */
export function storedAttacks(attacks: readonly Attack[]): EvaluationSpec['attacks'] {
  return attacks.map((a) => ({ name: a.name, norm: a.norm.name, config: a.config }));
}

/** The attack options of a command line, as a baseline stores them (only those given). */
export function attackRequest(o: AttackCliOptions, table: AttackOptionTable = ATTACK_OPTION_TABLE): AttackRequest {
  return { attack: o.attack, ...givenAttackOptions(o, table) };
}

/** Two figures with the same key would be indistinguishable in the baseline: refuse repeats. */
export function checkNoRepeats(spec: EvaluationSpec): void {
  const eps = spec.epsilons.find((e, i) => spec.epsilons.indexOf(e) !== i);
  if (eps !== undefined) throw new UserError(`--eps lists ${eps} twice: give each budget once`);
}
