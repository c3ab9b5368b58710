import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import type { ImageShape } from '../../src/types.js';
import { imageAt } from '../../src/data/dataset.js';
import { labelFromFileName } from '../../src/data/file-names.js';
import {
  decodeImage,
  decodeImageWith,
  encodePng,
  encodePngWith,
  imageCodecName,
  quantize8Pixels,
  resolveImageCodec,
  type ImageCodecName,
} from '../../src/data/image-codec.js';
import { loadMnist } from '../../src/data/mnist.js';

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'images');
const fixtureFiles = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.png'))
  .sort();
const CODECS: ImageCodecName[] = ['sharp', 'jimp'];

/** Deterministic pseudo-random floats, some outside [0, 1] to exercise clamping. */
function noise(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    out[i] = (s / 2 ** 31) * 1.2 - 0.1;
  }
  return out;
}

describe('fixture images', () => {
  it('are the ten MNIST test digits, one per class', () => {
    expect(fixtureFiles.length).toBe(10);
    expect(fixtureFiles.map((f) => labelFromFileName(f)).sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('decode to identical pixels with sharp and jimp', async () => {
    for (const file of fixtureFiles) {
      const path = join(FIXTURES, file);
      const bySharp = await decodeImageWith('sharp', path, [28, 28, 1]);
      const byJimp = await decodeImageWith('jimp', path, [28, 28, 1]);
      expect(bySharp.length).toBe(784);
      expect(Array.from(byJimp)).toEqual(Array.from(bySharp));
      const rgbSharp = await decodeImageWith('sharp', readFileSync(path), [28, 28, 3]);
      const rgbJimp = await decodeImageWith('jimp', readFileSync(path), [28, 28, 3]);
      expect(Array.from(rgbJimp)).toEqual(Array.from(rgbSharp));
    }
  });

  it('hold quantize8Pixels of the MNIST test example named in the file', async () => {
    const test = loadMnist('test');
    for (const file of fixtureFiles) {
      const index = Number(/^mnist-test-(\d+)-/.exec(file)?.[1]);
      expect(test.labels[index]).toBe(labelFromFileName(file));
      const decoded = await decodeImage(join(FIXTURES, file), [28, 28, 1]);
      expect(Array.from(decoded)).toEqual(Array.from(quantize8Pixels(imageAt(test, index))));
    }
  });
});

describe('encodePng → decode', () => {
  const shapes: ImageShape[] = [
    [5, 7, 1],
    [6, 4, 3],
  ];
  for (const encoder of CODECS) {
    for (const decoder of CODECS) {
      for (const shape of shapes) {
        it(`round-trips to quantize8Pixels (encode ${encoder}, decode ${decoder}, ${shape.join('×')})`, async () => {
          const pixels = noise(shape[0] * shape[1] * shape[2], shape[2] * 7 + 1);
          const png = await encodePngWith(encoder, pixels, shape);
          expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
          const decoded = await decodeImageWith(decoder, png, shape);
          expect(Array.from(decoded)).toEqual(Array.from(quantize8Pixels(pixels)));
        });
      }
    }
  }

  it('takes Uint8Array pixels as bytes', async () => {
    const bytes = Uint8Array.from([0, 1, 127, 128, 254, 255]);
    const decoded = await decodeImage(await encodePng(bytes, [2, 3, 1]), [2, 3, 1]);
    expect(Array.from(decoded, (v) => Math.round(v * 255))).toEqual(Array.from(bytes));
  });

  it('flattens alpha onto black when asked', async () => {
    for (const codec of CODECS) {
      const rgba = Uint8Array.from([200, 100, 50, 128, 255, 255, 255, 0]);
      const png = await encodePngWith(codec, rgba, [1, 2, 4]);
      const decoded = await decodeImageWith(codec, png, [1, 2, 3], { background: [0, 0, 0] });
      expect(Array.from(decoded, (v) => Math.round(v * 255))).toEqual([100, 50, 25, 0, 0, 0]);
    }
  });

  it('flattens alpha onto white by default, and onto any --background colour', async () => {
    for (const codec of CODECS) {
      const rgba = Uint8Array.from([200, 100, 50, 128, 255, 255, 255, 0]);
      const png = await encodePngWith(codec, rgba, [1, 2, 4]);
      // round((v·128 + 255·127)/255): 200 → 227, 100 → 177, 50 → 152; the transparent pixel is the background.
      const white = await decodeImageWith(codec, png, [1, 2, 3]);
      expect(Array.from(white, (v) => Math.round(v * 255))).toEqual([227, 177, 152, 255, 255, 255]);
      const teal = await decodeImageWith(codec, png, [1, 2, 3], { background: [0, 128, 128] });
      // 200·128/255 = 100.4 → 100; (100·128 + 128·127)/255 = 113.9 → 114; (50·128 + 128·127)/255 = 88.8 → 89.
      expect(Array.from(teal, (v) => Math.round(v * 255))).toEqual([100, 114, 89, 0, 128, 128]);
    }
  });

  it('rejects a pixel count that does not match the shape', async () => {
    await expect(encodePng(new Float32Array(5), [2, 3, 1])).rejects.toThrow(RangeError);
  });
});

describe('quantize8Pixels', () => {
  it('rounds to the nearest 8-bit level and clamps', () => {
    const q = quantize8Pixels(Float32Array.from([0, 1, 0.5, 0.1, -0.2, 1.3, 1 / 510 - 1e-4]));
    expect(Array.from(q)).toEqual(Array.from(Float32Array.from([0, 1, 128 / 255, 26 / 255, 0, 1, 0])));
  });

  it('is idempotent', () => {
    const q = quantize8Pixels(noise(1000, 3));
    expect(Array.from(quantize8Pixels(q))).toEqual(Array.from(q));
  });
});

describe('decode errors', () => {
  it('names a missing file', async () => {
    await expect(decodeImage('/nonexistent/x.png', [2, 2, 1])).rejects.toThrow(UserError);
    await expect(decodeImage('/nonexistent/x.png', [2, 2, 1])).rejects.toThrow('cannot read image /nonexistent/x.png: no such file');
  });

  it('names the decoder for undecodable bytes', async () => {
    for (const codec of CODECS) {
      await expect(decodeImageWith(codec, Buffer.from('garbage'), [2, 2, 1])).rejects.toThrow(
        new RegExp(`cannot decode image <buffer of 7 bytes> with ${codec}: `),
      );
    }
  });
});

describe('codec selection', () => {
  it('uses sharp when it loads', async () => {
    expect(await imageCodecName()).toBe('sharp');
  });

  it('falls back to jimp with one stderr line when sharp cannot be loaded', async () => {
    const lines: string[] = [];
    const resolved = await resolveImageCodec(
      () => Promise.reject(new Error('Could not load the "sharp" module\nPossible solutions: ...')),
      (line) => lines.push(line),
    );
    expect(resolved).toEqual({ name: 'jimp' });
    expect(lines).toEqual(['advtest: sharp could not be loaded (Could not load the "sharp" module); using jimp (pure JS) for images instead']);
  });
});
