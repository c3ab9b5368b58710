import { UserError } from '../errors.js';
import type { Attack, Classifier, Dataset, FittedPerturbation } from '../types.js';
import type { Report, UniversalRecord } from './report-types.js';

/**
 * The fit phase of universal attacks (Attack.fit): before any batch, each such attack learns its
 * perturbation at every ε > 0 from `fitData` (the training split). Deterministic in the seed, so a
 * resumed or sharded run fits the same perturbation again.
 */
export interface FittedCell {
  attack: string;
  eps: number;
  fitted: FittedPerturbation;
  seconds: number;
}

export async function fitUniversal(model: Classifier, attacks: Attack[], epsilons: number[], seedOf: (attack: Attack, eps: number) => number, fitData?: Dataset): Promise<FittedCell[]> {
  const universal = attacks.filter((a) => a.fit);
  if (universal.length === 0) return [];
  if (!fitData) throw new UserError(`${universal[0]!.name} learns one perturbation from training examples: give it a fit set (evaluate's fitData; the CLI loads --fit-size N of the training split)`);
  const out: FittedCell[] = [];
  for (const attack of universal) {
    for (const eps of epsilons.filter((e) => e > 0)) {
      const t0 = performance.now();
      const fitted = await attack.fit!(model, fitData, eps, seedOf(attack, eps));
      out.push({ attack: attack.name, eps, fitted, seconds: (performance.now() - t0) / 1000 });
    }
  }
  return out;
}

/**
 * Adds each fit's costs to its (attack, ε) row of the report: the fit is most of what a universal
 * attack costs (its batches are one forward pass each), so a row without it would read 0.
 */
export function chargeFitCosts(cells: FittedCell[], report: Report): void {
  for (const cell of cells) {
    const row = report.results.find((r) => r.attack === cell.attack && r.eps === cell.eps);
    if (!row || !cell.fitted.costs) continue;
    row.costs.gradients += cell.fitted.costs.gradients;
    row.costs.queries += cell.fitted.costs.queries;
  }
}

/** The fitted image as display pixels in [0, 1]: a patch as it is, δ as grey 0.5 + δ/(2·max|δ|). */
function displayPixels(f: FittedPerturbation, bounds: { lower: number; upper: number }): number[] {
  if (f.kind === 'patch') return Array.from(f.pixels, (v) => (v - bounds.lower) / (bounds.upper - bounds.lower));
  const top = f.pixels.reduce((m, v) => Math.max(m, Math.abs(v)), 0) || 1;
  return Array.from(f.pixels, (v) => 0.5 + v / (2 * top));
}

/** The report's `universal` entries: each fitted image with its success rate on the evaluated examples. */
export function universalRecords(cells: FittedCell[], report: Report, bounds: { lower: number; upper: number }): UniversalRecord[] {
  return cells.map((cell) => {
      const result = report.results.find((r) => r.attack === cell.attack && r.eps === cell.eps);
      return {
        attack: cell.attack,
        eps: cell.eps,
        kind: cell.fitted.kind,
        shape: cell.fitted.shape,
        // Display pixels, not a PNG: encoding needs a codec (sharp/jimp) the harness must not
        // depend on (it runs in the browser too); the report writer embeds the PNG.
        pixels: displayPixels(cell.fitted, bounds),
        successRate: result?.success.rate ?? 0,
        details: cell.fitted.details,
      };
  });
}
