import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { divergingColour } from '../../src/report/colormap.js';
import { GRID, gridLayout, renderGridPng } from '../../src/report/grid-png.js';
import type { ExampleImage } from '../../src/report/regenerate.js';
import type { ImageShape } from '../../src/types.js';
import { syntheticExample } from './example-images.js';

interface Decoded {
  width: number;
  height: number;
  at(x: number, y: number): [number, number, number];
}

async function decode(png: Buffer): Promise<Decoded> {
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  const c = info.channels;
  return { width: info.width, height: info.height, at: (x, y) => [data[(y * info.width + x) * c]!, data[(y * info.width + x) * c + 1]!, data[(y * info.width + x) * c + 2]!] };
}

const byte = (v: number) => Math.round(Math.min(1, Math.max(0, v)) * 255);

/** The RGB an image pixel should have in each of the three tiles. */
function expectedColours(ex: ExampleImage): ((p: number) => [number, number, number])[] {
  const [h, w, c] = ex.shape;
  const rgb = (img: Float32Array) => (p: number) => [0, 1, 2].map((k) => byte(img[c === 1 ? p : c * p + k]!)) as [number, number, number];
  const delta = Array.from({ length: h * w }, (_, p) => {
    let s = 0;
    for (let k = 0; k < c; k++) s += ex.adversarial[c * p + k]! - ex.clean[c * p + k]!;
    return s / c;
  });
  const max = Math.max(...delta.map(Math.abs));
  return [rgb(ex.clean), (p) => divergingColour(delta[p]! / max), rgb(ex.adversarial)];
}

/** Every screen pixel of every tile is its image pixel's colour, repeated scale × scale times. */
function expectTiles(img: Decoded, examples: ExampleImage[], shape: ImageShape, scale: number, perRow: number): void {
  const layout = gridLayout(examples.length, shape, { scale, perRow });
  const [h, w] = shape;
  examples.forEach((ex, i) => {
    const colours = expectedColours(ex);
    layout.tiles[i]!.forEach((corner, k) => {
      for (let y = 0; y < h * scale; y++) {
        for (let x = 0; x < w * scale; x++) {
          const p = Math.floor(y / scale) * w + Math.floor(x / scale);
          const got = img.at(corner.x + x, corner.y + y);
          if (got.join() !== colours[k]!(p).join()) {
            throw new Error(`example ${i} tile ${k} pixel (${x}, ${y}): got ${got.join()}, expected ${colours[k]!(p).join()}`);
          }
        }
      }
    });
  });
}

describe('gridLayout', () => {
  it('places three tiles per example, two examples per row', () => {
    const layout = gridLayout(3, [3, 4, 1], { scale: 2, perRow: 2 });
    // Tiles 8×6; panel 3·8 + 2·4 = 32 wide, 16 + 6 + 30 = 52 high.
    expect(layout).toMatchObject({ width: 12 + 32 + 20 + 32 + 12, height: 12 + 18 + 52 + 10 + 52 + 12, tileWidth: 8, tileHeight: 6, scale: 2 });
    expect(layout.tiles).toEqual([
      [{ x: 12, y: 46 }, { x: 24, y: 46 }, { x: 36, y: 46 }],
      [{ x: 64, y: 46 }, { x: 76, y: 46 }, { x: 88, y: 46 }],
      [{ x: 12, y: 108 }, { x: 24, y: 108 }, { x: 36, y: 108 }],
    ]);
  });

  it('enlarges small images to about 112 px by default', () => {
    expect(gridLayout(1, [28, 28, 1]).scale).toBe(4);
    expect(gridLayout(1, [32, 32, 3]).scale).toBe(4);
    expect(gridLayout(1, [224, 224, 3]).scale).toBe(1);
  });
});

describe('renderGridPng', () => {
  it('draws clean | perturbation | adversarial pixel for pixel, on white, with captions', async () => {
    const shape: ImageShape = [3, 4, 1];
    const examples = [0, 1, 2].map((s) => syntheticExample(shape, s));
    const img = await decode(await renderGridPng(examples, { scale: 2, perRow: 2 }));
    const layout = gridLayout(3, shape, { scale: 2, perRow: 2 });
    expect([img.width, img.height]).toEqual([layout.width, layout.height]);
    expectTiles(img, examples, shape, 2, 2);

    const white = (x: number, y: number) => expect(img.at(x, y), `(${x}, ${y})`).toEqual([255, 255, 255]);
    const [clean, , adv] = layout.tiles[0]!;
    for (let y = clean.y; y < clean.y + layout.tileHeight; y++) {
      white(clean.x - 1, y); // left margin
      for (let g = 0; g < GRID.gap; g++) white(clean.x + layout.tileWidth + g, y); // between clean and δ
      white(adv.x + layout.tileWidth, y); // right of the panel, in the gap to the next one
    }
    // The empty fourth panel (3 examples, 2 per row) stays white.
    const emptyX = layout.tiles[1]![0].x;
    const emptyY = layout.tiles[2]![0].y;
    for (let y = emptyY; y < emptyY + layout.tileHeight; y++) for (let x = emptyX; x < layout.width - GRID.margin; x++) white(x, y);

    // Captions are drawn under the tiles: some dark pixels in the caption band of the first example.
    let dark = 0;
    for (let y = clean.y + layout.tileHeight; y < clean.y + layout.tileHeight + GRID.caption; y++) {
      for (let x = clean.x; x < clean.x + 3 * layout.tileWidth; x++) if (img.at(x, y)[0] < 128) dark++;
    }
    expect(dark).toBeGreaterThan(10);
  });

  it('keeps the colours of RGB images', async () => {
    const shape: ImageShape = [2, 2, 3];
    const examples = [syntheticExample(shape, 5)];
    const img = await decode(await renderGridPng(examples, { scale: 3, perRow: 1 }));
    expectTiles(img, examples, shape, 3, 1);
  });

  it('shows positive changes in red and negative ones in blue', () => {
    const [r1, , b1] = divergingColour(1);
    const [r2, , b2] = divergingColour(-1);
    expect(r1).toBeGreaterThan(b1 + 100);
    expect(b2).toBeGreaterThan(r2 + 100);
    expect(Math.min(...divergingColour(0))).toBeGreaterThan(235);
  });

  it('refuses an empty grid', async () => {
    await expect(renderGridPng([])).rejects.toThrow(/no examples/);
  });
});
