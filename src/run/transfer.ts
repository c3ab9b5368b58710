import { checkTransferPair, transferFrom } from '../../attacks/transfer.js';
import { evaluate, type EvaluateOptions } from '../harness/evaluate.js';
import type { Proportion, Report, TransferFigures } from '../harness/report-types.js';
import { formatEps } from '../number-format.js';
import type { Attack, Classifier, Dataset } from '../types.js';
import { loadClassifier } from './model-options.js';

/** A transfer run's source: the model the attacks are crafted on, and the attacks as run on it (white-box). */
export interface TransferSource {
  model: Classifier;
  /** The --source-model folder, as given. */
  name: string;
  /** The attacks unwrapped: run on the source itself they give its white-box figures. */
  attacks: Attack[];
}

/**
 * --source-model DIR: loads the source, refuses one whose shape, classes or box differ from the
 * target's (naming both) and returns the attacks crafted on it (judged on the target).
 */
export async function transferAttacks(sourceDir: string, target: Classifier, attacks: Attack[]): Promise<{ source: TransferSource; attacks: Attack[] }> {
  const model = await loadClassifier({ model: sourceDir });
  try {
    checkTransferPair(model, target, sourceDir);
  } catch (err) {
    model.dispose?.();
    throw err;
  }
  return { source: { model, name: sourceDir, attacks }, attacks: attacks.map((a) => transferFrom(a, model, sourceDir)) };
}

/**
 * The source's white-box figures for a transfer report: the same attacks, seeds, ε and examples,
 * run on the source itself (no probes: the sanity card is the target's).
 */
export async function sourceFigures(source: TransferSource, data: Dataset, epsilons: number[], options: EvaluateOptions): Promise<TransferFigures> {
  const { onProgress: _progress, runner: _runner, journal: _journal, ...rest } = options;
  const white = await evaluate(source.model, data, source.attacks, epsilons, { ...rest, probes: false });
  const pick = ({ correct, n, accuracy, interval }: Proportion): Proportion => ({ correct, n, accuracy, interval });
  return {
    sourceModel: source.name,
    clean: pick(white.clean),
    results: white.results.map((r) => ({ attack: r.attack, eps: r.eps, ...pick(r) })),
    worstCase: white.worstCase.map((w) => ({ eps: w.eps, ...pick(w) })),
  };
}

/** Lines for the terminal: source (white-box) beside target (transfer) accuracy. */
export function transferText(report: Report): string {
  const t = report.transfer;
  if (!t) return '';
  const pct = (p: Proportion) => `${(100 * p.accuracy).toFixed(1)}% [${(100 * p.interval[0]).toFixed(1)}, ${(100 * p.interval[1]).toFixed(1)}]`;
  const lines = [`transfer from ${t.sourceModel} (source = white-box, target = transfer):`, `  clean                 source ${pct(t.clean)}   target ${pct(report.clean)}`];
  for (const r of t.results) {
    const target = report.results.find((x) => x.attack === r.attack && x.eps === r.eps);
    lines.push(`  ${`${r.attack} ε=${formatEps(r.eps)}`.padEnd(22)}source ${pct(r)}   target ${target ? pct(target) : '—'}`);
  }
  return lines.join('\n') + '\n';
}
