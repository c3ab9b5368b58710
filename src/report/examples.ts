import type { Report } from '../harness/report.js';

/** An example picked for the image grid, and the attack and ε whose image it will show. */
export interface ChosenExample {
  /** Position in the report's per-example results. */
  position: number;
  id: string;
  label: number;
  /** The class a targeted attack aimed at. */
  target?: number;
  cleanPrediction: number;
  attack: string;
  eps: number;
  /** Smallest ε at which it was fooled (worst case over attacks); null: it held at every ε. */
  fellAt: number | null;
  /** The adversarial prediction the report recorded for this attack and ε. */
  recordedPrediction: number;
}

function resultAt(report: Report, attack: string, eps: number) {
  return report.examples.results.find((r) => r.attack === attack && r.eps === eps);
}

/**
 * Up to `count` clean-correct examples: those fooled at the smallest ε first (ties in dataset
 * order), each shown under the first attack, in suite order, that fooled it there — in a
 * sequential suite that is the attack that actually produced its image. If fewer were fooled,
 * the rest are examples that held, shown at the largest ε under the strongest attack.
 */
export function chooseExamples(report: Report, count: number): ChosenExample[] {
  const ex = report.examples;
  const attacks = report.config.attacks.map((a) => a.name);
  const epsilons = [...report.config.epsilons].sort((a, b) => a - b);
  const positions = ex.ids.map((_, i) => i).filter((i) => ex.cleanPredictions[i] === ex.labels[i]);
  const fallen = positions
    .filter((i) => ex.fellAt[i] !== null && ex.fellAt[i] !== undefined)
    .sort((a, b) => ex.fellAt[a]! - ex.fellAt[b]! || a - b);
  const chosen: ChosenExample[] = [];
  const base = (i: number) => ({
    position: i,
    id: ex.ids[i]!,
    label: ex.labels[i]!,
    ...(ex.targets ? { target: ex.targets[i]! } : {}),
    cleanPrediction: ex.cleanPredictions[i]!,
  });
  for (const i of fallen) {
    if (chosen.length >= count) break;
    const eps = ex.fellAt[i]!;
    const attack = attacks.find((a) => {
      const r = resultAt(report, a, eps);
      return r !== undefined && r.predictions[i] !== ex.labels[i];
    });
    const r = attack === undefined ? undefined : resultAt(report, attack, eps);
    if (attack === undefined || r === undefined) continue;
    chosen.push({ ...base(i), attack, eps, fellAt: eps, recordedPrediction: r.predictions[i]! });
  }
  const largest = epsilons.at(-1);
  if (chosen.length < count && largest !== undefined && largest > 0) {
    const strongest = report.results.filter((r) => r.eps === largest).sort((a, b) => a.accuracy - b.accuracy)[0];
    const r = strongest && resultAt(report, strongest.attack, largest);
    if (strongest && r) {
      for (const i of positions.filter((p) => ex.fellAt[p] === null).slice(0, count - chosen.length)) {
        chosen.push({ ...base(i), attack: strongest.attack, eps: largest, fellAt: null, recordedPrediction: r.predictions[i]! });
      }
    }
  }
  return chosen;
}
