import { mkdtemp, readdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeAttack } from '../../attacks/index.js';
import { UserError } from '../../src/errors.js';
import { attackImages, type ImageInput } from '../../src/harness/attack-images.js';
import { autoBatchSize, checkBatchFits, isOutOfMemory, outOfMemoryError, parseBatchSize } from '../../src/harness/batch-size.js';
import type { Classifier } from '../../src/types.js';
import { useTestBackend } from '../helpers/backend.js';

describe('autoBatchSize', () => {
  it('keeps the usual batch sizes for 28×28 digits and shrinks them for photos', () => {
    expect(autoBatchSize([28, 28, 1], 64)).toBe(64);
    expect(autoBatchSize([28, 28, 1], 128)).toBe(128);
    // 3 GiB / (2,400 B × 150,528 values) = 8.9: 8 images of 224×224×3 in flight, ~2.3 GB by the measure.
    expect(autoBatchSize([224, 224, 3], 64)).toBe(8);
    expect(autoBatchSize([96, 96, 3], 64)).toBe(48);
    expect(autoBatchSize([4096, 4096, 3], 64)).toBe(1);
  });

  it('parses auto or a positive integer, and refuses anything else naming the option', () => {
    expect(parseBatchSize('auto', [224, 224, 3], 64)).toBe(8);
    expect(parseBatchSize('12', [224, 224, 3], 64)).toBe(12);
    expect(() => parseBatchSize('0', [28, 28, 1], 64)).toThrow('--batch-size "0" must be auto or a positive integer');
    expect(() => parseBatchSize('many', [28, 28, 1], 64)).toThrow(UserError);
  });
});

describe('checkBatchFits', () => {
  it('refuses a batch whose floor already exceeds the 4 GiB heap, suggesting a size that fits', () => {
    // 64 × 2048·2048·3 values × 16 B = 12.9 GB.
    expect(() => checkBatchFits(64, 100, [2048, 2048, 3])).toThrow(
      '--batch-size 64: a batch of 64 images of 2048×2048×3 needs more than 12.9 GB, more than the 4 GiB wasm heap: use --batch-size 1 or smaller (or --batch-size auto)',
    );
    // Fewer images than the batch size: the batch is only as large as the images.
    expect(() => checkBatchFits(64, 2, [2048, 2048, 3])).not.toThrow();
    expect(() => checkBatchFits(64, 1000, [224, 224, 3])).not.toThrow();
  });
});

describe('out of memory during an attack', () => {
  beforeAll(useTestBackend);

  it('recognises the backends\' out-of-memory errors', () => {
    expect(isOutOfMemory(new RangeError('Invalid typed array length: 4294967296'))).toBe(true);
    expect(isOutOfMemory(new Error('worker 0 failed: RuntimeError: memory access out of bounds'))).toBe(true);
    expect(isOutOfMemory(new Error('Aborted(OOM)'))).toBe(true);
    expect(isOutOfMemory(new TypeError("Cannot read properties of undefined (reading 'dtype')"))).toBe(false);
    expect(outOfMemoryError(16, [224, 224, 3]).message).toBe(
      'a batch of 16 images of 224×224×3 did not fit in memory (the wasm heap holds 4 GiB at most): use --batch-size 8 or smaller',
    );
  });

  it('fails with a UserError naming the batch size, leaves no file and leaks no tensor', async () => {
    const w = tf.variable(tf.tensor2d([[1, -1]]));
    // A model that, like the wasm heap, cannot take more than 2 images at once.
    const model: Classifier = {
      bounds: { lower: 0, upper: 1 },
      inputShape: [4, 4, 1],
      numClasses: 2,
      logits(x) {
        if (x.shape[0] > 2) throw new RangeError('Invalid typed array length: 8589934592');
        return tf.tidy(() => tf.matMul(tf.mean(x, [1, 2]) as tf.Tensor2D, w));
      },
    };
    const inputs: ImageInput[] = Array.from({ length: 6 }, (_, i) => ({ source: `img-${i}.png`, pixels: new Float32Array(16).fill(i / 10) }));
    const dir = await mkdtemp(path.join(tmpdir(), 'advtest-oom-'));
    const before = tf.memory().numTensors;
    const fits = await attackImages(model, inputs, { attack: makeAttack('fgsm'), eps: 0.1, outDir: path.join(dir, 'ok'), batchSize: 2 });
    expect(fits.images).toHaveLength(6);
    expect(tf.memory().numTensors).toBe(before);
    const err = await attackImages(model, inputs, { attack: makeAttack('pgd', { steps: 2 }), eps: 0.1, outDir: path.join(dir, 'too-big'), batchSize: 4 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toBe('a batch of 4 images of 4×4×1 did not fit in memory (the wasm heap holds 4 GiB at most): use --batch-size 2 or smaller');
    expect(tf.memory().numTensors).toBe(before);
    expect(existsSync(path.join(dir, 'too-big'))).toBe(false);
    expect((await readdir(dir)).sort()).toEqual(['ok']);
    w.dispose();
  });
});
