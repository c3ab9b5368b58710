import { beforeAll, describe, expect, it } from 'vitest';
import { ATTACK_REGISTRY, makeAttack } from '../../attacks/index.js';
import { balancedSubset } from '../../src/data/dataset.js';
import { loadMnist } from '../../src/data/mnist.js';
import { evaluate } from '../../src/harness/evaluate.js';
import type { Report } from '../../src/harness/report.js';
import { loadModel } from '../../src/model/store.js';
import { fixtureModelPath } from '../../src/package-info.js';
import type { Attack, Classifier } from '../../src/types.js';
import { leakedTensors, useTestBackend } from '../helpers/backend.js';

/**
 * Minimal-perturbation attacks (Attack.minimal): the harness runs each once per batch and reads
 * every ε off its distances, so budget and box, accuracy monotone in ε (by construction),
 * determinism and no leak apply as to every attack. Not checked here and not guaranteed: the
 * sanity card's "iterative ≥ single-step" — they are kind 'iterative', but DeepFool is a
 * linearisation and a short C&W barely moves saturated pixels. C&W gets 20 Adam steps per
 * search step: with 5 its tanh-space step of 0.01 moves no saturated pixel, and nothing breaks;
 * DeepFool keeps its 50 steps (with 5 it broke none of the 40 digits).
 */
const MINIMAL_CASES: [string, () => Attack][] = [
  ['cw-l2', () => makeAttack('cw-l2', { steps: 20 })],
  ['deepfool', () => makeAttack('deepfool')],
  ['deepfool (linf)', () => makeAttack('deepfool', { norm: 'linf' })],
  ['ddn', () => makeAttack('ddn', { steps: 20 })],
  ['fmn', () => makeAttack('fmn', { steps: 20 })],
  ['fmn (l2)', () => makeAttack('fmn', { steps: 20, norm: 'l2' })],
];

/** Every registered attack, plus the L2 variants; small budgets of steps/queries keep it quick. */
const CASES: [string, () => Attack][] = [
  ...MINIMAL_CASES,
  ...Object.keys(ATTACK_REGISTRY).filter((name) => !MINIMAL_CASES.some(([label]) => label === name)).map((name): [string, () => Attack] => [name, () => makeAttack(name, name === 'fgsm' || name === 'fgm' ? {} : { steps: 5, queries: 100 })]),
  ['pgd (l2)', () => makeAttack('pgd', { steps: 5, norm: 'l2' })],
  ['bim (l2)', () => makeAttack('bim', { steps: 5, norm: 'l2' })],
  ['apgd-t (l2)', () => makeAttack('apgd-t', { steps: 5, norm: 'l2' })],
  ['fab (l2)', () => makeAttack('fab', { steps: 5, norm: 'l2' })],
  ['fab-t (l2)', () => makeAttack('fab-t', { steps: 5, norm: 'l2' })],
];

const EPS = { linf: [0.05, 0.15, 0.3], l2: [0.5, 1.5, 3] };

describe.each(CASES)('attack %s', (_label, make) => {
  let model: Classifier;
  const data = balancedSubset(loadMnist('test'), 40);
  let report: Report;
  const attack = make();
  const epsilons = EPS[attack.norm.name];

  beforeAll(async () => {
    await useTestBackend();
    model = await loadModel(fixtureModelPath('mnist-cnn'));
    report = await evaluate(model, data, [attack], epsilons, { seed: 9, probes: false });
  });

  it('keeps every example within its budget and the input box', () => {
    const dist = (cell: Report['examples']['results'][number]) => (attack.norm.name === 'linf' ? cell.linf : cell.l2);
    for (const cell of report.examples.results) {
      for (const d of dist(cell)) expect(d).toBeLessThanOrEqual(cell.eps + 1e-5);
    }
    // The harness verified the box on every batch; a violation would have thrown.
    expect(report.results).toHaveLength(epsilons.length);
  });

  it('does not gain accuracy as ε grows (one example of slack for randomised attacks)', () => {
    const acc = report.results.map((r) => r.correct);
    for (let i = 1; i < acc.length; i++) expect(acc[i]).toBeLessThanOrEqual(acc[i - 1]! + (attack.kind === 'black-box' ? 1 : 0));
    expect(acc.at(-1)!).toBeLessThan(report.clean.correct);
  });

  it('gives the same output for the same seed', async () => {
    const again = await evaluate(model, data, [make()], epsilons, { seed: 9, probes: false });
    expect(again.examples.results).toEqual(report.examples.results);
  });

  it('leaks no tensor', async () => {
    expect(await leakedTensors(() => evaluate(model, balancedSubset(data, 10), [make()], [epsilons[1]!], { probes: false }))).toBe(0);
  });
});

/** The reference recipe's members against single-step FGSM on the same examples: never weaker. */
describe.each(['apgd-t', 'fab', 'fab-t'])('%s is at least as strong as FGSM', (name) => {
  it('robust accuracy ≤ FGSM\'s at every ε', async () => {
    await useTestBackend();
    const model = await loadModel(fixtureModelPath('mnist-cnn'));
    const data = balancedSubset(loadMnist('test'), 30);
    const eps = [0.1, 0.2];
    const report = await evaluate(model, data, [makeAttack('fgsm'), makeAttack(name, { steps: 10 })], eps, { seed: 3, probes: false, mode: 'independent' });
    const correct = (attack: string) => report.results.filter((r) => r.attack === attack).map((r) => r.correct);
    const single = correct('fgsm');
    const iterative = correct(name);
    expect(iterative).toHaveLength(eps.length);
    iterative.forEach((c, i) => expect(c).toBeLessThanOrEqual(single[i]!));
  });
});
