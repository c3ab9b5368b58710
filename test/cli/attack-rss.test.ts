/**
 * Opt-in (ADVTEST_RSS=1; about a minute on 2 cores): `advtest attack`'s memory over 100 photos
 * stays flat. RSS is sampled after every batch; the slope of a least-squares line through the
 * samples after the first few batches (allocator warm-up) must stay under 2 MB per batch, i.e.
 * nothing a batch allocates survives it. Prints the peak RSS.
 */
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { makeAttack } from '../../attacks/index.js';
import { decodeImageDetailed } from '../../src/data/image-codec.js';
import { adversarialBatch } from '../../src/harness/adversarial-batch.js';
import { attackImages, type ImageInput } from '../../src/harness/attack-images.js';
import { autoBatchSize } from '../../src/harness/batch-size.js';
import { loadModel } from '../../src/model/store.js';
import { fixtureModelPath } from '../../src/package-info.js';
import { useTestBackend } from '../helpers/backend.js';

const PHOTOS = 100;

function slope(ys: number[]): number {
  const n = ys.length;
  const mx = (n - 1) / 2;
  const my = ys.reduce((s, y) => s + y, 0) / n;
  let num = 0;
  let den = 0;
  ys.forEach((y, x) => {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  });
  return num / den;
}

describe.skipIf(!process.env.ADVTEST_RSS || !existsSync(fixtureModelPath('mobilenet-tiny')))('advtest attack memory over 100 photos (opt-in, skipped unless ADVTEST_RSS=1: about a minute, too long for npm test)', () => {
  it('keeps RSS flat from batch to batch', async () => {
    await useTestBackend();
    const model = await loadModel(fixtureModelPath('mobilenet-tiny'));
    const dir = await mkdtemp(path.join(tmpdir(), 'advtest-rss-'));
    const inputs: ImageInput[] = [];
    for (let i = 0; i < PHOTOS; i++) {
      // 320×240 "photos" of smooth noise, cropped and resized like real ones.
      const bytes = Buffer.alloc(40 * 30 * 3);
      for (let j = 0; j < bytes.length; j++) bytes[j] = (j * 37 + i * 101) % 251;
      const png = await sharp(bytes, { raw: { width: 40, height: 30, channels: 3 } }).resize(320, 240, { kernel: 'linear' }).png().toBuffer();
      const { pixels, record } = await decodeImageDetailed(png, model.inputShape);
      inputs.push({ source: `photo-${i}.png`, pixels, decoded: record });
    }
    const attack = makeAttack('pgd', { steps: 5 });
    const rss: number[] = [];
    const tensors: number[] = [];
    const batchSize = autoBatchSize(model.inputShape, 64) > 8 ? 8 : autoBatchSize(model.inputShape, 64);
    await attackImages(model, inputs, {
      attack,
      eps: 8 / 255,
      outDir: path.join(dir, 'adv'),
      batchSize,
      runner: {
        concurrency: 1,
        run: async (b) => {
          const out = await adversarialBatch(model, attack, 8 / 255, 0, b);
          rss.push(process.memoryUsage().rss / 1e6);
          tensors.push(tf.memory().numTensors);
          return out;
        },
      },
    });
    const steady = rss.slice(3);
    const peak = Math.max(...rss);
    console.log(`attack RSS over ${PHOTOS} photos at ${model.inputShape.join('×')}, batch ${batchSize}: ${rss.length} batches, first ${rss[0]!.toFixed(0)} MB, peak ${peak.toFixed(0)} MB, last ${rss.at(-1)!.toFixed(0)} MB, slope ${slope(steady).toFixed(2)} MB/batch`);
    expect(new Set(tensors).size).toBe(1);
    expect(slope(steady)).toBeLessThan(2);
    model.dispose?.();
  }, 300_000);
});
