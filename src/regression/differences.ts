import stableStringify from 'fast-json-stable-stringify';
import { describeTarget } from '../harness/targets.js';
import { formatEps } from '../number-format.js';
import type { EvaluationSpec } from './baseline-file.js';

const list = (xs: readonly string[]) => (xs.length === 0 ? '(none)' : xs.join(', '));
const orNone = (x: string | number | undefined) => (x === undefined ? '(none)' : String(x));

/**
 * What differs between the evaluation a baseline was recorded with and the one requested now,
 * one readable phrase per difference ("ε: baseline 0.1, 0.2; now 0.3"); empty when they agree.
 */
export function specDifferences(baseline: EvaluationSpec, now: EvaluationSpec): string[] {
  const out: string[] = [];
  const field = (name: string, a: string, b: string) => {
    if (a !== b) out.push(`${name}: baseline ${a}; now ${b}`);
  };
  field('data', baseline.data, now.data);
  field('data dir', orNone(baseline.dataDir), orNone(now.dataDir));
  field('split', baseline.split, now.split);
  field('limit', orNone(baseline.limit), orNone(now.limit));
  const names = (s: EvaluationSpec) => s.attacks.map((a) => a.name);
  field('attacks', list(names(baseline)), list(names(now)));
  // Same name, other settings: the registry's attack changed since the baseline was made.
  for (const before of baseline.attacks) {
    const after = now.attacks.find((a) => a.name === before.name);
    if (after === undefined) continue;
    const a = stableStringify({ norm: before.norm, config: before.config });
    const b = stableStringify({ norm: after.norm, config: after.config });
    if (a !== b) out.push(`attack ${before.name} settings: baseline ${a}; now ${b}`);
  }
  field('suite mode', baseline.mode, now.mode);
  field('input transform', orNone(baseline.transform), orNone(now.transform));
  field('ε', list(baseline.epsilons.map(formatEps)), list(now.epsilons.map(formatEps)));
  field('seed', String(baseline.seed), String(now.seed));
  field('batch size', String(baseline.batchSize), String(now.batchSize));
  field('target', describeTarget(baseline.target), describeTarget(now.target));
  return out;
}
