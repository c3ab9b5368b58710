import type { AttackKind } from '../types.js';
import type { AttackResult, ModelProbeRecord, SanityCheck } from './report-types.js';
import { formatEps } from '../number-format.js';

/**
 * Facts measured on the model itself (see probes.ts): examples probed, those with an all-zero or
 * non-finite input gradient, the largest difference between two identical forward passes, an
 * iterative attack's accuracy at ε = the whole input range, and why gradients are unavailable.
 */
export type ModelProbe = ModelProbeRecord;

/** Accuracy must not rise with ε; one example's worth of slack for the attack's randomness. */
function monotoneChecks(results: AttackResult[]): SanityCheck[] {
  const out: SanityCheck[] = [];
  for (const name of new Set(results.map((r) => r.attack))) {
    const rows = results.filter((r) => r.attack === name).sort((a, b) => a.eps - b.eps);
    const rises = rows.slice(1).filter((r, i) => r.accuracy > rows[i]!.accuracy + 1 / Math.max(1, r.n) + 1e-9);
    out.push(
      rises.length === 0
        ? { id: `monotone:${name}`, ok: true, message: `${name}: accuracy does not rise as ε grows` }
        : {
            id: `monotone:${name}`,
            ok: false,
            message: `${name}: accuracy rises with ε (at ε = ${rises.map((r) => formatEps(r.eps)).join(', ')}): the attack is not finding the worst case`,
            advice: 'use more steps or restarts, a smaller step size, or APGD; for a randomised model use EOT',
          },
    );
  }
  return out;
}

function kindOf(r: AttackResult, kinds: Map<string, AttackKind | undefined>): AttackKind | undefined {
  return kinds.get(r.attack);
}

/** Carlini et al. 2019, §5: an iterative attack must do at least as well as a single step. */
function stepChecks(results: AttackResult[], kinds: Map<string, AttackKind | undefined>): SanityCheck[] {
  const bad: string[] = [];
  for (const single of results.filter((r) => kindOf(r, kinds) === 'single-step')) {
    for (const iter of results.filter((r) => kindOf(r, kinds) === 'iterative' && r.eps === single.eps && r.norm === single.norm)) {
      if (single.accuracy < iter.accuracy) bad.push(`${single.attack} ${(single.accuracy * 100).toFixed(1)}% < ${iter.attack} ${(iter.accuracy * 100).toFixed(1)}% at ε = ${formatEps(single.eps)}`);
    }
  }
  if (!results.some((r) => kindOf(r, kinds) === 'single-step') || !results.some((r) => kindOf(r, kinds) === 'iterative')) return [];
  return [
    bad.length === 0
      ? { id: 'iterative-beats-single-step', ok: true, message: 'iterative attacks are at least as strong as single-step ones' }
      : {
          id: 'iterative-beats-single-step',
          ok: false,
          message: `a single-step attack beats an iterative one (${bad.join('; ')}): the iterative attack is failing, a sign of gradient masking or a bad step size`,
          advice: 'increase steps and restarts, check the step size, try APGD; if the model is non-differentiable use BPDA',
        },
  ];
}

/** A black-box attack beating white-box ones means the gradients mislead (Carlini et al. 2019; AutoAttack). */
function blackBoxChecks(results: AttackResult[], kinds: Map<string, AttackKind | undefined>): SanityCheck[] {
  const black = results.filter((r) => kindOf(r, kinds) === 'black-box');
  const white = results.filter((r) => kindOf(r, kinds) !== 'black-box');
  if (black.length === 0 || white.length === 0) return [];
  const bad: string[] = [];
  for (const b of black) {
    const sameEps = white.filter((w) => w.eps === b.eps && w.norm === b.norm);
    if (sameEps.length === 0) continue;
    const best = Math.min(...sameEps.map((w) => w.accuracy));
    if (b.accuracy < best) bad.push(`${b.attack} ${(b.accuracy * 100).toFixed(1)}% < best white-box ${(best * 100).toFixed(1)}% at ε = ${formatEps(b.eps)}`);
  }
  return [
    bad.length === 0
      ? { id: 'white-box-beats-black-box', ok: true, message: 'no black-box attack beats the white-box ones' }
      : {
          id: 'white-box-beats-black-box',
          ok: false,
          message: `a black-box attack beats every white-box one (${bad.join('; ')}): the gradients are masked`,
          advice: 'attack with BPDA (non-differentiable parts) or EOT (randomness); trust the black-box figure meanwhile',
        },
  ];
}

/** Which adaptive techniques this run's attacks use (they answer some flags). */
export interface Adaptive {
  bpda: boolean;
  eot: boolean;
}

function probeChecks(p: ModelProbe, adaptive: Adaptive): SanityCheck[] {
  const out: SanityCheck[] = [];
  if (p.gradientUnavailable) {
    out.push({ id: 'differentiable', ok: false, message: `the model has no gradient (${p.gradientUnavailable}): only score-based attacks can run, so white-box robustness is unknown`, advice: 'attack with square and many queries, or export the model with differentiable ops' });
    return out;
  }
  out.push(
    p.nonFiniteGradients > 0
      ? { id: 'finite-gradients', ok: false, message: `input gradients hold NaN or ∞ on ${p.nonFiniteGradients}/${p.n} examples`, advice: 'check the model for log(0) or division by zero; use a score-based attack (square)' }
      : { id: 'finite-gradients', ok: true, message: 'input gradients are finite' },
  );
  const zeroShare = p.n === 0 ? 0 : p.zeroGradients / p.n;
  out.push(
    zeroShare > 0.05 && adaptive.bpda
      ? { id: 'nonzero-gradients', ok: true, message: `input gradients are exactly zero on ${p.zeroGradients}/${p.n} examples; this run's attacks use BPDA's straight-through gradient` }
      : zeroShare > 0.05
      ? { id: 'nonzero-gradients', ok: false, message: `input gradients are exactly zero on ${p.zeroGradients}/${p.n} examples: gradient attacks cannot move them (a non-differentiable step such as rounding or quantisation, or a saturated softmax as in defensive distillation?)`, advice: 'attack with BPDA (straight-through gradient for a non-differentiable transform), a margin loss on the logits (--loss dlr, apgd-dlr) for a saturated softmax, or a score-based attack (square)' }
      : { id: 'nonzero-gradients', ok: true, message: `input gradients are non-zero (zero on ${p.zeroGradients}/${p.n} examples)` },
  );
  out.push(
    p.repeatDifference > 1e-5 && adaptive.eot
      ? { id: 'deterministic', ok: true, message: `the model is randomised (logits differ by up to ${p.repeatDifference.toPrecision(3)}); this run's attacks use EOT` }
      : p.repeatDifference > 1e-5
      ? { id: 'deterministic', ok: false, message: `two identical forward passes disagree (logits differ by up to ${p.repeatDifference.toPrecision(3)}): the model is randomised`, advice: 'attack with EOT (average gradients over the randomness) and evaluate several draws' }
      : { id: 'deterministic', ok: true, message: 'the model is deterministic' },
  );
  if (p.unbounded) {
    const chance = 1 / p.numClasses;
    const u = p.unbounded;
    out.push(
      u.accuracy > chance
        ? { id: 'unbounded-eps', ok: false, message: `${u.attack} at an unbounded ε = ${formatEps(u.eps)} leaves ${(u.accuracy * 100).toFixed(1)}% accuracy on ${u.n} examples, above chance (${(chance * 100).toFixed(1)}%): the attack cannot even reach any image`, advice: 'the gradients are masked or the attack is broken: try BPDA, EOT, more steps, or a score-based attack' }
        : { id: 'unbounded-eps', ok: true, message: `${u.attack} at an unbounded ε = ${formatEps(u.eps)} brings accuracy to ${(u.accuracy * 100).toFixed(1)}% (≤ chance)` },
    );
  }
  return out;
}

/** The model's input transform and the gradient attacks that use neither BPDA nor EOT on it. */
export interface TransformUse {
  transform: string;
  nonAdaptive: string[];
}

/**
 * Athalye, Carlini & Wagner 2018: a gradient attack through an input transform (rounding, JPEG,
 * median, noise) measures gradient masking unless it adapts to it (BPDA, EOT).
 */
function transformChecks(use: TransformUse): SanityCheck[] {
  return [
    use.nonAdaptive.length === 0
      ? { id: 'adaptive-to-transform', ok: true, message: `every gradient attack adapts to the input transform ${use.transform} (BPDA or EOT)` }
      : {
          id: 'adaptive-to-transform',
          ok: false,
          message: `attack not adaptive to the input transform ${use.transform}: ${use.nonAdaptive.join(', ')} differentiate${use.nonAdaptive.length === 1 ? 's' : ''} through it as it is, so ${use.nonAdaptive.length === 1 ? 'its figures measure' : 'their figures measure'} gradient masking, not robustness`,
          advice: 'add --bpda (deterministic transforms: bit-depth, JPEG, median) or --eot N (randomised ones: noise)',
        },
  ];
}

/** The report card: each flag says what looks wrong and what to try next. */
export function sanityChecks(results: AttackResult[], kinds: Map<string, AttackKind | undefined>, mode: 'independent' | 'sequential', probe?: ModelProbe, adaptive: Adaptive = { bpda: false, eot: false }, transform?: TransformUse): SanityCheck[] {
  // In sequential mode later attacks see only survivors, so attacks cannot be compared.
  const comparisons = mode === 'independent' ? [...stepChecks(results, kinds), ...blackBoxChecks(results, kinds)] : [];
  return [...monotoneChecks(results), ...comparisons, ...(probe ? probeChecks(probe, adaptive) : []), ...(transform ? transformChecks(transform) : [])];
}
