import { UserError } from '../errors.js';
import { formatEps } from '../number-format.js';
import { checkEpsAgainstRange } from '../parse.js';
import type { Attack, Classifier } from '../types.js';
import { checkEotFits } from './eot-fit.js';

/**
 * The ε grid read in each attack's own unit: L∞/L2 in pixel values (at most the input range), l0
 * in pixels (integers), patch in area (a fraction ≤ 1). One grid cannot mean two units, so
 * attacks of different units are not mixed in one run.
 */
export function checkBudgets(attacks: Attack[], epsilons: number[], model: { bounds: { lower: number; upper: number }; inputShape: readonly number[] }): void {
  const range = model.bounds.upper - model.bounds.lower;
  const unit = (a: Attack) => (a.norm.name === 'l0' ? 'pixels' : a.norm.name === 'patch' ? 'area' : 'values');
  const first = attacks[0];
  const other = attacks.find((a) => unit(a) !== unit(first!));
  if (first && other) {
    throw new UserError(`${first.name} (${first.norm.name}) and ${other.name} (${other.norm.name}) read ε in different units (${unit(first)} vs ${unit(other)}): evaluate them in separate runs`);
  }
  if (!first || unit(first) === 'values') {
    // An L2 ball reaches range·√(values) (every value moved end to end), an L∞ ball only the range.
    const values = model.inputShape.reduce((a, b) => a * b, 1);
    if (!attacks.every((a) => a.norm.name === 'l2' || a.norm.name === 'l1')) return checkEpsAgainstRange(epsilons, range);
    // An L1 ball reaches range·values; with L2 attacks in the run, the smaller L2 reach applies.
    const l1Only = attacks.every((a) => a.norm.name === 'l1');
    const reach = l1Only ? range * values : range * Math.sqrt(values);
    const big = epsilons.find((e) => e > reach);
    if (big !== undefined && l1Only) throw new UserError(`--eps ${formatEps(big)} with an L1 attack exceeds the largest L1 distance in this input (range ${range} × ${values} values = ${reach.toFixed(1)}): an L1 ε sums every value's change, e.g. --eps 2,5,10 on MNIST`);
    if (big !== undefined) throw new UserError(`--eps ${formatEps(big)} with an L2 attack exceeds the largest L2 distance in this input (range ${range} × √${values} = ${reach.toFixed(1)}): an L2 ε is a Euclidean length, e.g. --eps 0.5,1,2 on MNIST`);
    return;
  }
  if (unit(first) === 'pixels') {
    const bad = epsilons.find((e) => !Number.isInteger(e));
    if (bad !== undefined) throw new UserError(`--eps ${formatEps(bad)} with ${first.name}: the l0 budget is a number of pixels (all channels of a location count once): give integers, e.g. --eps 1,5,10`);
    return;
  }
  const big = epsilons.find((e) => e > 1);
  if (big !== undefined) throw new UserError(`--eps ${formatEps(big)} with ${first.name}: the patch size is a fraction of the image area, at most 1: e.g. --patch-size 0.1`);
}

/** What eval, attack and baseline check before attacking: the budgets, then --eot (a note goes to `onNote`; see checkEotFits). */
export function checkAttackSetup(model: Classifier, attacks: Attack[], epsilons: number[], onNote: (note: string) => void, transformOption = true): void {
  checkBudgets(attacks, epsilons, model);
  const note = checkEotFits(model, attacks, transformOption);
  if (note !== undefined) onNote(note);
}
