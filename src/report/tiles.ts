import type { ImageShape } from '../types.js';
import { divergingColour } from './colormap.js';
import type { ExampleImage } from './regenerate.js';

/** An 8-bit RGB image at its native size. */
export interface RgbTile {
  width: number;
  height: number;
  /** width·height·3 bytes, row-major. */
  data: Uint8Array;
}

const byte = (x: number) => Math.round(Math.min(1, Math.max(0, x)) * 255);

/** A [0, 1] HWC image (1 or 3 channels) as RGB bytes: grey images repeat their one channel. */
export function imageTile(pixels: Float32Array, shape: ImageShape): RgbTile {
  const [h, w, c] = shape;
  const data = new Uint8Array(h * w * 3);
  for (let p = 0; p < h * w; p++) {
    for (let k = 0; k < 3; k++) data[3 * p + k] = byte(pixels[c === 1 ? p : c * p + k]!);
  }
  return { width: w, height: h, data };
}

/**
 * The perturbation δ = adversarial − clean in diverging colours, magnified so that the largest
 * |δ| of this image is full colour (per pixel, the mean over channels; red brightens, blue
 * darkens). Returns the magnification too, so that the caption can say how much.
 */
export function perturbationTile(clean: Float32Array, adversarial: Float32Array, shape: ImageShape): { tile: RgbTile; scale: number } {
  const [h, w, c] = shape;
  const delta = new Float64Array(h * w);
  let max = 0;
  for (let p = 0; p < h * w; p++) {
    let sum = 0;
    for (let k = 0; k < c; k++) sum += adversarial[c * p + k]! - clean[c * p + k]!;
    delta[p] = sum / c;
    max = Math.max(max, Math.abs(delta[p]!));
  }
  const data = new Uint8Array(h * w * 3);
  for (let p = 0; p < h * w; p++) data.set(divergingColour(max === 0 ? 0 : delta[p]! / max), 3 * p);
  return { tile: { width: w, height: h, data }, scale: max === 0 ? 1 : 1 / max };
}

/** The three tiles of a grid row: clean | perturbation | adversarial. */
export function exampleTiles(ex: ExampleImage): { clean: RgbTile; perturbation: RgbTile; adversarial: RgbTile; magnification: number } {
  const { tile, scale } = perturbationTile(ex.clean, ex.adversarial, ex.shape);
  return { clean: imageTile(ex.clean, ex.shape), perturbation: tile, adversarial: imageTile(ex.adversarial, ex.shape), magnification: scale };
}
