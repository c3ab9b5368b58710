import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeImage, decodeImageDetailed, decodeImageDetailedWith, parseBackground, type ImageCodecName } from '../../src/data/image-codec.js';
import { UserError } from '../../src/errors.js';

const CODECS: ImageCodecName[] = ['sharp', 'jimp'];
const tempDirs: string[] = [];
afterAll(() => tempDirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A 30×10 RGB PNG of three 10-pixel vertical stripes: red | green | blue. */
function stripes(): Promise<Buffer> {
  const bytes = new Uint8Array(10 * 30 * 3);
  for (let y = 0; y < 10; y++) for (let x = 0; x < 30; x++) bytes[(y * 30 + x) * 3 + Math.floor(x / 10)] = 255;
  return sharp(Buffer.from(bytes), { raw: { width: 30, height: 10, channels: 3 } }).png().toBuffer();
}

const bytesOf = (pixels: Float32Array): number[] => Array.from(pixels, (v) => Math.round(v * 255));
const pixelAt = (pixels: Float32Array, w: number, x: number, y: number): number[] => bytesOf(pixels.subarray((y * w + x) * 3, (y * w + x) * 3 + 3));

describe('resize modes', () => {
  for (const codec of CODECS) {
    it(`cover crops the centre, contain letterboxes with the background, stretch squashes (${codec})`, async () => {
      const png = await stripes();
      const cover = await decodeImageDetailedWith(codec, png, [10, 10, 3], { resize: 'cover' });
      // The centre 10×10 of the 30×10 image is the green stripe, untouched.
      for (let p = 0; p < 100; p++) expect(bytesOf(cover.pixels.subarray(3 * p, 3 * p + 3))).toEqual([0, 255, 0]);
      expect(cover.record).toMatchObject({ resize: 'cover', original: { width: 30, height: 10, channels: 3, hasAlpha: false, format: 'png' }, colour: 'RGB', blank: false });

      const contain = await decodeImageDetailedWith(codec, png, [10, 10, 3], { resize: 'contain', background: [255, 0, 255] });
      // Scaled to 10×3 (or 10×4) in the middle rows; the rows above and below are the background.
      expect(pixelAt(contain.pixels, 10, 5, 0)).toEqual([255, 0, 255]);
      expect(pixelAt(contain.pixels, 10, 5, 9)).toEqual([255, 0, 255]);
      expect(pixelAt(contain.pixels, 10, 0, 5)[0]).toBeGreaterThan(200); // red on the left
      expect(pixelAt(contain.pixels, 10, 9, 5)[2]).toBeGreaterThan(200); // blue on the right
      expect(contain.record.background).toBe('#ff00ff');

      const stretch = await decodeImageDetailedWith(codec, png, [10, 10, 3], { resize: 'stretch' });
      // All three stripes, each about 3.3 pixels wide, on every row.
      expect(pixelAt(stretch.pixels, 10, 0, 0)[0]).toBeGreaterThan(200);
      expect(pixelAt(stretch.pixels, 10, 5, 9)[1]).toBeGreaterThan(200);
      expect(pixelAt(stretch.pixels, 10, 9, 9)[2]).toBeGreaterThan(200);
      expect(stretch.record.resize).toBe('stretch');
    });
  }

  it('defaults to cover and bilinear, and records that nothing was resized for an image of the right size', async () => {
    const png = await stripes();
    expect((await decodeImageDetailed(png, [10, 10, 3])).record).toMatchObject({ resize: 'cover', resample: 'bilinear', background: '#ffffff' });
    expect((await decodeImageDetailed(png, [10, 30, 3])).record).toMatchObject({ resize: 'none', resample: 'none' });
  });

  it('uses the kernel named: nearest repeats pixels, bilinear blends them', async () => {
    const png = await sharp(Buffer.from([0, 255]), { raw: { width: 2, height: 1, channels: 1 } }).png().toBuffer();
    const nearest = await decodeImageDetailedWith('sharp', png, [1, 8, 1], { resize: 'stretch', resample: 'nearest' });
    expect(bytesOf(nearest.pixels)).toEqual([0, 0, 0, 0, 255, 255, 255, 255]);
    const bilinear = await decodeImageDetailedWith('sharp', png, [1, 8, 1], { resize: 'stretch', resample: 'bilinear' });
    expect(bytesOf(bilinear.pixels).filter((v) => v > 0 && v < 255).length).toBeGreaterThan(0);
    expect(bilinear.record.resample).toBe('bilinear');
    // jimp has no Lanczos: it says which kernel it used instead.
    expect((await decodeImageDetailedWith('jimp', png, [1, 8, 1], { resample: 'lanczos3' })).record.resample).toBe('bicubic (jimp has no lanczos3)');
  });

  it('records the size as displayed after the EXIF orientation, and the colour conversion', async () => {
    const jpeg = await sharp(await stripes()).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const { record } = await decodeImageDetailed(jpeg, [8, 8, 1]);
    expect(record.original).toMatchObject({ format: 'jpeg', width: 10, height: 30, channels: 3 });
    expect(record.colour).toMatch(/^RGB→grey \(ITU-R BT\.601 luma/);
    const grey = await sharp(Buffer.from(new Uint8Array(16).fill(9)), { raw: { width: 4, height: 4, channels: 1 } }).toColourspace('b-w').png().toBuffer();
    const rgb = await decodeImageDetailed(grey, [4, 4, 3]);
    expect(rgb.record.colour).toBe('grey→RGB (value copied to R, G, B)');
    expect(rgb.record.original.channels).toBe(1);
  });

  it('flags an image that is one flat colour after flattening (dark strokes on transparency, onto black)', async () => {
    // Black strokes (alpha 255) on a transparent black background.
    const rgba = new Uint8Array(8 * 8 * 4);
    for (let p = 0; p < 64; p++) rgba[4 * p + 3] = p % 9 === 0 ? 255 : 0;
    const png = await sharp(Buffer.from(rgba), { raw: { width: 8, height: 8, channels: 4 } }).png().toBuffer();
    for (const codec of CODECS) {
      expect((await decodeImageDetailedWith(codec, png, [8, 8, 1], { background: [0, 0, 0] })).record.blank).toBe(true);
      const onWhite = await decodeImageDetailedWith(codec, png, [8, 8, 1]);
      expect(onWhite.record).toMatchObject({ blank: false, original: { hasAlpha: true } });
    }
  });
});

describe('parseBackground', () => {
  it('reads #rrggbb, #rgb, white and black, and refuses anything else naming it', () => {
    expect(parseBackground('#ff8000')).toEqual([255, 128, 0]);
    expect(parseBackground('#f80')).toEqual([255, 136, 0]);
    expect(parseBackground('white')).toEqual([255, 255, 255]);
    expect(parseBackground('BLACK')).toEqual([0, 0, 0]);
    expect(() => parseBackground('pink')).toThrow(UserError);
    expect(() => parseBackground('pink')).toThrow('--background "pink" is not a colour');
  });
});

describe.skipIf(process.platform === 'win32')('inputs that are not regular files (skipped on Windows, which has no mkfifo)', () => {
  it('refuses a FIFO at once instead of blocking on it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'advtest-fifo-'));
    tempDirs.push(dir);
    const fifo = join(dir, 'fifo.png');
    execFileSync('mkfifo', [fifo]);
    await expect(decodeImage(fifo, [2, 2, 1])).rejects.toThrow(UserError);
    await expect(decodeImage(fifo, [2, 2, 1])).rejects.toThrow(`image ${fifo} is a FIFO (named pipe), not a regular file: pass image files`);
  });
});
