import { beforeAll, describe, expect, it } from 'vitest';
import { ATTACK_REGISTRY, makeAttack, transferFrom, withInputDiversity } from '../../attacks/index.js';
import { balancedSubset } from '../../src/data/dataset.js';
import { loadMnist } from '../../src/data/mnist.js';
import { evaluate } from '../../src/harness/evaluate.js';
import type { Report } from '../../src/harness/report-types.js';
import { loadModel } from '../../src/model/store.js';
import { fixtureModelPath } from '../../src/package-info.js';
import * as tf from '@tensorflow/tfjs';
import { runAttack } from '../../attacks/run-attack.js';
import type { Attack, Classifier, NormName } from '../../src/types.js';
import { leakedTensors, useTestBackend } from '../helpers/backend.js';
import { bySuite } from '../helpers/suite-size.js';

/**
 * 20 test digits per attack in `npm test`, 40 in `npm run test:slow` (test/slow/attack-registry
 * imports this file); one model loaded for the whole file.
 */
const DIGITS = bySuite(20, 40);
let sharedModel: Promise<Classifier> | undefined;
const fixtureModel = (): Promise<Classifier> => (sharedModel ??= loadModel(fixtureModelPath('mnist-cnn')));

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
  ['fmn (l1)', () => makeAttack('fmn', { steps: 20, norm: 'l1' })],
  ['fmn (l0)', () => makeAttack('fmn', { steps: 20, norm: 'l0' })],
];

let sharedSource: Promise<Classifier> | undefined;
/** The PGD-trained fixture, loaded on first use and kept for the file. */
const sourceModel = (): Promise<Classifier> => (sharedSource ??= loadModel(fixtureModelPath('mnist-cnn-pgd-at')));

/**
 * A transfer attack, crafted on the PGD-trained fixture and judged on the undefended one. The
 * table's factories are synchronous and the source loads asynchronously, so the attack wraps
 * transferFrom at run time (the first run loads the source, before any leak is counted).
 */
function transferRow(make: () => Attack): Attack {
  const base = make();
  return {
    ...base,
    config: { ...base.config, transferFrom: 'mnist-cnn-pgd-at' },
    run: async (target, x, criterion, eps, ctx) => transferFrom(base, await sourceModel(), 'mnist-cnn-pgd-at').run(target, x, criterion, eps, ctx),
  };
}

/**
 * Sparse and universal attacks: sparse-rs (ε = pixels), uap (fitted on FIT, 5 passes) and patch
 * (ε = area; 15 passes over 30 digits, few enough to stay quick).
 */
const SPARSE_CASES: [string, () => Attack][] = [
  ['sparse-rs', () => makeAttack('sparse-rs', { steps: 60 })],
  ['uap', () => makeAttack('uap', { steps: 5 })],
  ['patch', () => makeAttack('patch', { steps: 15 })],
];

/** The training digits universal attacks fit on (other attacks ignore fitData). */
const FIT = balancedSubset(loadMnist('train'), 30);

/** Every registered attack, plus the L2 variants; small budgets of steps/queries keep it quick. */
const CASES: [string, () => Attack][] = [
  ...MINIMAL_CASES,
  ...Object.keys(ATTACK_REGISTRY)
    .filter((name) => !MINIMAL_CASES.some(([label]) => label === name) && !SPARSE_CASES.some(([label]) => label === name))
    .map((name): [string, () => Attack] => [name, () => makeAttack(name, name === 'fgsm' || name === 'fgm' ? {} : { steps: 5, queries: 100 })]),
  ...SPARSE_CASES,
  ['pgd (l2)', () => makeAttack('pgd', { steps: 5, norm: 'l2' })],
  ['bim (l2)', () => makeAttack('bim', { steps: 5, norm: 'l2' })],
  ['apgd-t (l2)', () => makeAttack('apgd-t', { steps: 5, norm: 'l2' })],
  ['fab (l2)', () => makeAttack('fab', { steps: 5, norm: 'l2' })],
  ['fab-t (l2)', () => makeAttack('fab-t', { steps: 5, norm: 'l2' })],
  ['fab (l1)', () => makeAttack('fab', { steps: 5, norm: 'l1' })],
  ['square (l2)', () => makeAttack('square', { queries: 100, norm: 'l2' })],
  ['bim transferred from the PGD-trained fixture', () => transferRow(() => makeAttack('bim', { steps: 5 }))],
  ['pgd (cw loss)', () => makeAttack('pgd', { steps: 5, loss: 'cw' })],
  ['bim (input diversity 0.5)', () => withInputDiversity(makeAttack('bim', { steps: 5 }), 0.5)],
];

const EPS: Record<NormName, number[]> = { linf: [0.05, 0.15, 0.3], l2: [0.5, 1.5, 3], l1: [2, 6, 15], l0: [1, 4, 12], patch: [0.05, 0.1, 0.2] };

describe.each(CASES)('attack %s', (_label, make) => {
  let model: Classifier;
  const data = balancedSubset(loadMnist('test'), DIGITS);
  let report: Report;
  const attack = make();
  const epsilons = EPS[attack.norm.name];

  beforeAll(async () => {
    await useTestBackend();
    model = await fixtureModel();
    report = await evaluate(model, data, [attack], epsilons, { seed: 9, probes: false, fitData: FIT });
  });

  it('keeps every example within its budget and the input box', () => {
    const dist = (cell: Report['examples']['results'][number]) => (attack.norm.name === 'linf' ? cell.linf : cell.l2);
    // The report keeps L∞ and L2 only; the sparse budgets are checked on the harness's output below.
    if (attack.norm.name === 'linf' || attack.norm.name === 'l2') {
      for (const cell of report.examples.results) {
        for (const d of dist(cell)) expect(d).toBeLessThanOrEqual(cell.eps + 1e-5);
      }
    } else {
      for (const cell of report.examples.results) for (const d of cell.linf) expect(d).toBeLessThanOrEqual(model.bounds.upper - model.bounds.lower);
    }
    // The harness verified the box on every batch; a violation would have thrown.
    expect(report.results).toHaveLength(epsilons.length);
  });

  it('does not gain accuracy as ε grows (one example of slack for randomised attacks)', () => {
    const acc = report.results.map((r) => r.correct);
    for (let i = 1; i < acc.length; i++) expect(acc[i]).toBeLessThanOrEqual(acc[i - 1]! + (attack.kind === 'black-box' ? 1 : 0));
    expect(acc.at(-1)!).toBeLessThan(report.clean.correct);
  });

  // Only the sparse threat models and L1 (the report keeps L∞ and L2 only) get this row (declared, not skipped, for the others).
  if (attack.norm.name === 'l0' || attack.norm.name === 'patch' || attack.norm.name === 'l1') it('keeps the sparse budget: the harness output changes ≤ ε pixels / one square of area ε / ε of L1', async () => {
    const few = balancedSubset(data, 10);
    const x = tf.tensor4d(few.images, [few.size, ...few.shape]);
    const labels = tf.tensor1d(few.labels, 'int32');
    const fresh = make();
    const eps = epsilons[1]!;
    await fresh.fit?.(model, FIT, eps, 1);
    const { adv } = await runAttack(model, fresh, x, { labels, targeted: false }, eps, 1);
    const d = Array.from(attack.norm.distance(adv, x).dataSync());
    for (const v of d) expect(v).toBeLessThanOrEqual(eps + 1e-9);
    expect(Math.max(...d)).toBeGreaterThan(0);
    tf.dispose([x, labels, adv]);
  });

  // One run for both (the slowest rows of the suite): the same seed gives the same per-example
  // results as beforeAll's run, and the whole evaluation leaves no tensor behind. Each (attack, ε)
  // draws from its own seed (harness/evaluate-batch.ts), so the middle ε alone must reproduce its
  // cells: a third of the work. A minimal attack runs once for every ε, so it gets them all.
  it('gives the same output for the same seed and leaks no tensor', async () => {
    const again = attack.minimal ? epsilons : [epsilons[1]!];
    let rerun: Report | undefined;
    const leaked = await leakedTensors(async () => {
      rerun = await evaluate(model, data, [make()], again, { seed: 9, probes: false, fitData: FIT });
    });
    const cells = report.examples.results.filter((cell) => again.includes(cell.eps));
    expect(cells).toHaveLength(again.length);
    expect(rerun!.examples.results).toEqual(cells);
    expect(leaked).toBe(0);
  });
});

/** The reference recipe's members against single-step FGSM on the same examples: never weaker. */
describe.each(['apgd-t', 'fab', 'fab-t'])('%s is at least as strong as FGSM', (name) => {
  it('robust accuracy ≤ FGSM\'s at every ε', async () => {
    await useTestBackend();
    const model = await fixtureModel();
    const data = balancedSubset(loadMnist('test'), bySuite(20, 30));
    const eps = [0.1, 0.2];
    const report = await evaluate(model, data, [makeAttack('fgsm'), makeAttack(name, { steps: 10 })], eps, { seed: 3, probes: false, mode: 'independent' });
    const correct = (attack: string) => report.results.filter((r) => r.attack === attack).map((r) => r.correct);
    const single = correct('fgsm');
    const iterative = correct(name);
    expect(iterative).toHaveLength(eps.length);
    iterative.forEach((c, i) => expect(c).toBeLessThanOrEqual(single[i]!));
  });
});
