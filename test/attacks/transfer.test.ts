import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { diverseInputs, makeAttack, transferFrom, transferSources, withInputDiversity } from '../../attacks/index.js';
import { balancedSubset } from '../../src/data/dataset.js';
import { loadMnist } from '../../src/data/mnist.js';
import { evaluate } from '../../src/harness/evaluate.js';
import type { Report } from '../../src/harness/report-types.js';
import { loadModel } from '../../src/model/store.js';
import { fixtureModelPath } from '../../src/package-info.js';
import type { Classifier } from '../../src/types.js';
import { leakedTensors, useTestBackend } from '../helpers/backend.js';
import { runCli } from '../helpers/cli.js';

/**
 * Transfer: examples crafted on a source model, judged (and verified) on the target. Source =
 * the PGD-trained fixture, target = the undefended one, BIM-10 at ε = 0.2 on 30 digits.
 */
describe('transfer attacks', () => {
  let target: Classifier;
  let source: Classifier;
  const data = balancedSubset(loadMnist('test'), 30);
  const eps = [0.2];

  beforeAll(async () => {
    await useTestBackend();
    target = await loadModel(fixtureModelPath('mnist-cnn'));
    source = await loadModel(fixtureModelPath('mnist-cnn-pgd-at'));
  });

  it('with source = target equals the white-box run exactly', async () => {
    const white = await evaluate(target, data, [makeAttack('pgd', { steps: 5 })], eps, { seed: 4, probes: false });
    const self = await evaluate(target, data, [transferFrom(makeAttack('pgd', { steps: 5 }), target, 'itself')], eps, { seed: 4, probes: false });
    expect(self.examples.results).toEqual(white.examples.results);
    expect(self.results.map((r) => r.correct)).toEqual(white.results.map((r) => r.correct));
  });

  it("gives a target accuracy between the target's white-box and clean accuracy", async () => {
    const white = await evaluate(target, data, [makeAttack('bim')], eps, { seed: 4, probes: false });
    const transfer = await evaluate(target, data, [transferFrom(makeAttack('bim'), source, 'pgd-at')], eps, { seed: 4, probes: false });
    const clean = transfer.clean.correct;
    const [whiteBox, transferred] = [white.results[0]!.correct, transfer.results[0]!.correct];
    // Measured on these 30 digits: clean 28, white-box 3, transfer 26.
    expect(whiteBox).toBeLessThan(transferred);
    expect(transferred).toBeLessThan(clean);
    // The harness verified the budget on the target: every perturbation within ε.
    for (const d of transfer.examples.results[0]!.linf) expect(d).toBeLessThanOrEqual(0.2 + 1e-5);
    expect(transfer.config.attacks[0]!.config.transferFrom).toBe('pgd-at');
  });

  it('refuses a source of another input shape, naming both (exit 2)', async () => {
    const { code, stderr } = await runCli('eval', '--model', fixtureModelPath('mnist-cnn'), '--source-model', fixtureModelPath('mobilenet-tiny'), '--limit', '4', '--workers', '1', '--quiet');
    expect(code).toBe(2);
    expect(stderr).toMatch(/--source-model .*mobilenet-tiny takes 96×96×3 images, 6 classes, box \[0, 1\] but the target model takes 28×28×1 images, 10 classes, box \[0, 1\]/);
    expect(stderr.trim().split('\n')).toHaveLength(1);
  });

  it('advtest eval --source-model prints and reports the source (white-box) beside the target (transfer)', async () => {
    const { code, stdout } = await runCli('eval', '--model', fixtureModelPath('mnist-cnn'), '--source-model', fixtureModelPath('mnist-cnn-pgd-at'), '--attack', 'fgsm', '--eps', '0.2', '--limit', '10', '--workers', '2', '--json', '--quiet');
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as Report;
    expect(report.transfer!.sourceModel).toBe(fixtureModelPath('mnist-cnn-pgd-at'));
    // The source's own figures are those of a white-box run on it.
    const sourceModel = await loadModel(fixtureModelPath('mnist-cnn-pgd-at'));
    const white = await evaluate(sourceModel, balancedSubset(loadMnist('test'), 10), [makeAttack('fgsm')], [0.2], { seed: 0, probes: false });
    expect(report.transfer!.results[0]!.correct).toBe(white.results[0]!.correct);
    expect(report.transfer!.clean.correct).toBe(white.clean.correct);
    sourceModel.dispose?.();
    const text = await runCli('eval', '--model', fixtureModelPath('mnist-cnn'), '--source-model', fixtureModelPath('mnist-cnn-pgd-at'), '--attack', 'fgsm', '--eps', '0.2', '--limit', '10', '--workers', '1', '--quiet');
    expect(text.stdout).toMatch(/transfer from .*mnist-cnn-pgd-at \(source = white-box, target = transfer\):\n  clean +source [\d.]+% .* target [\d.]+%/);
    expect(text.stdout).toMatch(/fgsm ε=0\.2 +source [\d.]+% \[[\d., ]+\] +target [\d.]+%/);
  });

  it('leaks no tensor', async () => {
    expect(await leakedTensors(() => evaluate(target, balancedSubset(data, 10), [transferFrom(makeAttack('fgsm'), source)], eps, { probes: false }))).toBe(0);
  });

  it('knows its source model, to free it (each source once)', () => {
    const a = transferFrom(makeAttack('fgsm'), source, 'pgd-at');
    const b = transferFrom(makeAttack('pgd'), source, 'pgd-at');
    expect(transferSources([a, b, makeAttack('bim')])).toEqual([source]);
    expect(transferSources([makeAttack('bim')])).toEqual([]);
  });

  it('advtest attack --source-model: the manifest names the source model (path and architecture)', async () => {
    const out = await mkdtemp(path.join(tmpdir(), 'advtest-transfer-'));
    const { code } = await runCli('attack', '--model', fixtureModelPath('mnist-cnn'), '--source-model', fixtureModelPath('mnist-cnn-pgd-at'), '--images', 'fixtures/images/mnist-test-0-label0.png', '--attack', 'fgsm', '--eps', '0.3', '--out', out, '--workers', '1', '--quiet');
    expect(code).toBe(0);
    const manifest = JSON.parse(await readFile(path.join(out, 'manifest.json'), 'utf8')) as { attack: { config: { transferFrom: string; sourceModel: { path: string; arch: string } } }; model: { path: string } };
    expect(manifest.attack.config.transferFrom).toBe(fixtureModelPath('mnist-cnn-pgd-at'));
    expect(manifest.attack.config.sourceModel.path).toBe(fixtureModelPath('mnist-cnn-pgd-at'));
    expect(manifest.attack.config.sourceModel.arch).toBe('mnist-cnn');
    expect(manifest.model.path).toBe(fixtureModelPath('mnist-cnn'));
  });
});

describe('input diversity (DI, Xie et al. 2019)', () => {
  let model: Classifier;
  beforeAll(async () => {
    await useTestBackend();
    model = await loadModel(fixtureModelPath('mnist-cnn'));
  });

  it('p = 0 leaves the input as it is; p = 1 shrinks and pads every image, within the box, the same for the same seed', () => {
    const data = balancedSubset(loadMnist('test'), 10);
    const x = tf.tensor4d(data.images, [data.size, 28, 28, 1]);
    const seen: tf.Tensor4D[] = [];
    const spy = (m: Classifier): Classifier => ({ ...m, logits: (t) => (seen.push(tf.keep(tf.clone(t))), m.logits(t)) });
    tf.tidy(() => {
      diverseInputs(spy(model), 0, 7).logits(x);
      diverseInputs(spy(model), 1, 7).logits(x);
      diverseInputs(spy(model), 1, 7).logits(x);
    });
    const [same, diverse, again] = seen as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
    expect(tf.max(tf.abs(tf.sub(same, x))).dataSync()[0]).toBe(0);
    expect(tf.max(tf.abs(tf.sub(diverse, x))).dataSync()[0]).toBeGreaterThan(0.1);
    expect(Array.from(again.dataSync())).toEqual(Array.from(diverse.dataSync()));
    expect(tf.min(diverse).dataSync()[0]).toBeGreaterThanOrEqual(0);
    expect(tf.max(diverse).dataSync()[0]).toBeLessThanOrEqual(1 + 1e-6);
    // A shrunk image keeps roughly its ink on (r/28)² of the pixels, r ≥ 25: about 0.8–1 of the sum.
    const inkRatio = tf.div(tf.sum(diverse, [1, 2, 3]), tf.sum(x, [1, 2, 3])).dataSync();
    for (const r of inkRatio) {
      expect(r).toBeGreaterThan(0.7);
      expect(r).toBeLessThan(1.1);
    }
    tf.dispose([x, ...seen]);
  });

  it('refuses a probability outside [0, 1] and a black-box attack', () => {
    expect(() => withInputDiversity(makeAttack('pgd'), 1.5)).toThrow(/--input-diversity 1.5: give a probability in \[0, 1\]/);
    expect(() => withInputDiversity(makeAttack('square'), 0.5)).toThrow(/applies to gradient attacks, not square/);
  });
});
