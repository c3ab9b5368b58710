import escapeHtml from 'escape-html';
import { resolveImageCodec } from '../data/image-codec.js';
import { UserError } from '../errors.js';
import type { ImageShape } from '../types.js';
import { exampleCaptions, type ExampleCaptions } from './captions.js';
import type { ExampleImage } from './regenerate.js';
import { exampleTiles, type RgbTile } from './tiles.js';

/** Pixel sizes of the grid; exported so that tests can check the layout against them. */
export const GRID = {
  margin: 12,
  /** Column names above the first row of panels. */
  header: 18,
  /** The example's title line above its tiles. */
  title: 16,
  /** Two caption lines under each tile. */
  caption: 30,
  /** Between the three tiles of a panel. */
  gap: 4,
  /** Between panels side by side, and between rows of panels. */
  panelGap: 20,
  rowGap: 10,
  fontSize: 11,
} as const;

export interface GridOptions {
  /** Pixels per image pixel; default: about 112 px per tile. */
  scale?: number;
  /** Panels (clean | δ | adversarial) side by side; default 2. */
  perRow?: number;
  classNames?: readonly string[];
}

export interface GridLayout {
  width: number;
  height: number;
  scale: number;
  tileWidth: number;
  tileHeight: number;
  /** Per example: the top-left corners of its clean, perturbation and adversarial tiles. */
  tiles: [{ x: number; y: number }, { x: number; y: number }, { x: number; y: number }][];
}

/** Where everything goes for `count` examples of the given shape. */
export function gridLayout(count: number, shape: ImageShape, options: GridOptions = {}): GridLayout {
  const [h, w] = shape;
  const scale = options.scale ?? Math.max(1, Math.round(112 / Math.max(h, w)));
  const perRow = Math.max(1, Math.min(options.perRow ?? 2, Math.max(1, count)));
  const tileWidth = w * scale;
  const tileHeight = h * scale;
  const panelWidth = 3 * tileWidth + 2 * GRID.gap;
  const panelHeight = GRID.title + tileHeight + GRID.caption;
  const rows = Math.max(1, Math.ceil(count / perRow));
  const tiles: GridLayout['tiles'] = Array.from({ length: count }, (_, i) => {
    const x0 = GRID.margin + (i % perRow) * (panelWidth + GRID.panelGap);
    const y = GRID.margin + GRID.header + Math.floor(i / perRow) * (panelHeight + GRID.rowGap) + GRID.title;
    return [0, 1, 2].map((k) => ({ x: x0 + k * (tileWidth + GRID.gap), y })) as GridLayout['tiles'][number];
  });
  return {
    width: 2 * GRID.margin + perRow * panelWidth + (perRow - 1) * GRID.panelGap,
    height: 2 * GRID.margin + GRID.header + rows * panelHeight + (rows - 1) * GRID.rowGap,
    scale,
    tileWidth,
    tileHeight,
    tiles,
  };
}

async function sharpFactory() {
  const codec = await resolveImageCodec(undefined, () => undefined);
  if (!codec.sharp) throw new UserError('image grids are drawn with sharp, which cannot be loaded here: reinstall it (npm install sharp)');
  return codec.sharp;
}

/** A tile enlarged by an integer factor, every image pixel a scale × scale block. */
async function enlarge(tile: RgbTile, scale: number): Promise<Buffer> {
  const sharp = await sharpFactory();
  return sharp(Buffer.from(tile.data), { raw: { width: tile.width, height: tile.height, channels: 3 } })
    .resize(tile.width * scale, tile.height * scale, { kernel: 'nearest' })
    .raw()
    .toBuffer();
}

function text(x: number, y: number, s: string, extra = ''): string {
  return `<text x="${x}" y="${y}"${extra}>${escapeHtml(s)}</text>`;
}

/** Every caption of the grid as one SVG layer, drawn by sharp's librsvg with the system's sans-serif font. */
function captionLayer(layout: GridLayout, captions: ExampleCaptions[], perRow: number): string {
  const parts: string[] = [];
  const baseline = (top: number, height: number) => top + height - 4;
  const th = layout.tileHeight;
  for (let col = 0; col < Math.min(perRow, captions.length); col++) {
    const [a, b, c] = layout.tiles[col]!;
    const y = baseline(GRID.margin, GRID.header);
    parts.push(text(a.x, y, 'clean', ' font-weight="bold"'), text(b.x, y, 'δ (+ red, − blue)', ' font-weight="bold"'), text(c.x, y, 'adversarial', ' font-weight="bold"'));
  }
  captions.forEach((cap, i) => {
    const [a, b, c] = layout.tiles[i]!;
    parts.push(text(a.x, baseline(a.y - GRID.title, GRID.title), cap.title, ' fill="#444"'));
    const y1 = a.y + th + 13;
    const y2 = y1 + 13;
    parts.push(text(a.x, y1, cap.clean));
    parts.push(text(b.x, y1, cap.perturbation, ' fill="#444"'), text(b.x, y2, cap.magnification, ' fill="#777"'));
    parts.push(text(c.x, y1, cap.warning ? `${cap.adversarial} (!)` : cap.adversarial, cap.warning ? ' fill="#b00"' : ''));
    parts.push(text(c.x, y2, cap.fate, cap.fooled ? ' fill="#b3261e"' : ' fill="#2e7d4f"'));
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${layout.width}" height="${layout.height}" font-family="DejaVu Sans, Liberation Sans, Arial, sans-serif" font-size="${GRID.fontSize}" fill="#111">${parts.join('')}</svg>`;
}

/**
 * The image grid as one PNG: per example, clean | perturbation (diverging colours, magnified) |
 * adversarial, with the model's prediction and confidence under each image.
 */
export async function renderGridPng(examples: ExampleImage[], options: GridOptions = {}): Promise<Buffer> {
  if (examples.length === 0) throw new UserError('no examples to draw: no clean-correct example was attacked at an ε above 0');
  const shape = examples[0]!.shape;
  const layout = gridLayout(examples.length, shape, options);
  const perRow = Math.max(1, Math.min(options.perRow ?? 2, examples.length));
  const layers: { input: Buffer; left: number; top: number; raw?: { width: number; height: number; channels: 3 } }[] = [];
  const captions: ExampleCaptions[] = [];
  for (const [i, ex] of examples.entries()) {
    const tiles = exampleTiles(ex);
    captions.push(exampleCaptions(ex, tiles.magnification, options.classNames));
    const raw = { width: layout.tileWidth, height: layout.tileHeight, channels: 3 as const };
    for (const [k, tile] of [tiles.clean, tiles.perturbation, tiles.adversarial].entries()) {
      const at = layout.tiles[i]![k]!;
      layers.push({ input: await enlarge(tile, layout.scale), raw, left: at.x, top: at.y });
    }
  }
  layers.push({ input: Buffer.from(captionLayer(layout, captions, perRow)), left: 0, top: 0 });
  const sharp = await sharpFactory();
  return sharp({ create: { width: layout.width, height: layout.height, channels: 3, background: { r: 255, g: 255, b: 255 } } })
    .composite(layers)
    .png({ compressionLevel: 9 })
    .toBuffer();
}
