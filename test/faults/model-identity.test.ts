/**
 * Issue 18 items 11, 3 (baseline half), 13 (journal path a folder) and 16: a journal is never
 * resumed against a model whose weights changed in place; baselines record the weights' digest
 * and `check` says when they differ; `train --out` does not replace a model unasked; two runs
 * writing the same --json are refused.
 */
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeAttack } from '../../attacks/index.js';
import { loadDataset } from '../../src/data/index.js';
import { UserError } from '../../src/errors.js';
import { evaluate } from '../../src/harness/evaluate.js';
import { Journal, JOURNAL_FORMAT } from '../../src/harness/journal.js';
import { weightsDigest } from '../../src/harness/model-digest.js';
import { lockOutput } from '../../src/harness/output-lock.js';
import { loadModel } from '../../src/model/store.js';
import { fixtureModelPath } from '../../src/package-info.js';
import type { Baseline } from '../../src/regression/baseline-file.js';
import { useTestBackend } from '../helpers/backend.js';
import { runCli } from '../helpers/cli.js';
import { twoImageFolder } from './folders.js';

/** Scales every float of weights.bin by 1.5: the same model, size and description, other weights. */
async function retrainInPlace(model: string): Promise<void> {
  const file = path.join(model, 'weights.bin');
  const bytes = await readFile(file);
  const floats = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  for (let i = 0; i < floats.length; i++) floats[i] = floats[i]! * 1.5;
  await writeFile(file, Buffer.from(floats.buffer));
}

describe('the identity of a model across runs', () => {
  let dir: string;
  let data: string;
  beforeAll(async () => {
    await useTestBackend();
    dir = await mkdtemp(path.join(tmpdir(), 'advtest-identity-'));
    data = `folder:${await twoImageFolder(path.join(dir, 'data'))}`;
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a journal left by a killed run is not resumed once the model folder holds other weights', async () => {
    const model = path.join(dir, 'm-journal');
    await cp(fixtureModelPath('mnist-cnn'), model, { recursive: true });
    const json = path.join(dir, 'r.json');
    // The library run journals every batch and, unlike the CLI, leaves the journal: a killed run.
    const classifier = await loadModel(model);
    const dataset = await loadDataset(data, { split: 'test', shape: classifier.inputShape });
    await evaluate(classifier, dataset, [makeAttack('fgsm')], [0.1], { batchSize: 1, journal: `${json}.journal` });
    classifier.dispose?.();
    await retrainInPlace(model);
    const r = await runCli('eval', '--model', model, '--data', data, '--attack', 'fgsm', '--eps', '0.1', '--batch-size', '1', '--workers', '1', '--json', json, '--quiet');
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^advtest: \S+r\.json\.journal holds a journal of another evaluation, not resumed: the model's weights differ .*; delete the journal to start afresh, or give another output path \(--json\)\n$/);
    expect(existsSync(json)).toBe(false);
  });

  it('a journal path that is a folder is one clear line, not EISDIR', async () => {
    const folder = path.join(dir, 'j.json.journal');
    await mkdir(folder);
    expect(() => new Journal(folder, { format: JOURNAL_FORMAT, configHash: 'c', fingerprint: 'f', seed: 0, model: '{}' })).toThrow(UserError);
    const r = await runCli('eval', '--model', fixtureModelPath('mnist-cnn'), '--data', data, '--attack', 'fgsm', '--eps', '0.1', '--workers', '1', '--json', path.join(dir, 'j.json'), '--quiet');
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^advtest: journal path \S+j\.json\.journal is a folder: move it away, or give --json another file name\n$/);
  });

  it('a baseline records the weights; check on the model retrained in place says the weights differ', async () => {
    const model = path.join(dir, 'm-baseline');
    await cp(fixtureModelPath('mnist-cnn'), model, { recursive: true });
    const file = path.join(dir, 'robustness.json');
    const b = await runCli('baseline', '--model', model, '--data', data, '--attack', 'fgsm', '--eps', '0.1', '--out', file, '--quiet');
    expect(b.code, b.stderr).toBe(0);
    const baseline = JSON.parse(await readFile(file, 'utf8')) as Baseline;
    expect(baseline.model.weights).toBe(await weightsDigest(model));
    const same = await runCli('check', '--baseline', file, '--quiet');
    expect(same.stdout).not.toMatch(/weights differ/);
    await retrainInPlace(model);
    const r = await runCli('check', '--baseline', file, '--quiet');
    expect(r.stdout).toMatch(/note: the model's weights differ from the baseline's \(sha256 [0-9a-f]{12}…, baseline [0-9a-f]{12}…\): the model was retrained or replaced/);
    // A UTF-8 byte-order mark (a Windows editor) does not make the baseline unreadable.
    await writeFile(file, '\uFEFF' + (await readFile(file, 'utf8')));
    const bom = await runCli('check', '--baseline', file, '--quiet');
    expect(bom.stderr).not.toMatch(/not valid JSON/);
    expect(bom.stdout).toMatch(/weights differ/);
  });

  it('train --out onto an existing model is refused unless --force', async () => {
    const model = path.join(dir, 'm-train');
    await cp(fixtureModelPath('mnist-cnn'), model, { recursive: true });
    const before = await readFile(path.join(model, 'weights.bin'));
    const args = ['train', '--arch', 'mlp', '--data', data, '--epochs', '1', '--holdout', '0', '--out', model, '--quiet'];
    const r = await runCli(...args);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^advtest: --out \S+m-train already holds a model: pass --force to replace it, or choose another folder\n$/);
    expect((await readFile(path.join(model, 'weights.bin'))).equals(before)).toBe(true);
    const forced = await runCli(...args, '--force');
    expect(forced.code, forced.stderr).toBe(0);
    expect((await readFile(path.join(model, 'weights.bin'))).equals(before)).toBe(false);
  });

  it('a second run writing the same --json while the first holds it is refused; a lock left by a dead process is taken over', async () => {
    const json = path.join(dir, 'locked.json');
    const release = lockOutput(json, '--json');
    try {
      const r = await runCli('eval', '--model', fixtureModelPath('mnist-cnn'), '--data', data, '--attack', 'fgsm', '--eps', '0.1', '--workers', '1', '--json', json, '--quiet');
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^advtest: --json \\S+locked\\.json is being written by another advtest run \\(pid ${process.pid}\\): wait for it to finish or give another --json; if no such run exists, delete \\S+locked\\.json\\.lock\\n$`));
      expect(existsSync(json)).toBe(false);
    } finally {
      release();
    }
    expect(existsSync(`${json}.lock`)).toBe(false);
    // pid 2^22 + 1 is above Linux's pid_max: no process has it.
    await writeFile(`${json}.lock`, `${2 ** 22 + 1}\n`);
    const r = await runCli('eval', '--model', fixtureModelPath('mnist-cnn'), '--data', data, '--attack', 'fgsm', '--eps', '0.1', '--workers', '1', '--json', json, '--quiet');
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(json)).toBe(true);
    expect(existsSync(`${json}.lock`)).toBe(false);
  });
});
