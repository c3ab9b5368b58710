import type { Report } from '../harness/report-types.js';
import type { GridFilter } from './grid-filter.js';

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
  /** Whether the image shown fooled the model (false: the example held under this attack and ε). */
  fooled: boolean;
  /** The adversarial prediction the report recorded for this attack and ε. */
  recordedPrediction: number;
}

function resultAt(report: Report, attack: string, eps: number) {
  return report.examples.results.find((r) => r.attack === attack && r.eps === eps);
}

/**
 * Up to `count` clean-correct examples, fooled ones first: those fooled at the smallest ε first
 * (ties in dataset order), each shown under the first attack, in suite order, that fooled it there
 * — in a sequential suite that is the attack that actually produced its image (the one that ran on
 * it). A quarter of the places (when there are such examples) go to examples that held, shown at
 * the largest ε under the strongest attack; places left over go to more fooled ones.
 *
 * `filter` narrows the choice: an attack (its images only), an ε (images at that ε), fooled or
 * held only, true classes.
 */
export function chooseExamples(report: Report, count: number, filter: GridFilter = {}): ChosenExample[] {
  const ex = report.examples;
  const attacks = report.config.attacks.map((a) => a.name).filter((a) => filter.attack === undefined || a === filter.attack);
  const epsilons = [...report.config.epsilons].sort((a, b) => a - b).filter((e) => filter.eps === undefined || e === filter.eps);
  const classes = filter.classes === undefined ? undefined : new Set(filter.classes);
  const positions = ex.ids.map((_, i) => i).filter((i) => ex.cleanPredictions[i] === ex.labels[i] && (classes === undefined || classes.has(ex.labels[i]!)));
  const base = (i: number) => ({
    position: i,
    id: ex.ids[i]!,
    label: ex.labels[i]!,
    ...(ex.targets ? { target: ex.targets[i]! } : {}),
    cleanPrediction: ex.cleanPredictions[i]!,
    fellAt: ex.fellAt[i] ?? null,
  });

  // Fooled: at the smallest allowed ε where an allowed attack that ran on the example fooled it.
  const fooled: ChosenExample[] = [];
  if (filter.fate !== 'robust') {
    for (const i of positions) {
      let pick: ChosenExample | undefined;
      for (const eps of epsilons) {
        for (const attack of attacks) {
          const r = resultAt(report, attack, eps);
          if (r && r.attacked[i] === 1 && r.predictions[i] !== ex.labels[i]) {
            pick = { ...base(i), attack, eps, fooled: true, recordedPrediction: r.predictions[i]! };
            break;
          }
        }
        if (pick) break;
      }
      if (pick) fooled.push(pick);
    }
    fooled.sort((a, b) => a.eps - b.eps || a.position - b.position);
  }

  // Held: correct under every allowed attack at every allowed ε, shown at the largest ε under the
  // attack with the lowest accuracy there (with no filter: exactly the examples with fellAt null).
  const held: ChosenExample[] = [];
  const largest = epsilons.at(-1);
  if (filter.fate !== 'fooled' && largest !== undefined && largest > 0) {
    const cells = ex.results.filter((r) => attacks.includes(r.attack) && epsilons.includes(r.eps));
    const strongest = report.results.filter((r) => r.eps === largest && attacks.includes(r.attack)).sort((a, b) => a.accuracy - b.accuracy)[0];
    const shown = strongest && resultAt(report, strongest.attack, largest);
    if (shown) {
      for (const i of positions) {
        if (cells.every((c) => c.predictions[i] === ex.labels[i])) held.push({ ...base(i), attack: shown.attack, eps: largest, fooled: false, recordedPrediction: shown.predictions[i]! });
      }
    }
  }

  if (filter.fate === 'fooled') return fooled.slice(0, count);
  if (filter.fate === 'robust') return held.slice(0, count);
  const heldPlaces = Math.min(held.length, Math.floor(count / 4));
  const first = fooled.slice(0, count - heldPlaces);
  const rest = held.slice(0, count - first.length);
  return [...first, ...rest, ...fooled.slice(first.length, first.length + count - first.length - rest.length)];
}
