import * as tf from '@tensorflow/tfjs';
import { softmaxTop, type Predictions } from '../harness/adversarial-batch.js';
import { cellSeed } from '../harness/evaluate-batch.js';
import type { Report } from '../harness/report-types.js';
import { runAttack } from '../../attacks/run-attack.js';
import { scoresOf } from '../model/scores.js';
import type { Attack, Classifier, Dataset, ImageShape } from '../types.js';
import type { ChosenExample } from './choose-examples.js';
import { rebuildAttack } from './rebuild-attack.js';

/** A chosen example with its clean and adversarial images and what the model said about each. */
export interface ExampleImage extends ChosenExample {
  shape: ImageShape;
  /** h·w·c values scaled to [0, 1] (from the model's input bounds). */
  clean: Float32Array;
  adversarial: Float32Array;
  cleanConfidence: number;
  adversarialPrediction: number;
  adversarialConfidence: number;
  /** The regenerated image gets the prediction the report recorded (false: it differs, say so). */
  reproduced: boolean;
}

export interface RegenerateOptions {
  /** Attacks to use instead of rebuilding them from the report (the evaluation's own objects). */
  attacks?: Attack[];
  /** Called once per (attack, ε) group before and after it runs. */
  onPhase?: (phase: { attack: string; eps: number; examples: number; done: boolean }) => void;
}

/**
 * Re-runs each chosen example's attack on that example alone. Attacks draw their randomness per
 * example from (cell seed, index in the evaluated set), so the image is the one the evaluation
 * judged; `reproduced` records whether the model's prediction on it matches the report.
 * `data` is the evaluated set (after any subset), in the report's example order.
 */
export async function regenerateExamples(model: Classifier, data: Dataset, report: Report, chosen: ChosenExample[], options: RegenerateOptions = {}): Promise<ExampleImage[]> {
  const [h, w, c] = data.shape;
  const pixels = h * w * c;
  const offset = report.data.shard?.from ?? 0;
  const targeted = report.examples.targets !== undefined;
  const { lower, upper } = model.bounds;
  const toUnit = (v: Float32Array) => v.map((p) => (p - lower) / (upper - lower));
  const confidence = (p: Predictions, j: number): number => p.probs[j * model.numClasses + p.prediction[j]!]!;
  const attacks = new Map<string, Attack>((options.attacks ?? report.config.attacks.map((d) => rebuildAttack(d))).map((a) => [a.name, a]));
  const groups = new Map<string, ChosenExample[]>();
  for (const ex of chosen) {
    const key = `${ex.attack}\u0000${ex.eps}`;
    groups.set(key, [...(groups.get(key) ?? []), ex]);
  }
  const out = new Map<ChosenExample, ExampleImage>();
  for (const group of groups.values()) {
    const { attack: name, eps } = group[0]!;
    const attack = attacks.get(name);
    if (!attack) throw new Error(`attack ${name} of the chosen examples is not among the report's attacks`);
    options.onPhase?.({ attack: name, eps, examples: group.length, done: false });
    const indices = Int32Array.from(group, (ex) => offset + ex.position);
    const images = new Float32Array(group.length * pixels);
    indices.forEach((k, j) => images.set(data.images.subarray(k * pixels, (k + 1) * pixels), j * pixels));
    const x = tf.tensor4d(images, [group.length, h, w, c]);
    const labels = tf.tensor1d(Int32Array.from(group, (ex) => (targeted ? ex.target! : ex.label)), 'int32');
    try {
      const { adv } = await runAttack(model, attack, x, { labels, targeted }, eps, cellSeed(report.seed, attack, eps), indices);
      const advPixels = (await adv.data()) as Float32Array;
      const cleanScores = await scoresOf(model, x);
      const advScores = await scoresOf(model, adv);
      const before = softmaxTop(cleanScores);
      const after = softmaxTop(advScores);
      tf.dispose([adv, cleanScores, advScores]);
      group.forEach((ex, j) => {
        const adversarialPrediction = after.prediction[j]!;
        out.set(ex, {
          ...ex,
          shape: [h, w, c],
          clean: toUnit(images.subarray(j * pixels, (j + 1) * pixels)),
          adversarial: toUnit(advPixels.subarray(j * pixels, (j + 1) * pixels)),
          cleanConfidence: confidence(before, j),
          adversarialPrediction,
          adversarialConfidence: confidence(after, j),
          reproduced: adversarialPrediction === ex.recordedPrediction && before.prediction[j] === ex.cleanPrediction,
        });
      });
    } finally {
      tf.dispose([x, labels]);
    }
    options.onPhase?.({ attack: name, eps, examples: group.length, done: true });
  }
  return chosen.map((ex) => out.get(ex)!);
}
