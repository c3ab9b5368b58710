import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { materializeAttack, type AttackImagesRequest } from '../../src/run/requests.js';
import { WorkerPool } from '../../src/run/worker-pool.js';
import { decodeImage } from '../../src/data/image-codec.js';
import { adversarialBatch, type AttackBatch } from '../../src/harness/adversarial-batch.js';
import { attackImages, type AttackManifest, type ImageInput } from '../../src/harness/attack-images.js';
import { fixtureModelPath, packageRoot } from '../../src/package-info.js';
import { useTestBackend } from '../helpers/backend.js';
import { runCli } from '../helpers/cli.js';

const MODEL = fixtureModelPath('mnist-cnn');
const IMAGES = path.join(packageRoot(), 'fixtures', 'images');

async function fixtureFiles(): Promise<string[]> {
  return (await readdir(IMAGES)).filter((f) => f.endsWith('.png')).map((f) => path.join(IMAGES, f));
}

/** Every file of a folder with its bytes, for a byte-for-byte comparison of two runs. */
async function contents(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of (await readdir(dir)).sort()) out[f] = (await readFile(path.join(dir, f))).toString('base64');
  return out;
}

const request: AttackImagesRequest = { backend: 'wasm', model: { model: MODEL }, attack: { attack: 'pgd', steps: '3' }, eps: 0.2, seed: 5 };

describe('advtest attack --workers', () => {
  beforeAll(useTestBackend);

  it('writes byte-for-byte the same PNGs and manifest with 1, 2 and 3 workers (PGD, random start)', async () => {
    // 140 images: three batches of 64, so that every worker gets one.
    const inputs = (await fixtureFiles()).flatMap((f) => Array.from({ length: 14 }, () => f));
    const root = await mkdtemp(path.join(tmpdir(), 'advtest-attack-workers-'));
    const runs: Record<string, string>[] = [];
    for (const workers of ['1', '2', '3']) {
      const out = path.join(root, `w${workers}`);
      const r = await runCli('attack', '--model', MODEL, '--images', ...inputs, '--attack', 'pgd', '--steps', '3', '--eps', '0.2', '--seed', '5', '--workers', workers, '--out', out, '--quiet');
      expect(r.code, r.stderr).toBe(0);
      runs.push(await contents(out));
    }
    // Two of the ten digits are misclassified by the model, so not attacked: 14 × 8 PNGs and the manifest.
    expect(Object.keys(runs[0]!)).toHaveLength(14 * 8 + 1);
    expect(runs[1]).toEqual(runs[0]);
    expect(runs[2]).toEqual(runs[0]);
    const manifest = JSON.parse(await readFile(path.join(root, 'w2', 'manifest.json'), 'utf8')) as AttackManifest;
    // Copies of one digit get different random starts (keyed on the example index), so the runs
    // agree only if every worker draws the randomness of the examples it was given.
    const firstTwo = manifest.images.filter((e) => e.source === inputs[0]).slice(0, 2);
    const [a, b] = await Promise.all(firstTwo.map((e) => decodeImage(path.join(root, "w2", e.output!), [28, 28, 1])));
    expect(a).not.toEqual(b);
  }, 180_000);

  it('compute in a worker exactly what this thread computes, and leak no tensors there', async () => {
    const { model, attack } = await materializeAttack(request);
    const pool = new WorkerPool(2, { kind: 'attack', request });
    try {
      const pixels = new Float32Array(8 * 784);
      const files = await fixtureFiles();
      for (let i = 0; i < 8; i++) pixels.set(await decodeImage(files[i]!, [28, 28, 1]), i * 784);
      const batch: AttackBatch = { start: 100, pixels, labels: Int32Array.from([0, 5, 6, 7, 8, 9, 1, 2]), targeted: false };
      const before = tf.memory().numTensors;
      const here = await adversarialBatch(model, attack, request.eps, request.seed, batch);
      expect(tf.memory().numTensors).toBe(before);
      const there = await Promise.all([pool.attack(batch), pool.attack(batch), pool.attack(batch), pool.attack(batch)]);
      for (const t of there) expect(Array.from(t)).toEqual(Array.from(here));
      // A worker that started late may have been given no batch: every batch was counted somewhere,
      // and each worker that ran batches kept the same number of live tensors after each.
      const counts = pool.tensorCounts();
      expect(counts.flat()).toHaveLength(4);
      for (const c of counts.filter((c) => c.length > 0)) expect(new Set(c).size).toBe(1);
    } finally {
      await pool.close();
      model.dispose?.();
    }
  }, 120_000);

  it('fail the run with a clear error when a worker dies, removing the images already written', async () => {
    const files = await fixtureFiles();
    const decoded = await Promise.all(files.map((f) => decodeImage(f, [28, 28, 1])));
    const inputs: ImageInput[] = files.flatMap((source, k) => Array.from({ length: 14 }, () => ({ source, pixels: decoded[k]! })));
    const { model, attack } = await materializeAttack(request);
    const pool = new WorkerPool(2, { kind: 'attack', request });
    const out = path.join(await mkdtemp(path.join(tmpdir(), 'advtest-attack-')), 'adv');
    let calls = 0;
    try {
      const run = attackImages(model, inputs, {
        attack,
        eps: request.eps,
        seed: request.seed,
        outDir: out,
        runner: {
          concurrency: 2,
          run: async (batch) => {
            if (++calls === 3) await pool.crash(1);
            return pool.attack(batch);
          },
        },
      });
      await expect(run).rejects.toThrow(/worker 1 exited unexpectedly/);
      expect(existsSync(out)).toBe(false);
    } finally {
      await pool.close();
      model.dispose?.();
    }
  }, 120_000);

  it('refuses a suite, which would need one image per attack', async () => {
    const out = path.join(await mkdtemp(path.join(tmpdir(), 'advtest-attack-')), 'adv');
    const r = await runCli('attack', '--model', MODEL, '--images', (await fixtureFiles())[0]!, '--attack', 'fgsm,pgd', '--out', out, '--quiet');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--attack "fgsm,pgd": advtest attack writes one adversarial image per input; name one attack/);
  });
});
