import type { BackendInfo } from '../backend/select.js';

export const REPORT_FORMAT = 'advtest-report/1';

/** An accuracy with what it rests on. */
export interface Proportion {
  correct: number;
  n: number;
  accuracy: number;
  /** 95% Wilson interval. */
  interval: [number, number];
}

export interface AttackDescription {
  name: string;
  norm: string;
  kind?: 'single-step' | 'iterative' | 'black-box';
  config: Record<string, unknown>;
}

export interface AttackResult extends Proportion {
  attack: string;
  norm: string;
  eps: number;
  /** The same accuracy after rounding every adversarial image to 8 bits (what a PNG holds). */
  quantized: Proportion;
  /** Untargeted: clean-correct examples now misclassified; targeted: examples now predicted as their target. */
  success: { count: number; of: number; rate: number };
  /** Examples this attack ran on (clean-correct ones; in sequential mode, those still standing). */
  attacked: number;
  /** Over the examples attacked. */
  perturbation: { meanLinf: number; maxLinf: number; meanL2: number; maxL2: number };
  costs: { gradients: number; queries: number };
}

export interface WorstCase extends Proportion {
  eps: number;
  quantized: Proportion;
}

/** Accuracy against ε for one attack (or 'worst case'), and the area under it. */
export interface RobustnessCurve {
  attack: string;
  points: { eps: number; accuracy: number; interval: [number, number] }[];
  /** Trapezoidal area under accuracy(ε) divided by the ε range: 1 = never fooled. */
  normalizedArea: number;
}

/** One check of the sanity report card (after Carlini et al. 2019 and AutoAttack's flags). */
export interface SanityCheck {
  id: string;
  /** false = something looks wrong with the evaluation (a flag). */
  ok: boolean;
  message: string;
  /** What to try next when the flag is raised. */
  advice?: string;
}

/** See harness/sanity.ts ModelProbe. */
export interface ModelProbeRecord {
  n: number;
  zeroGradients: number;
  nonFiniteGradients: number;
  repeatDifference: number;
  unbounded?: { attack: string; eps: number; accuracy: number; n: number };
  numClasses: number;
  gradientUnavailable?: string;
}

/** One (attack, ε) over the examples: predictions (float and 8-bit) and perturbation norms. */
export interface ExampleCell {
  attack: string;
  eps: number;
  predictions: number[];
  quantizedPredictions: number[];
  linf: number[];
  l2: number[];
  attacked: number[];
}

/** Per-example results, stored compactly so that later tools can recompute anything. */
export interface ExampleResults {
  ids: string[];
  labels: number[];
  /** Target labels of a targeted evaluation. */
  targets?: number[];
  cleanPredictions: number[];
  /** Per (attack, ε), attack-major; `attacked` is 1 where the attack ran on the example. */
  results: ExampleCell[];
  /** Smallest ε at which the example was no longer robust under the worst case; null if never. */
  fellAt: (number | null)[];
}

export interface Report {
  format: typeof REPORT_FORMAT;
  tool: { name: 'advtest'; version: string };
  versions: { node: string; tfjs: string };
  backend: Omit<BackendInfo, 'requested'>;
  seed: number;
  /** sha256 of the canonical JSON of `config`. */
  configHash: string;
  config: {
    attacks: AttackDescription[];
    epsilons: number[];
    batchSize: number;
    target: string;
    mode: 'independent' | 'sequential';
  };
  model: Record<string, unknown>;
  data: {
    name: string;
    split: string;
    size: number;
    shape: number[];
    /** Of the whole evaluated set, also in a shard's report. */
    fingerprint: string;
    subset?: string;
    /** Present in a shard's report: which part of the set it holds (examples [from, to)). */
    shard?: { index: number; count: number; from: number; to: number; total: number };
  };
  clean: Proportion;
  results: AttackResult[];
  worstCase: WorstCase[];
  /** Per attack and for the worst case; present when there are at least two ε values. */
  curves?: RobustnessCurve[];
  sanity?: SanityCheck[];
  /** What the model probes measured (kept so that shards can be merged into the same card). */
  probe?: ModelProbeRecord;
  examples: ExampleResults;
  /** Kept apart so that two runs with the same seed differ only here. */
  timings: { totalSeconds: number; results: { attack: string; eps: number; seconds: number }[]; createdAt: string };
}
