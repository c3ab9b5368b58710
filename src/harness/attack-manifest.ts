import { decodeImage, encodePng, type DecodeRecord } from '../data/image-codec.js';
import type { Classifier } from '../types.js';
import { predictPixels, type Predictions, type StartedBatch } from './adversarial-batch.js';
import { round6 } from './stats.js';

// The encode step of attackImages: each adversarial image as a lossless 8-bit PNG, decoded again,
// and the manifest's account of it measured on that file, not on the tensor.

/** One class with its softmax probability. */
export interface RankedClass {
  class: number;
  /** The model's name for it, when the model has class names. */
  name?: string;
  probability: number;
}

export interface ManifestPrediction {
  prediction: number;
  name?: string;
  confidence: number;
  /** The top min(5, classes) classes, most probable first. */
  top: RankedClass[];
}

export interface ManifestEntry {
  source: string;
  /** The PNG written, relative to the output folder; null when the image was not attacked. */
  output: string | null;
  eps: number;
  label: number;
  labelName?: string;
  labelSource: 'file name' | 'clean prediction';
  target?: number;
  targetName?: string;
  /**
   * fooled / resisted: the attack's outcome; misclassified: the model already got the labelled
   * image wrong, so it was not attacked (and does not count as a success).
   */
  status: 'fooled' | 'resisted' | 'misclassified';
  original: ManifestPrediction;
  /** Absent when not attacked. */
  adversarial?: ManifestPrediction;
  /** Untargeted: prediction differs from the label; targeted: prediction equals the target. */
  success: boolean;
  /** Measured between the decoded input and the 8-bit PNG written, decoded again (0 when not attacked). */
  linf: number;
  l2: number;
  /** How the source file was decoded: original size and format, resize, kernel, colour, alpha. */
  decoded?: DecodeRecord;
}

/** Per ε: how many images were attacked, how many the attack fooled, how many were wrong before. */
export interface ManifestSummary {
  eps: number;
  images: number;
  attacked: number;
  fooled: number;
  misclassified: number;
}

export interface AttackManifest {
  tool: { name: 'advtest'; version: string };
  backend: string;
  attack: { name: string; norm: string; config: Record<string, unknown> };
  epsilons: number[];
  target: string;
  seed: number;
  batchSize: number;
  model: Record<string, unknown>;
  summary: ManifestSummary[];
  images: ManifestEntry[];
}

/** Row i's prediction with its top-k classes (k = min(5, classes)) and names. */
function predictionOf(p: Predictions, i: number, k: number, names: readonly string[] | undefined): ManifestPrediction {
  const row = p.probs.subarray(i * k, (i + 1) * k);
  const order = Array.from(row.keys()).sort((a, b) => row[b]! - row[a]! || a - b).slice(0, Math.min(5, k));
  const named = (c: number): { name?: string } => (names?.[c] !== undefined ? { name: names[c] } : {});
  const prediction = p.prediction[i]!;
  return {
    prediction,
    ...named(prediction),
    confidence: round6(row[prediction]!),
    top: order.map((c) => ({ class: c, ...named(c), probability: round6(row[c]!) })),
  };
}

/**
 * Encodes the attacked rows of a batch (`adversarial`: their 8-bit pixels) as PNGs, hands each to
 * `write` at its path `relative(image index)`, and describes every image of the batch, in input
 * order, from the PNGs decoded again.
 */
export async function encodeBatch(model: Classifier, started: StartedBatch, adversarial: Float32Array, relative: (index: number) => string, write: (rel: string, png: Buffer) => Promise<void>): Promise<ManifestEntry[]> {
  const { eps, start, batch, clean, labels, targets, attacked } = started;
  const shape = model.inputShape;
  const pixels = shape[0] * shape[1] * shape[2];
  const k = model.numClasses;
  const names = model.classNames;
  const decoded = new Float32Array(attacked.length * pixels);
  for (const [j, row] of attacked.entries()) {
    const png = await encodePng(adversarial.subarray(j * pixels, (j + 1) * pixels), shape);
    await write(relative(start + row), png);
    decoded.set(await decodeImage(png, shape), j * pixels);
  }
  const after = attacked.length > 0 ? await predictPixels(model, decoded, attacked.length) : undefined;
  return batch.map((b, i): ManifestEntry => {
    const j = attacked.indexOf(i);
    const label = labels[i]!;
    const entry: ManifestEntry = {
      source: b.source,
      output: j >= 0 ? relative(start + i) : null,
      eps,
      label,
      ...(names?.[label] !== undefined ? { labelName: names[label] } : {}),
      labelSource: b.label !== undefined ? 'file name' : 'clean prediction',
      status: 'misclassified',
      original: predictionOf(clean, i, k, names),
      success: false,
      linf: 0,
      l2: 0,
    };
    if (targets) {
      entry.target = targets[i]!;
      if (names?.[targets[i]!] !== undefined) entry.targetName = names[targets[i]!];
    }
    if (j >= 0) {
      let linf = 0;
      let sq = 0;
      for (let v = 0; v < pixels; v++) {
        const d = decoded[j * pixels + v]! - b.pixels[v]!;
        linf = Math.max(linf, Math.abs(d));
        sq += d * d;
      }
      entry.adversarial = predictionOf(after!, j, k, names);
      const advPred = entry.adversarial.prediction;
      entry.success = targets ? advPred === targets[i] : advPred !== label;
      entry.status = entry.success ? 'fooled' : 'resisted';
      entry.linf = round6(linf);
      entry.l2 = round6(Math.sqrt(sq));
    }
    if (b.decoded) entry.decoded = b.decoded;
    return entry;
  });
}

/** The manifest's per-ε counts. */
export function manifestSummary(epsilons: number[], entries: ManifestEntry[]): ManifestSummary[] {
  return epsilons.map((eps) => {
    const at = entries.filter((e) => e.eps === eps);
    return {
      eps,
      images: at.length,
      attacked: at.filter((e) => e.status !== 'misclassified').length,
      fooled: at.filter((e) => e.status === 'fooled').length,
      misclassified: at.filter((e) => e.status === 'misclassified').length,
    };
  });
}
