import { IntegrityError } from '../errors.js';
import type { Proportion, Report } from '../harness/report-types.js';
import { perClassFigures } from '../report/breakdown.js';
import { countTrue, packBits } from './bits.js';
import { BASELINE_FORMAT, type Baseline, type BaselineClassCounts, type BaselineFigure, type EvaluationSpec } from './baseline-file.js';
import { evaluationHash } from './spec.js';

/**
 * Per-example bits of every figure of a report, in the order the baseline stores them, recomputed
 * from the report's predictions with the harness's rule: robust = correct clean and still correct
 * after the attack; worst case = robust under every attack at that ε. The counts must equal the
 * report's own, or the two rules have drifted apart.
 */
export function reportBits(report: Report) {
  const { labels, cleanPredictions, results } = report.examples;
  const clean = labels.map((y, i) => cleanPredictions[i] === y);
  const robust = (predictions: number[]) => predictions.map((p, i) => clean[i]! && p === labels[i]);
  const cells = results.map((r, k) => ({ attack: r.attack, norm: report.results[k]?.norm ?? '', eps: r.eps, bits: robust(r.predictions) }));
  const worstCase = report.config.epsilons.map((eps) => {
    const atEps = cells.filter((c) => c.eps === eps);
    return { eps, bits: clean.map((ok, i) => ok && atEps.every((c) => c.bits[i])) };
  });
  const mismatch = (what: string, bits: boolean[], p: Proportion | undefined) => {
    if (p === undefined || p.correct !== countTrue(bits) || p.n !== bits.length) {
      throw new IntegrityError(`${what}: per-example results give ${countTrue(bits)}/${bits.length}, the report says ${p?.correct}/${p?.n}`);
    }
  };
  mismatch('clean', clean, report.clean);
  cells.forEach((c, k) => mismatch(`${c.attack} ε=${c.eps}`, c.bits, report.results[k]));
  worstCase.forEach((w, k) => mismatch(`worst case ε=${w.eps}`, w.bits, report.worstCase[k]));
  return { clean, results: cells, worstCase };
}

function figure(p: Proportion, bits: boolean[]): BaselineFigure {
  return { correct: p.correct, n: p.n, accuracy: p.accuracy, interval: p.interval, bits: packBits(bits) };
}

/** The report's per-class figures (computed from its predictions when it holds none), as counts only. */
function classCounts(report: Report): BaselineClassCounts[] {
  return (report.perClass ?? perClassFigures(report)).map(({ attack, eps, n, robust }) => ({ attack, eps, n: [...n], robust: [...robust] }));
}

/** A baseline from a finished evaluation of `spec`; `modelPath` is already relative to the baseline. */
export function baselineFromReport(report: Report, spec: EvaluationSpec, modelPath: string): Baseline {
  const bits = reportBits(report);
  const { name, fastKernels, note } = report.backend;
  return {
    format: BASELINE_FORMAT,
    tool: report.tool,
    createdAt: report.timings.createdAt,
    versions: report.versions,
    backend: { name, fastKernels, ...(note ? { note } : {}) },
    model: { path: modelPath, info: report.model },
    evaluation: spec,
    configHash: evaluationHash(spec),
    data: report.data,
    figures: {
      clean: figure(report.clean, bits.clean),
      results: report.results.map((r, k) => ({ attack: r.attack, norm: r.norm, eps: r.eps, ...figure(r, bits.results[k]!.bits) })),
      worstCase: report.worstCase.map((w, k) => ({ eps: w.eps, ...figure(w, bits.worstCase[k]!.bits) })),
    },
    examples: { ids: report.examples.ids },
    ...(report.sanity !== undefined ? { sanity: report.sanity } : {}),
    perClass: classCounts(report),
  };
}
