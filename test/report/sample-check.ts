import type { Report } from '../../src/harness/report-types.js';
import { wilsonInterval } from '../../src/harness/stats.js';
import type { Baseline } from '../../src/regression/baseline-file.js';
import { sampleReport } from './sample-report.js';
import { perClassFigures } from '../../src/report/breakdown.js';
import { classDeltas } from '../../src/report/class-deltas.js';

const proportion = (correct: number, n: number) => ({ correct, n, accuracy: correct / n, interval: wilsonInterval(correct, n) as [number, number] });

/** A baseline holding the figures of `report` (only what the check page reads). */
export function baselineOf(report: Report): Baseline {
  const fig = <T extends { correct: number; n: number; accuracy: number; interval: [number, number] }>(p: T) => ({ correct: p.correct, n: p.n, accuracy: p.accuracy, interval: p.interval, bits: '' });
  return {
    evaluation: { attacks: report.config.attacks, mode: report.config.mode, epsilons: report.config.epsilons },
    figures: {
      clean: fig(report.clean),
      results: report.results.map((r) => ({ ...fig(r), attack: r.attack, norm: r.norm, eps: r.eps })),
      worstCase: report.worstCase.map((w) => ({ ...fig(w), eps: w.eps })),
    },
  } as unknown as Baseline;
}

/** A check of `after` against a baseline whose PGD at ε = 0.3 held 4 of 6 (the re-run: 1 of 6). */
export function sampleCheck(beforeSanity: Baseline['sanity'] | null = [{ id: 'monotone:fgsm', ok: false, message: 'fgsm: accuracy rises with ε', advice: 'check the gradients' }, { id: 'unbounded', ok: true, message: 'pgd reaches 0%' }]) {
  const report = sampleReport();
  const baseline = baselineOf(report);
  baseline.figures.results.find((r) => r.attack === 'pgd' && r.eps === 0.3)!.accuracy = 4 / 6;
  Object.assign(baseline.figures.results.find((r) => r.attack === 'pgd' && r.eps === 0.3)!, proportion(4, 6));
  Object.assign(baseline.figures.worstCase.find((w) => w.eps === 0.3)!, proportion(3, 6));
  // Per class, as the baseline stores them: at ε = 0.3 PGD held classes 0, 1, 3 and 4 (the re-run: 4
  // only), the worst case 0, 3 and 4 (the re-run: 4 only); every other figure as the re-run's.
  baseline.perClass = perClassFigures(report).map(({ attack, eps, n, robust }) => ({ attack, eps, n, robust }));
  baseline.perClass.find((c) => c.attack === 'pgd' && c.eps === 0.3)!.robust = [1, 1, 0, 1, 1, 0];
  baseline.perClass.find((c) => c.attack === 'worst case' && c.eps === 0.3)!.robust = [1, 0, 0, 1, 1, 0];
  return {
    baselinePath: 'robustness.json',
    model: 'models/tiny',
    passed: true,
    options: { tolerance: 0.01, alpha: 0.05, test: 'paired' as const },
    figures: [],
    baseline,
    report,
    sanity: { ...(beforeSanity ? { before: beforeSanity } : {}), after: report.sanity! },
    classDeltas: classDeltas('after', baseline.perClass, perClassFigures(report)),
  };
}
