import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import stableStringify from 'fast-json-stable-stringify';
import { backendInfo } from '../backend/select.js';
import { fingerprint } from '../data/dataset.js';
import { UserError } from '../errors.js';
import { toolVersion } from '../package-info.js';
import { deriveSeed } from '../tensor/random.js';
import type { Attack, Classifier, Dataset } from '../types.js';
import { quantize8 } from './finalize.js';
import { runAttack } from './run-attack.js';
import { REPORT_FORMAT, type AttackResult, type ExampleResults, type Proportion, type Report, type WorstCase } from './report.js';
import { round6, wilsonInterval } from './stats.js';
import { chooseTargets, describeTarget, type TargetSpec } from './targets.js';

export interface EvaluateProgress {
  done: number;
  total: number;
}

export interface EvaluateOptions {
  batchSize?: number;
  seed?: number;
  target?: TargetSpec;
  /** How the evaluated examples were chosen, when not the whole split (goes into the report). */
  subset?: string;
  onProgress?: (p: EvaluateProgress) => void;
}

/** Accumulates one (attack, ε) cell over batches. */
interface Cell {
  attack: Attack;
  eps: number;
  predictions: number[];
  quantizedPredictions: number[];
  linf: number[];
  l2: number[];
  gradients: number;
  queries: number;
  seconds: number;
}

function proportion(correct: number, n: number): Proportion {
  const [lo, hi] = wilsonInterval(correct, n);
  return { correct, n, accuracy: n === 0 ? 0 : round6(correct / n), interval: [round6(lo), round6(hi)] };
}

function checkCompatible(model: Classifier, data: Dataset): void {
  const [h, w, c] = model.inputShape;
  const [dh, dw, dc] = data.shape;
  if (h !== dh || w !== dw || c !== dc) {
    throw new UserError(`data "${data.name}" has images of ${dh}×${dw}×${dc} but the model takes ${h}×${w}×${c}: choose data of the model's input shape (folder: images are resized to the model's shape)`);
  }
  for (let i = 0; i < data.size; i++) {
    const y = data.labels[i]!;
    if (!(y >= 0 && y < model.numClasses)) {
      throw new UserError(`data "${data.name}" example ${data.ids[i] ?? i} has label ${y}, outside the model's 0..${model.numClasses - 1}: the data's classes do not match the model`);
    }
  }
}

function argmax(logits: tf.Tensor2D): Int32Array {
  return tf.tidy(() => tf.argMax(logits, 1).dataSync() as Int32Array);
}

function predict(model: Classifier, x: tf.Tensor4D): Int32Array {
  return tf.tidy(() => argmax(model.logits(x)));
}

/**
 * Evaluates a classifier clean and under each attack at each ε. The harness, not the attack,
 * projects and verifies every adversarial batch and re-predicts the final images; an example is
 * robust only if it was classified correctly clean and stays so (per attack, and for the
 * worst case across attacks, per example).
 */
export async function evaluate(model: Classifier, data: Dataset, attacks: Attack[], epsilons: number[], options: EvaluateOptions = {}): Promise<Report> {
  const started = Date.now();
  const batchSize = options.batchSize ?? 128;
  const seed = options.seed ?? 0;
  const target = options.target ?? 'untargeted';
  for (const eps of epsilons) {
    if (!(Number.isFinite(eps) && eps >= 0)) throw new UserError(`ε = ${eps} is not a non-negative number: give values like 0.1 or 8/255`);
  }
  checkCompatible(model, data);
  const backend = await backendInfo();
  const [h, w, c] = data.shape;
  const pixels = h * w * c;
  const cells: Cell[] = attacks.flatMap((attack) =>
    epsilons.map((eps) => ({ attack, eps, predictions: [], quantizedPredictions: [], linf: [], l2: [], gradients: 0, queries: 0, seconds: 0 })),
  );
  const cleanPredictions: number[] = [];
  const targets: number[] = [];

  for (let start = 0; start < data.size; start += batchSize) {
    const end = Math.min(start + batchSize, data.size);
    const n = end - start;
    const x = tf.tensor4d(data.images.subarray(start * pixels, end * pixels), [n, h, w, c]);
    const labels = data.labels.subarray(start, end);
    const cleanLogits = model.logits(x);
    cleanPredictions.push(...argmax(cleanLogits));
    let criterionLabels = labels;
    if (target !== 'untargeted') {
      criterionLabels = chooseTargets(target, cleanLogits, labels, start, seed);
      targets.push(...criterionLabels);
    }
    cleanLogits.dispose();
    const labelTensor = tf.tensor1d(criterionLabels, 'int32');
    const criterion = { labels: labelTensor, targeted: target !== 'untargeted' };
    cells.forEach((cell, k) => {
      const t0 = performance.now();
      const { adv, costs } = runAttack(model, cell.attack, x, criterion, cell.eps, deriveSeed(seed, start, k));
      cell.predictions.push(...predict(model, adv));
      const q = quantize8(adv, model.bounds);
      cell.quantizedPredictions.push(...predict(model, q));
      q.dispose();
      const [linf, l2] = tf.tidy(() => {
        const delta = tf.sub(adv, x);
        return [tf.max(tf.abs(delta), [1, 2, 3]).dataSync(), tf.sqrt(tf.sum(tf.square(delta), [1, 2, 3])).dataSync()];
      });
      adv.dispose();
      cell.linf.push(...Array.from(linf!, round6));
      cell.l2.push(...Array.from(l2!, round6));
      cell.gradients += costs.gradients;
      cell.queries += costs.queries;
      cell.seconds += (performance.now() - t0) / 1000;
    });
    labelTensor.dispose();
    x.dispose();
    options.onProgress?.({ done: end, total: data.size });
    // Let progress bars and signals through between batches.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  return assemble({ model, data, attacks, epsilons, seed, target, batchSize, cells, cleanPredictions, targets, backend, started, subset: options.subset });
}

interface AssembleInput {
  model: Classifier;
  data: Dataset;
  attacks: Attack[];
  epsilons: number[];
  seed: number;
  target: TargetSpec;
  batchSize: number;
  cells: Cell[];
  cleanPredictions: number[];
  targets: number[];
  backend: Awaited<ReturnType<typeof backendInfo>>;
  started: number;
  subset?: string;
}

function mean(xs: number[]): number {
  return xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length;
}

function assemble(input: AssembleInput): Report {
  const { data, cells, cleanPredictions, targets, epsilons } = input;
  const n = data.size;
  const labels = Array.from(data.labels);
  const cleanCorrect = labels.map((y, i) => cleanPredictions[i] === y);
  const targeted = input.target !== 'untargeted';
  const robust = (preds: number[]) => preds.map((p, i) => cleanCorrect[i]! && p === labels[i]);
  const count = (xs: boolean[]) => xs.filter(Boolean).length;

  const results: AttackResult[] = cells.map((cell) => {
    const ok = robust(cell.predictions);
    const okQ = robust(cell.quantizedPredictions);
    const successes = targeted
      ? cell.predictions.filter((p, i) => cleanCorrect[i] && p === targets[i]).length
      : cell.predictions.filter((p, i) => cleanCorrect[i] && p !== labels[i]).length;
    const attacked = count(cleanCorrect);
    return {
      attack: cell.attack.name,
      norm: cell.attack.norm.name,
      eps: cell.eps,
      ...proportion(count(ok), n),
      quantized: proportion(count(okQ), n),
      success: { count: successes, of: attacked, rate: attacked === 0 ? 0 : round6(successes / attacked) },
      perturbation: {
        meanLinf: round6(mean(cell.linf)),
        maxLinf: round6(Math.max(0, ...cell.linf)),
        meanL2: round6(mean(cell.l2)),
        maxL2: round6(Math.max(0, ...cell.l2)),
      },
      costs: { gradients: cell.gradients, queries: cell.queries },
    };
  });

  // Worst case per ε: robust only if the example survives every attack at that ε.
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
    ids: data.ids.slice(0, n),
    labels,
    cleanPredictions,
    results: cells.map((c) => ({ attack: c.attack.name, eps: c.eps, predictions: c.predictions, quantizedPredictions: c.quantizedPredictions, linf: c.linf, l2: c.l2 })),
    fellAt,
  };
  if (targeted) examples.targets = targets;

  const config = {
    attacks: input.attacks.map((a) => ({ name: a.name, norm: a.norm.name, config: a.config })),
    epsilons,
    batchSize: input.batchSize,
    target: describeTarget(input.target),
  };
  const { requested: _requested, ...backend } = input.backend;
  void _requested;
  return {
    format: REPORT_FORMAT,
    tool: { name: 'advtest', version: toolVersion() },
    versions: { node: process.versions.node, tfjs: input.backend.tfjsVersion },
    backend,
    seed: input.seed,
    configHash: createHash('sha256').update(stableStringify(config)).digest('hex'),
    config,
    model: input.model.describe?.() ?? {},
    data: {
      name: data.name,
      split: data.split,
      size: n,
      shape: [...data.shape],
      fingerprint: fingerprint(data),
      ...(input.subset ? { subset: input.subset } : {}),
    },
    clean: proportion(count(cleanCorrect), n),
    results,
    worstCase,
    examples,
    timings: {
      totalSeconds: round6((Date.now() - input.started) / 1000),
      results: cells.map((c) => ({ attack: c.attack.name, eps: c.eps, seconds: round6(c.seconds) })),
      createdAt: new Date().toISOString(),
    },
  };
}
