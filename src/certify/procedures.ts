import type * as tf from '@tensorflow/tfjs';
import type { Classifier } from '../types.js';
import { sampleVotes, topTwo, type SampleOptions } from './sampling.js';
import { binomialTestHalf, certifiedRadius, clopperPearsonLower } from './statistics.js';

/** Abstention, in a prediction field. */
export const ABSTAIN = -1;

export interface CertifyParams extends SampleOptions {
  n0: number;
  n: number;
  alpha: number;
}

/** What CERTIFY returned for one example and what it saw. */
export interface CertifyOutcome {
  /** The certified class, or ABSTAIN. */
  prediction: number;
  /** The certified L2 radius (0 when abstaining). */
  radius: number;
  /** ĉ_A, the class chosen with the n0 selection samples. */
  selected: number;
  /** Its count among the n estimation samples. */
  countA: number;
  pALower: number;
  selectionCounts: number[];
  counts: number[];
}

/**
 * CERTIFY of Cohen, Rosenfeld & Kolter 2019 (arXiv:1902.02918), Pseudocode §3.2: the top class ĉ_A
 * of n0 noisy samples, its count n_A among n fresh samples, p̲_A the one-sided (1 − α)
 * Clopper–Pearson lower bound of n_A/n; abstain unless p̲_A > ½, else certify ĉ_A within the
 * L2 radius σ·Φ⁻¹(p̲_A). With probability ≥ 1 − α a returned class is the smoothed classifier's
 * prediction everywhere in that ball.
 */
export function certify(model: Classifier, image: tf.Tensor4D, example: number, p: CertifyParams): CertifyOutcome {
  const selectionCounts = sampleVotes(model, image, example, p.n0, 'selection', p);
  const [selected] = topTwo(selectionCounts);
  const counts = sampleVotes(model, image, example, p.n, 'estimation', p);
  const countA = counts[selected]!;
  const pALower = clopperPearsonLower(countA, p.n, p.alpha);
  const abstain = pALower <= 0.5;
  return {
    prediction: abstain ? ABSTAIN : selected,
    radius: abstain ? 0 : certifiedRadius(p.sigma, pALower),
    selected,
    countA,
    pALower,
    selectionCounts,
    counts,
  };
}

/**
 * PREDICT of Cohen et al. 2019: the top two classes of n noisy samples, and the top one returned
 * only if a two-sided binomial test of n_A against n_A + n_B at ½ rejects at level α (then the
 * probability of returning a class other than the smoothed classifier's is at most α).
 */
export function predict(model: Classifier, image: tf.Tensor4D, example: number, p: SampleOptions & { n: number; alpha: number }): { prediction: number; counts: number[]; pValue: number } {
  const counts = sampleVotes(model, image, example, p.n, 'prediction', p);
  const [a, b] = topTwo(counts);
  const pValue = binomialTestHalf(counts[a]!, counts[a]! + counts[b]!);
  return { prediction: pValue <= p.alpha ? a : ABSTAIN, counts, pValue };
}
