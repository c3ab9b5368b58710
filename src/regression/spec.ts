import { createHash } from 'node:crypto';
import path from 'node:path';
import stableStringify from 'fast-json-stable-stringify';
import { makeAttack } from '../../attacks/index.js';
import { UserError } from '../errors.js';
import type { Attack } from '../types.js';
import type { EvaluationSpec } from './format.js';

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

/** `folder:PATH` with PATH made relative to the baseline's folder; built-in names as they are. */
export function storedDataSpec(spec: string, baselineDir: string): string {
  return spec.startsWith(FOLDER) && spec.length > FOLDER.length ? FOLDER + storedPath(spec.slice(FOLDER.length), baselineDir) : spec;
}

export function resolveDataSpec(spec: string, baselineDir: string): string {
  return spec.startsWith(FOLDER) && spec.length > FOLDER.length ? FOLDER + resolveStoredPath(spec.slice(FOLDER.length), baselineDir) : spec;
}

/** Attacks as a spec stores them: name, norm and the full configuration. */
export function describeAttacks(attacks: readonly Attack[]): EvaluationSpec['attacks'] {
  return attacks.map((a) => ({ name: a.name, norm: a.norm.name, config: a.config }));
}

/** Rebuilds the spec's attacks by name from the registry (the stored config is compared elsewhere). */
export function rebuildAttacks(spec: EvaluationSpec): Attack[] {
  return spec.attacks.map((a) => makeAttack(a.name));
}

/** Two figures with the same key would be indistinguishable in the baseline: refuse repeats. */
export function checkNoRepeats(spec: EvaluationSpec): void {
  const names = spec.attacks.map((a) => a.name);
  const repeated = names.find((n, i) => names.indexOf(n) !== i);
  if (repeated !== undefined) throw new UserError(`--attack lists "${repeated}" twice: name each attack once`);
  const eps = spec.epsilons.find((e, i) => spec.epsilons.indexOf(e) !== i);
  if (eps !== undefined) throw new UserError(`--eps lists ${eps} twice: give each budget once`);
}
