import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { adversarialPatch, makeAttack, patchEpsilons, uap } from '../../attacks/index.js';
import { balancedSubset } from '../../src/data/dataset.js';
import { decodeImage } from '../../src/data/image-codec.js';
import { loadMnist } from '../../src/data/mnist.js';
import { UserError } from '../../src/errors.js';
import { evaluate } from '../../src/harness/evaluate.js';
import { loadModel } from '../../src/model/store.js';
import { fixtureModelPath } from '../../src/package-info.js';
import type { Classifier } from '../../src/types.js';
import { useTestBackend } from '../helpers/backend.js';
import { runCli } from '../helpers/cli.js';
import { tinyDataset } from '../helpers/data.js';
import { linearClassifier } from '../helpers/models.js';

beforeAll(useTestBackend);

/**
 * Two classes on a 3×3 image, z = W·x: for examples of class 0 the cross-entropy's gradient in δ
 * is (p₁)(w₁ − w₀) for every example, so its sign is sign(w₁ − w₀) whatever the image. The best
 * universal L∞ perturbation is therefore ε·sign(w₁ − w₀), and UAP's signed steps of ε/10 from 0
 * reach it exactly after 10 steps. The best patch sets each pixel to the box corner of that sign
 * (upper where w₁ > w₀), which signed steps of 1/20 from anywhere in [0, 1] reach after 20 steps.
 */
const W0 = [1, -2, 0.5, -0.25, 3, -1, 2, 0.75, -3];
const W1 = [-1, 1, 1.5, 0.25, -3, 2, -2, 0.25, 1];
const SIGN = W0.map((w, i) => Math.sign(W1[i]! - w));

describe('fits on a linear model (closed form)', () => {
  const model = linearClassifier([W0, W1], [5, 0], [3, 3, 1]);
  // Eight class-0 examples: one minibatch, so epochs = steps.
  const fit = tinyDataset(Array.from({ length: 8 }, (_, i) => W0.map((_, p) => ((i * 7 + p * 3) % 10) / 10)), Array(8).fill(0), [3, 3, 1]);

  it('UAP (L∞) reaches ε·sign(w₁ − w₀) after 10 signed steps of ε/10', async () => {
    const fitted = await uap({ epochs: 10 }).fit!(model, fit, 0.1, 1);
    expect(fitted.kind).toBe('perturbation');
    Array.from(fitted.pixels).forEach((v, i) => expect(v).toBeCloseTo(0.1 * SIGN[i]!, 6));
    // After 5 steps it is halfway: the figure depends on the steps, not only on the sign.
    const half = await uap({ epochs: 5 }).fit!(model, fit, 0.1, 1);
    Array.from(half.pixels).forEach((v, i) => expect(v).toBeCloseTo(0.05 * SIGN[i]!, 6));
  });

  it('the patch (fixed at the centre, ε = 1 → 3×3) reaches the box corners of sign(w₁ − w₀)', async () => {
    const fitted = await adversarialPatch({ placement: 'fixed', epochs: 20 }).fit!(model, fit, 1, 2);
    expect(fitted.shape).toEqual([3, 3, 1]);
    expect(Array.from(fitted.pixels)).toEqual(SIGN.map((s) => (s > 0 ? 1 : 0)));
  });

  it('charges the fit to its row: 3 passes × 8 fit examples = 24 gradients, 8 forward passes (the final check on the fit set)', async () => {
    const data = tinyDataset(Array.from({ length: 4 }, () => W0.map(() => 0.5)), Array(4).fill(0), [3, 3, 1]);
    const report = await evaluate(model, data, [uap({ epochs: 3 })], [0.05, 0.1], { probes: false, fitData: fit });
    // Each ε has its own fit; the batch itself takes no gradient (one forward pass per example, counted by the harness).
    for (const row of report.results) {
      expect(row.costs.gradients).toBe(3 * 8);
      expect(row.costs.queries).toBe(8);
    }
  });

  it('refuses to run without a fit set, and a targeted run', async () => {
    await expect(evaluate(model, fit, [uap()], [0.1], { probes: false })).rejects.toThrow(UserError);
    await expect(evaluate(model, fit, [uap()], [0.1], { probes: false, target: 1, fitData: fit })).rejects.toThrow(/untargeted/);
  });
});

describe('on the undefended MNIST fixture (few digits)', () => {
  let model: Classifier;
  const test = balancedSubset(loadMnist('test'), 40);
  const train = balancedSubset(loadMnist('train'), 60);
  beforeAll(async () => {
    model = await loadModel(fixtureModelPath('mnist-cnn'));
  });

  it('UAP lowers accuracy but is weaker than per-example PGD at every ε', async () => {
    const eps = [0.2, 0.3];
    const report = await evaluate(model, test, [makeAttack('uap', { steps: 5 }), makeAttack('pgd', { steps: 10 })], eps, { seed: 1, probes: false, mode: 'independent', fitData: train });
    const correct = (a: string) => report.results.filter((r) => r.attack === a).map((r) => r.correct);
    const [u, p] = [correct('uap'), correct('pgd')];
    u.forEach((c, i) => expect(c).toBeGreaterThan(p[i]!));
    expect(u.at(-1)!).toBeLessThan(report.clean.correct);
    expect(report.universal?.map((r) => [r.attack, r.eps, r.kind])).toEqual([
      ['uap', 0.2, 'perturbation'],
      ['uap', 0.3, 'perturbation'],
    ]);
  });

  it('a patch of ≤ 10% of the area, fitted on tens of digits, lowers accuracy at random placements', async () => {
    const report = await evaluate(model, test, [makeAttack('patch', { steps: 30 })], [0.1], { seed: 1, probes: false, fitData: train });
    expect(report.results[0]!.correct).toBeLessThan(report.clean.correct);
    const patch = report.universal![0]!;
    expect(patch.shape).toEqual([8, 8, 1]); // 64 of 784 pixels = 8.2%
    expect(patch.successRate).toBe(report.results[0]!.success.rate);
  });
});

describe('the command line', () => {
  it('eval --attack patch --patch-size writes the patch PNG next to the report and names it (JSON, HTML)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'advtest-patch-'));
    const json = join(dir, 'r.json');
    const r = await runCli('eval', '--model', fixtureModelPath('mnist-cnn'), '--attack', 'patch', '--patch-size', '0.1', '--placement', 'fixed', '--steps', '2', '--fit-size', '20', '--limit', '20', '--json', json, '--html', join(dir, 'r.html'), '--quiet');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/patch\s+│ 0\.1 area/);
    const report = JSON.parse(readFileSync(json, 'utf8'));
    expect(report.universal[0].file).toBe('r.patch-0.1.png');
    const png = join(dir, 'r.patch-0.1.png');
    expect(existsSync(png)).toBe(true);
    // The 8×8 patch enlarged ×16 to 128×128: each block one value, equal to the report's patch.
    const pixels = await decodeImage(png, [128, 128, 1]);
    expect(new Set(Array.from(pixels.subarray(0, 16))).size).toBe(1);
    // The HTML report shows the patch, its success rate and the file.
    const html = readFileSync(join(dir, 'r.html'), 'utf8');
    expect(html).toContain('<section id="universal">');
    expect(html).toContain(`success on the evaluated examples ${(report.universal[0].successRate * 100).toFixed(1)}%`);
    expect(html).toContain('<code>r.patch-0.1.png</code>');
  });

  it.each([
    [['--attack', 'pgd', '--norm', 'l0'], /sparse-rs/],
    [['--attack', 'sparse-rs', '--norm', 'l0', '--eps', '0.5'], /number of pixels/],
    [['--attack', 'pgd', '--patch-size', '0.1'], /--patch-size applies to --attack patch/],
    [['--attack', 'patch', '--patch-size', '1.5'], /fraction of the image/],
    [['--attack', 'sparse-rs,pgd', '--eps', '1'], /different units/],
    [['--attack', 'uap', '--eot', '3'], /drop --eot/],
  ])('refuses %j with exit 2', async (args, message) => {
    const r = await runCli('eval', '--model', fixtureModelPath('mnist-cnn'), '--limit', '10', ...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});

it('patchEpsilons: the patch size replaces the default --eps', () => {
  expect(patchEpsilons('0.1', '0.1,0.2,0.3', false, 'patch')).toEqual([0.1]);
  expect(() => patchEpsilons('0.1', '0.2', true, 'patch')).toThrow(/drop --eps/);
  expect(patchEpsilons(undefined, '0.05,0.1', true, 'patch')).toEqual([0.05, 0.1]);
});
