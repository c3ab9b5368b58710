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
  kind?: 'single-step' | 'iterative' | 'black-box' | 'universal';
  config: Record<string, unknown>;
  /** A minimal-perturbation attack: run once, every ε read off its per-example distances. */
  minimal?: boolean;
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

/**
 * A transfer run's source side: `results` of the report are the target's accuracy on examples
 * crafted on the source; these are the source's accuracy on the same attacks run on itself.
 */
export interface TransferFigures {
  sourceModel: string;
  clean: Proportion;
  results: (Proportion & { attack: string; eps: number })[];
  worstCase: (Proportion & { eps: number })[];
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
  /**
   * Per example on the image this cell judged: the logit margin of the true class (its logit minus
   * the largest other; > 0 = correct) and the top-1 softmax probability. Absent in older reports.
   */
  margin?: number[];
  confidence?: number[];
}

/** Per-example results, stored compactly so that later tools can recompute anything. */
export interface ExampleResults {
  ids: string[];
  labels: number[];
  /** Target labels of a targeted evaluation. */
  targets?: number[];
  cleanPredictions: number[];
  /** Per example on the clean image: true-class logit margin and top-1 probability (as in the cells). */
  cleanMargin?: number[];
  cleanConfidence?: number[];
  /** Per (attack, ε), attack-major; `attacked` is 1 where the attack ran on the example. */
  results: ExampleCell[];
  /** Smallest ε at which the example was no longer robust under the worst case; null if never. */
  fellAt: (number | null)[];
  /**
   * Per minimal attack: per example the distance (in its norm) of the smallest adversarial it
   * found and the harness verified; null where none was found or the example was not attacked.
   */
  minimal?: { attack: string; norm: string; distances: (number | null)[] }[];
}

/**
 * What one run of a minimal attack says about the distance to the decision boundary, over the
 * examples it attacked (clean-correct): the median counts an example with no adversarial found
 * as infinitely far (null when that is more than half); the mean is over those found.
 */
export interface MinimalPerturbation {
  attack: string;
  norm: string;
  found: number;
  of: number;
  median: number | null;
  mean: number | null;
}

/**
 * A universal attack's fitted perturbation (δ, shown as grey 0.5 + δ/(2·max|δ|)) or patch, as a
 * PNG enlarged with nearest neighbour, and how well it did: `successRate` on the evaluated
 * (test) examples, from this report's results; the fit facts (fit-set error rate) in `details`.
 */
export interface UniversalRecord {
  attack: string;
  eps: number;
  kind: 'patch' | 'perturbation';
  /** Of the perturbation or patch itself (h × w × c). */
  shape: [number, number, number];
  /** Display pixels in [0, 1] (h × w × c, row-major), until the report writer turns them into `image`. */
  pixels?: number[];
  /** The PNG as a data URL (self-contained report; set by embedUniversalImages in src/report/). */
  image?: string;
  /** The PNG written next to the report, relative to it (set by the command that wrote it). */
  file?: string;
  successRate: number;
  details: Record<string, unknown>;
}

/** Robust accuracy per true class for one attack and ε (attack 'worst case': over every attack). */
export interface PerClassFigures {
  attack: string;
  eps: number;
  /** Per class k (index = label): examples labelled k, those correct clean, those still correct. */
  n: number[];
  clean: number[];
  robust: number[];
}

/** Clean label → adversarial prediction counts for one attack and ε, sparse: [label, predicted, count]. */
export interface ConfusionCounts {
  attack: string;
  eps: number;
  counts: [number, number, number][];
}

/**
 * How an iterative attack progressed, summed over batches (its first run only; restarts attack
 * subsets): per iteration, the mean loss and the fraction of attacked examples still robust.
 */
export interface ConvergenceTrace {
  attack: string;
  eps: number;
  /** Examples attacked. */
  n: number;
  iterations: { iteration: number; meanLoss: number; robust: number }[];
  /**
   * The runs after the first (restarts, or APGD-T's further target ranks), each on the examples
   * still standing: `n` attacked, and per iteration the mean loss and the fraction of those `n`
   * not yet fooled. Absent when the attack ran once.
   */
  restarts?: { run: number; n: number; iterations: { iteration: number; meanLoss: number; robust: number }[] }[];
  /** The exact sums behind the figures (loss in integer millionths), per iteration, for merging shards. */
  sums?: { n: number; loss: number[]; robust: number[]; counted: number[]; restarts?: { n: number; loss: number[]; robust: number[]; counted: number[] }[] };
}

/** Counts of a quantity in fixed bins, on the clean images and on the adversarial ones. */
export interface CleanVsAdversarial {
  /** Bin edges, ascending: bin k is [edges[k], edges[k+1]) (the last one closed). */
  edges: number[];
  clean: number[];
  adversarial: number[];
  median: { clean: number; adversarial: number };
}

/**
 * Per attack and ε, over the examples correct clean: the distribution of the true-class logit
 * margin and of the top-1 probability before and after the attack (see report/margins.ts).
 */
export interface MarginHistograms {
  attack: string;
  eps: number;
  n: number;
  margin: CleanVsAdversarial;
  confidence: CleanVsAdversarial;
}

/**
 * One traced example (--trace) under one iterative attack and ε: its loss and margin (of the
 * attack's label: the true class, or the target) per iteration of the attack's first run; null
 * where not recorded (APGD records no margin). At most 1000 iterations (then `truncated`).
 */
export interface ExampleTrace {
  attack: string;
  eps: number;
  /** Position in the evaluated set (the whole run's, also in a shard's report). */
  index: number;
  id: string;
  loss: (number | null)[];
  margin: (number | null)[];
  truncated?: true;
}

/** How the run was started: the command line, or the library call. */
export interface Invocation {
  /** The exact argument list after `advtest`, e.g. ["eval", "--model", "m", "--eps", "0.1"]. */
  command?: string[];
  /** The library function when not run from the CLI. */
  api?: string;
  cwd?: string;
  platform?: string;
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
    /** What the reader should know about how the data was labelled (Dataset.notes). */
    notes?: string[];
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
  /** Per attack and ε (and the worst case): robust accuracy per true class. */
  perClass?: PerClassFigures[];
  /** Per attack and ε (and the worst case): clean label → adversarial prediction. */
  confusion?: ConfusionCounts[];
  /** Per minimal attack: median/mean smallest perturbation found (its curve is in `curves`). */
  minimalPerturbation?: MinimalPerturbation[];
  /** Per iterative attack and ε: loss and robust fraction per iteration. */
  convergence?: ConvergenceTrace[];
  /** Per attack and ε: logit-margin and confidence histograms, clean vs adversarial. */
  margins?: MarginHistograms[];
  /** Per traced example (--trace), iterative attack and ε: loss and margin per iteration. */
  traces?: ExampleTrace[];
  /** Per universal attack (uap, patch) and ε: the one perturbation or patch it fitted and applied. */
  universal?: UniversalRecord[];
  /** Transfer run (--source-model): the source model's own, white-box figures under the same attacks. */
  transfer?: TransferFigures;
  /** Kept apart so that two runs with the same seed differ only here. */
  timings: {
    totalSeconds: number;
    /** Per cell, the seconds of its batches summed: with batches computed side by side they add up to more than totalSeconds. */
    results: { attack: string; eps: number; seconds: number }[];
    /** How many batches were computed side by side (worker threads), when more than one. */
    concurrency?: number;
    createdAt: string;
    /** The command line or library call that produced the report (here: it differs between identical runs). */
    invocation?: Invocation;
  };
}
