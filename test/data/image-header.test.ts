import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeImageWith, MAX_IMAGE_PIXELS } from '../../src/data/image-codec.js';
import { imageDimensions } from '../../src/data/image-header.js';
import { UserError } from '../../src/errors.js';

const noise = { width: 7, height: 5, channels: 3 as const, background: { r: 0, g: 0, b: 0 }, noise: { type: 'gaussian' as const, mean: 128, sigma: 30 } };

/** A 24-bit BMP (BITMAPINFOHEADER); negative height = rows top-down. sharp cannot write BMP. */
function bmp(width: number, height: number): Buffer {
  const row = Math.ceil((width * 3) / 4) * 4;
  const b = Buffer.alloc(54 + row * Math.abs(height));
  b.write('BM', 0, 'latin1');
  b.writeUInt32LE(b.length, 2);
  b.writeUInt32LE(54, 10);
  b.writeUInt32LE(40, 14);
  b.writeInt32LE(width, 18);
  b.writeInt32LE(height, 22);
  b.writeUInt16LE(1, 26);
  b.writeUInt16LE(24, 28);
  return b;
}

/** Just a big-endian TIFF header with width (SHORT) and height (LONG): sharp writes little-endian only. */
function bigEndianTiffHeader(width: number, height: number): Buffer {
  const b = Buffer.alloc(8 + 2 + 2 * 12 + 4);
  b.write('MM', 0, 'latin1');
  b.writeUInt16BE(42, 2);
  b.writeUInt32BE(8, 4);
  b.writeUInt16BE(2, 8);
  const entries: [number, number, number][] = [[256, 3, width], [257, 4, height]];
  entries.forEach(([tag, type, value], k) => {
    const at = 10 + 12 * k;
    b.writeUInt16BE(tag, at);
    b.writeUInt16BE(type, at + 2);
    b.writeUInt32BE(1, at + 4);
    if (type === 3) b.writeUInt16BE(value, at + 8);
    else b.writeUInt32BE(value, at + 8);
  });
  return b;
}

describe('imageDimensions', () => {
  it('reads width and height from PNG, JPEG, GIF, TIFF (both byte orders) and BMP headers', async () => {
    const image = sharp({ create: noise });
    for (const bytes of [
      await image.clone().png().toBuffer(),
      await image.clone().jpeg().toBuffer(),
      await image.clone().jpeg({ progressive: true }).toBuffer(),
      await image.clone().gif().toBuffer(),
      await image.clone().tiff().toBuffer(),
      bigEndianTiffHeader(7, 5),
      bmp(7, 5),
      bmp(7, -5),
    ]) {
      expect(imageDimensions(bytes)).toEqual({ width: 7, height: 5 });
    }
  });

  it('gives undefined for other formats and for headers cut short', async () => {
    const png = await sharp({ create: noise }).png().toBuffer();
    const jpeg = await sharp({ create: noise }).jpeg().toBuffer();
    expect(imageDimensions(Buffer.from('not an image'))).toBeUndefined();
    expect(imageDimensions(await sharp({ create: noise }).webp().toBuffer())).toBeUndefined();
    expect(imageDimensions(png.subarray(0, 20))).toBeUndefined();
    expect(imageDimensions(jpeg.subarray(0, 30))).toBeUndefined();
    expect(imageDimensions(new Uint8Array(0))).toBeUndefined();
  });
});

describe('jimp refuses huge images from the header', () => {
  it('a GIF and a BMP declaring more than MAX_IMAGE_PIXELS, before decoding', async () => {
    const gif = Buffer.from(await sharp({ create: noise }).gif().toBuffer());
    gif.writeUInt16LE(65535, 6);
    gif.writeUInt16LE(65535, 8);
    const big = bmp(1, 1);
    big.writeInt32LE(30000, 18);
    big.writeInt32LE(30000, 22);
    expect(65535 * 65535).toBeGreaterThan(MAX_IMAGE_PIXELS);
    for (const bytes of [gif, big]) {
      const err = await decodeImageWith('jimp', bytes, [28, 28, 1]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UserError);
      expect((err as Error).message).toMatch(/pixels, more than the 67,108,864 advtest decodes/);
    }
  });
});
