import type * as tf from '@tensorflow/tfjs';

/** The box every input lives in (after the model's own preprocessing is undone). */
export interface Bounds {
  lower: number;
  upper: number;
}

/** Height, width, channels (NHWC without the batch). */
export type ImageShape = [height: number, width: number, channels: number];

/**
 * A differentiable model seen as a function from images to logits.
 * `logits` must not dispose its input and must be safe inside tf.grad.
 */
export interface Classifier {
  bounds: Bounds;
  inputShape: ImageShape;
  numClasses: number;
  logits(x: tf.Tensor4D): tf.Tensor2D;
  /**
   * Set when the model cannot be differentiated, saying why ("op StridedSlice has no gradient in
   * TF.js", "score-only model"): only score-based attacks apply.
   */
  gradientUnavailable?: string;
  /**
   * Scores for models that answer asynchronously (remote or score-only models). When present, the
   * harness and score-based attacks use it instead of logits.
   */
  query?(x: tf.Tensor4D): Promise<tf.Tensor2D>;
  /** Free whatever the classifier owns (weights of a loaded model). */
  dispose?(): void;
  /** Facts for the report: where the model came from and how logits were obtained. */
  describe?(): Record<string, unknown>;
  /** Name of each class (index = class), from the model's metadata or a labels file. */
  classNames?: readonly string[];
}

/** l0: ε = pixels that may change (all channels of a location = one pixel); l1: ε bounds Σ|δ| (minimal attacks only); patch: ε = area fraction of one square holding every change. */
export type NormName = 'linf' | 'l2' | 'l1' | 'l0' | 'patch';

export interface Norm {
  name: NormName;
  /** Per-example distance between two batches. */
  distance(a: tf.Tensor4D, b: tf.Tensor4D): tf.Tensor1D;
  /** A uniform sample from the ε-ball around x0 (not clipped to the box); one seed, or one per example. */
  randomStart(x0: tf.Tensor4D, eps: number, seed: number | number[]): tf.Tensor4D;
  /** Steepest-ascent direction for this norm: sign for L∞, unit L2 per example for L2. */
  normalize(g: tf.Tensor4D): tf.Tensor4D;
  /** Projection of x onto the ε-ball around x0 (not clipped to the box). */
  project(x: tf.Tensor4D, x0: tf.Tensor4D, eps: number): tf.Tensor4D;
}

/** targeted = the labels are targets to reach; otherwise the true labels to move away from. */
export interface Criterion {
  labels: tf.Tensor1D;
  targeted: boolean;
}

/** Costs an attack reports to the harness. */
export interface Costs {
  /** Per-example forward+backward passes. */
  gradients: number;
  /** Per-example forward passes outside gradient computations. */
  queries: number;
}

/** What the harness hands to an attack besides the model and the data. */
export interface AttackContext {
  /** Seed for this (attack, ε) — derived by the harness from the run's seed. */
  seed: number;
  costs: Costs;
  /**
   * Global index of each row of the batch. Attacks draw per-example randomness from
   * (seed, index), so an example gets the same random start whatever batch or shard it is in.
   * Absent: 0..n−1.
   */
  indices?: Int32Array;
  /** Where iterative attacks note their progress (a few sums per iteration); absent: not recorded. */
  convergence?: ConvergenceRecorder;
}

/** Receives, per iteration of each run of an attack, batch sums: the loss and the examples still robust. */
export interface ConvergenceRecorder {
  /**
   * `run`: 0 (the default) for the first run, k for the k-th restart (or APGD-T's next target
   * rank), which attacks only the `n` examples still standing.
   */
  record(iteration: number, lossSum: number, robust: number, n: number, run?: number): void;
  /** Rows of the batch (first run only) whose own loss and margin are wanted per iteration (--trace); absent or empty: none. */
  tracedRows?: readonly number[];
  /** Per iteration, the loss and (when known) the margin of each of `tracedRows`, in that order. */
  recordExamples?(iteration: number, loss: ArrayLike<number>, margin?: ArrayLike<number>): void;
}

/** What the sanity checks need to know about an attack. */
/** universal: one perturbation fitted on training data (Attack.fit), applied to every example. */
export type AttackKind = 'single-step' | 'iterative' | 'black-box' | 'universal';

export interface Attack {
  name: string;
  norm: Norm;
  kind?: AttackKind;
  /** Goes verbatim into the report. */
  config: Record<string, unknown>;
  /**
   * A minimal-perturbation attack (C&W, DeepFool, DDN, FMN): `run` ignores ε and returns per
   * example the smallest adversarial it found, or the clean image. The harness runs it once per
   * batch and derives every ε of the grid from the distances (harness/minimal.ts).
   */
  minimal?: boolean;
  /**
   * A universal attack (UAP, patch) learns one perturbation per ε from training examples before
   * it attacks; the harness calls `fit` once per ε before any batch, and `run` then applies what
   * was fitted at that ε (attacks/universal.ts).
   */
  fit?(model: Classifier, data: Dataset, eps: number, seed: number): Promise<FittedPerturbation>;
  /**
   * Returns raw adversarial images; the harness projects, clips and verifies them. May be async
   * (score-based attacks on remote models).
   */
  run(model: Classifier, x: tf.Tensor4D, criterion: Criterion, eps: number, ctx: AttackContext): tf.Tensor4D | Promise<tf.Tensor4D>;
}

/** What a universal attack fitted at one ε, for the report (its image is written as a PNG). */
export interface FittedPerturbation {
  /** patch: the patch's own pixels (s×s×c, values in the box); perturbation: δ (h×w×c), added to every image. */
  kind: 'patch' | 'perturbation';
  shape: ImageShape;
  pixels: Float32Array;
  /** Facts of the fit (examples, epochs, success rate on the fit set) for the report. */
  details: Record<string, unknown>;
  /** What the fit cost (per-example gradients and forward passes), charged to its (attack, ε) cell. */
  costs?: Costs;
}

/** An attack that computes synchronously (every gradient attack). */
export interface SyncAttack extends Attack {
  run(model: Classifier, x: tf.Tensor4D, criterion: Criterion, eps: number, ctx: AttackContext): tf.Tensor4D;
}

/** An in-memory labelled image set with pixels already in the model's input range [0, 1]. */
export interface Dataset {
  /** e.g. "mnist", "fashion-mnist", "folder:/path". */
  name: string;
  split: 'train' | 'test' | 'all';
  shape: ImageShape;
  numClasses: number;
  classNames: string[];
  size: number;
  /** size × h × w × c, row-major NHWC, values in [0, 1]. */
  images: Float32Array;
  labels: Int32Array;
  /** Stable per-example identifiers (index in the full split, or file path). */
  ids: string[];
  /** How the labels were made, when a reader should know (e.g. by folder position): shown in reports. */
  notes?: string[];
}
