import { createHash } from 'node:crypto';
import stableStringify from 'fast-json-stable-stringify';
import type { BackendInfo } from '../backend/select.js';
import { toolVersion } from '../package-info.js';
import type { AttackKind } from '../types.js';
import { robustnessCurves } from './curves.js';
import type { CellRecord } from './journal.js';
import { REPORT_FORMAT, type AttackDescription, type AttackResult, type ExampleCell, type ExampleResults, type ExampleTrace, type ModelProbeRecord, type Proportion, type Report, type WorstCase } from './report-types.js';
import { minimalSummary } from './minimal.js';
import { sanityChecks } from './sanity.js';
import { round6, wilsonInterval } from './stats.js';
import { confusionCounts, perClassFigures } from '../report/breakdown.js';
import { convergenceCheck, convergenceTrace } from '../report/convergence.js';
import { currentInvocation } from '../report/invocation.js';
import { marginHistograms } from '../report/margins.js';

/** Everything measured for one (attack, ε), per example, over the evaluated examples. */
export interface CellData extends CellRecord {
  attack: string;
  eps: number;
}

export interface AssembleInput {
  model: Record<string, unknown>;
  data: Omit<Report['data'], 'size'> & { ids: string[]; labels: number[] };
  attacks: AttackDescription[];
  epsilons: number[];
  seed: number;
  target: string;
  mode: 'independent' | 'sequential';
  batchSize: number;
  /** Attack-major: all ε of the first attack, then the next. */
  cells: CellData[];
  cleanPredictions: number[];
  /** Per example on the clean image (absent: margins not recorded, e.g. an older journal). */
  cleanMargin?: number[];
  cleanConfidence?: number[];
  targets?: number[];
  backend: Omit<BackendInfo, 'requested'>;
  probe?: ModelProbeRecord;
  totalSeconds: number;
  /** Batches computed side by side (worker threads); 1 when absent. */
  concurrency?: number;
}

/** A cell's margins with the examples it did not attack given their clean values (as their predictions are). */
function cellMargins(c: CellData, input: AssembleInput): Pick<ExampleCell, 'margin' | 'confidence'> {
  if (!c.margin || !c.confidence || !input.cleanMargin || !input.cleanConfidence) return {};
  return { margin: c.margin.map((m, i) => m ?? input.cleanMargin![i]!), confidence: c.confidence.map((m, i) => m ?? input.cleanConfidence![i]!) };
}

export function proportion(correct: number, n: number): Proportion {
  const [lo, hi] = wilsonInterval(correct, n);
  return { correct, n, accuracy: n === 0 ? 0 : round6(correct / n), interval: [round6(lo), round6(hi)] };
}

function mean(xs: number[]): number {
  return xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length;
}

function perturbation(cell: CellData): AttackResult['perturbation'] {
  const linf = cell.linf.filter((_, i) => cell.attacked[i]);
  const l2 = cell.l2.filter((_, i) => cell.attacked[i]);
  return {
    meanLinf: round6(mean(linf)),
    maxLinf: round6(linf.reduce((a, b) => Math.max(a, b), 0)),
    meanL2: round6(mean(l2)),
    maxL2: round6(l2.reduce((a, b) => Math.max(a, b), 0)),
  };
}

/** The configuration that identifies an evaluation; its hash goes into the report. */
export function evaluationConfig(input: Pick<AssembleInput, 'attacks' | 'epsilons' | 'batchSize' | 'target' | 'mode'>): Report['config'] {
  return {
    attacks: input.attacks.map((a) => ({ name: a.name, norm: a.norm, ...(a.kind ? { kind: a.kind } : {}), config: a.config, ...(a.minimal ? { minimal: true } : {}) })),
    epsilons: input.epsilons,
    batchSize: input.batchSize,
    target: input.target,
    mode: input.mode,
  };
}

export function configHash(config: Report['config']): string {
  return createHash('sha256').update(stableStringify(config)).digest('hex');
}

/**
 * Builds a Report from per-example results — the single place where figures are computed, from a
 * run, a resumed run or merged shards alike. An example is robust only if it was correct clean and
 * stays correct; the worst case per ε requires surviving every attack, per example.
 */
export function assemble(input: AssembleInput): Report {
  const { data, cells, cleanPredictions, epsilons } = input;
  const targets = input.targets ?? [];
  const labels = data.labels;
  const n = labels.length;
  const cleanCorrect = labels.map((y, i) => cleanPredictions[i] === y);
  const targeted = input.target !== 'untargeted';
  const robust = (preds: number[]) => preds.map((p, i) => cleanCorrect[i]! && p === labels[i]);
  const count = (xs: boolean[]) => xs.filter(Boolean).length;
  const attackedCount = count(cleanCorrect);
  const norms = new Map(input.attacks.map((a) => [a.name, a.norm]));

  // Sequential rows are cumulative. In float they are by construction (a fallen example is not
  // attacked again and keeps the image that broke it); in 8 bits an example may survive an
  // earlier attack in float but not its 8-bit image, so the row takes the per-example worst case
  // of the attacks so far — the last row then equals the worst case, as its footnote says.
  const aliveQSoFar = new Map<number, boolean[]>();
  const quantizedRobust = (cell: CellData): boolean[] => {
    const own = robust(cell.quantizedPredictions);
    if (input.mode !== 'sequential') return own;
    const so = aliveQSoFar.get(cell.eps)?.map((ok, i) => ok && own[i]!) ?? own;
    aliveQSoFar.set(cell.eps, so);
    return so;
  };

  const results: AttackResult[] = cells.map((cell) => {
    const successes = targeted
      ? cell.predictions.filter((p, i) => cleanCorrect[i] && p === targets[i]).length
      : cell.predictions.filter((p, i) => cleanCorrect[i] && p !== labels[i]).length;
    return {
      attack: cell.attack,
      norm: norms.get(cell.attack) ?? 'linf',
      eps: cell.eps,
      ...proportion(count(robust(cell.predictions)), n),
      quantized: proportion(count(quantizedRobust(cell)), n),
      success: { count: successes, of: attackedCount, rate: attackedCount === 0 ? 0 : round6(successes / attackedCount) },
      attacked: cell.attacked.filter(Boolean).length,
      perturbation: perturbation(cell),
      costs: { gradients: cell.gradients, queries: cell.queries },
    };
  });

  const survivors = epsilons.map((eps) => {
    const atEps = cells.filter((c) => c.eps === eps);
    const alive = cleanCorrect.map((ok, i) => ok && atEps.every((c) => c.predictions[i] === labels[i]));
    const aliveQ = cleanCorrect.map((ok, i) => ok && atEps.every((c) => c.quantizedPredictions[i] === labels[i]));
    return { eps, alive, aliveQ };
  });
  const worstCase: WorstCase[] = survivors.map(({ eps, alive, aliveQ }) => ({ eps, ...proportion(count(alive), n), quantized: proportion(count(aliveQ), n) }));
  const byEps = [...survivors].sort((a, b) => a.eps - b.eps);
  const fellAt = cleanCorrect.map((ok, i) => (ok ? (byEps.find((s) => !s.alive[i])?.eps ?? null) : 0));

  const examples: ExampleResults = {
    ids: data.ids,
    labels,
    cleanPredictions,
    results: cells.map((c) => ({ attack: c.attack, eps: c.eps, predictions: c.predictions, quantizedPredictions: c.quantizedPredictions, linf: c.linf, l2: c.l2, attacked: c.attacked, ...cellMargins(c, input) })),
    fellAt,
  };
  if (input.cleanMargin && input.cleanConfidence && cells.every((c) => c.margin && c.confidence)) {
    examples.cleanMargin = input.cleanMargin;
    examples.cleanConfidence = input.cleanConfidence;
  } else {
    for (const r of examples.results) {
      delete r.margin;
      delete r.confidence;
    }
  }
  if (targeted) examples.targets = targets;
  // A minimal attack's distances are the same in each of its cells: one run per batch.
  const minimalCells = input.attacks.flatMap((a) => {
    const cell = cells.find((c) => c.attack === a.name && c.minimal);
    return cell?.minimal ? [{ attack: a.name, norm: a.norm, distances: cell.minimal }] : [];
  });
  if (minimalCells.length > 0) examples.minimal = minimalCells;
  const minimalPerturbation = minimalCells.map((m) => ({ attack: m.attack, norm: m.norm, ...minimalSummary(m.distances, cleanCorrect) }));

  const config = evaluationConfig(input);
  const kinds = new Map<string, AttackKind | undefined>(input.attacks.map((a) => [a.name, a.kind]));
  const gradientAttacks = input.attacks.filter((a) => a.kind !== 'black-box');
  const curves = robustnessCurves(results, worstCase);
  const breakdownSource = { examples, config };
  const convergence = cells.flatMap((c) => (c.convergence ? [convergenceTrace(c.attack, c.eps, c.convergence)] : []));
  const converged = convergenceCheck(convergence);
  const from = input.data.shard?.from ?? 0;
  const traces: ExampleTrace[] = cells.flatMap((c) =>
    (c.traces ?? []).sort((a, b) => a.index - b.index).map((t) => ({ attack: c.attack, eps: c.eps, index: t.index, id: data.ids[t.index - from] ?? String(t.index), loss: t.loss, margin: t.margin, ...(t.truncated ? { truncated: true as const } : {}) })),
  );
  const { ids: _ids, labels: _labels, ...dataInfo } = data;
  return {
    format: REPORT_FORMAT,
    tool: { name: 'advtest', version: toolVersion() },
    versions: { node: process.versions.node, tfjs: input.backend.tfjsVersion },
    backend: input.backend,
    seed: input.seed,
    configHash: configHash(config),
    config,
    model: input.model,
    data: { ...dataInfo, size: n },
    clean: proportion(count(cleanCorrect), n),
    results,
    worstCase,
    ...(curves.length > 0 ? { curves } : {}),
    sanity: sanityChecks(results, kinds, input.mode, input.probe, {
      // Every gradient attack must be adaptive for a flag to count as answered.
      bpda: gradientAttacks.length > 0 && gradientAttacks.every((a) => a.config.bpda !== undefined),
      eot: gradientAttacks.length > 0 && gradientAttacks.every((a) => a.config.eotSamples !== undefined),
    }, typeof input.model.inputTransform === 'string'
      ? { transform: input.model.inputTransform, nonAdaptive: gradientAttacks.filter((a) => a.config.bpda === undefined && a.config.eotSamples === undefined).map((a) => a.name) }
      : undefined).concat(converged ? [converged] : []),
    ...(input.probe ? { probe: input.probe } : {}),
    examples,
    perClass: perClassFigures(breakdownSource, input.probe?.numClasses),
    confusion: confusionCounts(breakdownSource),
    ...(convergence.length > 0 ? { convergence } : {}),
    ...(examples.cleanMargin ? { margins: marginHistograms(examples) } : {}),
    ...(traces.length > 0 ? { traces } : {}),
    ...(minimalPerturbation.length > 0 ? { minimalPerturbation } : {}),
    timings: {
      totalSeconds: round6(input.totalSeconds),
      results: cells.map((c) => ({ attack: c.attack, eps: c.eps, seconds: round6(c.seconds) })),
      ...((input.concurrency ?? 1) > 1 ? { concurrency: input.concurrency } : {}),
      createdAt: new Date().toISOString(),
      invocation: currentInvocation(),
    },
  };
}
