import path from 'node:path';
import { commandLine } from '../report/invocation.js';
import { ATTACK_OPTION_TABLE, givenAttackOptions } from '../run/attack-option-table.js';
import type { Baseline } from './baseline-file.js';
import { attacksFrom } from '../run/attack-options.js';
import { mapDataFolder, resolveStoredPath } from './spec.js';

/**
 * The `advtest baseline` command that records `file` again with the same evaluation (paths
 * relative to `cwd`): what to paste when a baseline of an older advtest lacks something new.
 */
export function rerecordCommand(baseline: Baseline, file: string, cwd = process.cwd()): string {
  const dir = path.dirname(path.resolve(file));
  // Relative to cwd when below it; absolute when a relative path would climb out of it.
  const shown = (abs: string) => {
    const rel = path.relative(cwd, abs);
    return rel === '' ? '.' : rel.startsWith('..') || path.isAbsolute(rel) ? abs : rel;
  };
  const here = (stored: string) => shown(resolveStoredPath(stored, dir));
  const e = baseline.evaluation;
  const args = ['baseline', '--model', here(baseline.model.path)];
  args.push('--data', mapDataFolder(e.data, here));
  if (e.dataDir !== undefined) args.push('--data-dir', here(e.dataDir));
  if (e.split !== 'test') args.push('--split', e.split);
  if (e.limit !== undefined) args.push('--limit', String(e.limit));
  args.push('--attack', e.request.attack);
  const given = givenAttackOptions(e.request);
  for (const row of ATTACK_OPTION_TABLE) {
    if (given[row.name] === undefined) continue;
    const flag = row.flag.split(' ')[0]!;
    if (row.type === 'switch') args.push(flag);
    else args.push(flag, String(given[row.name]));
  }
  // --mode only when the attacks alone would not imply the recorded one.
  let implied: string | undefined;
  try {
    implied = attacksFrom(e.request).mode;
  } catch {
    implied = undefined;
  }
  if (implied !== e.mode) args.push('--mode', e.mode);
  if (e.transform !== undefined) args.push('--transform', e.transform);
  args.push('--eps', e.epsilons.map(String).join(','), '--seed', String(e.seed), '--batch-size', String(e.batchSize));
  if (e.target !== 'untargeted') args.push('--targeted', String(e.target));
  args.push('--out', shown(path.resolve(file)), '--force');
  return commandLine(args);
}
