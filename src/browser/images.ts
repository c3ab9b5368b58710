import * as tf from '@tensorflow/tfjs';
import { UserError } from '../errors.js';
import { rgbaToPixels } from '../data/pixels.js';
import type { ImageShape } from '../types.js';

/**
 * What a page can hand over as an image: ImageData, ImageBitmap, <img>, <canvas>, <video> — tfjs's
 * own type, which resolves where the DOM library is loaded (this project's TypeScript has none).
 */
export type PixelSource = Parameters<typeof tf.browser.fromPixels>[0];

/**
 * One image as a [1, h, w, c] batch of [0, 1] pixels for a model taking `shape`, converted as the
 * CLI's decoder does (alpha flattened onto white, BT.601 luma for one channel, k/255 — the same
 * function, src/data/pixels.ts), so a file gives the same pixels in a page as in Node. A size other
 * than the model's is refused unless `resize` (bilinear here; sharp's resampling in Node differs).
 */
export function imageToTensor(source: PixelSource, shape: ImageShape, options: { resize?: boolean } = {}): tf.Tensor4D {
  const [h, w, c] = shape;
  if (c !== 1 && c !== 3) throw new UserError(`the model takes ${c} channels: images in a page can feed 1 (grey) or 3 (RGB)`);
  const rgba = tf.tidy(() => {
    const raw = tf.browser.fromPixels(source, 4);
    if (raw.shape[0] === h && raw.shape[1] === w) return raw;
    if (!options.resize) throw new UserError(`image is ${raw.shape[1]}×${raw.shape[0]} but the model takes ${w}×${h}: resize it, or pass { resize: true }`);
    return tf.clipByValue(tf.round(tf.image.resizeBilinear(raw.toFloat() as tf.Tensor3D, [h, w], true)), 0, 255);
  });
  const bytes = Uint8Array.from(rgba.dataSync());
  rgba.dispose();
  return tf.tensor4d(rgbaToPixels(bytes, h * w, c, [255, 255, 255]), [1, h, w, c]);
}

/** A batch of images (each as imageToTensor) stacked along the first axis. */
export function imagesToBatch(sources: readonly PixelSource[], shape: ImageShape, options: { resize?: boolean } = {}): tf.Tensor4D {
  if (sources.length === 0) throw new UserError('no images given: pass at least one');
  const parts = sources.map((s) => imageToTensor(s, shape, options));
  const out = tf.concat(parts, 0);
  tf.dispose(parts);
  return out;
}

/**
 * An example as 8-bit RGBA ImageData-ready bytes (grey replicated), e.g. for a canvas and a PNG
 * download. `x` is [1, h, w, c] in [0, 1] and should already be on the 8-bit grid
 * (quantize8WithinBudget), so that rounding here changes nothing.
 */
export async function toRgba(x: tf.Tensor4D): Promise<{ data: Uint8ClampedArray; width: number; height: number }> {
  const [, height, width, c] = x.shape;
  const rgb = tf.tidy(() => {
    const img = x.squeeze([0]) as tf.Tensor3D;
    const three = c === 1 ? tf.tile(img, [1, 1, 3]) : img;
    return tf.round(tf.mul(three, 255));
  });
  const v = await rgb.data();
  rgb.dispose();
  const data = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    data[4 * i] = v[3 * i]!;
    data[4 * i + 1] = v[3 * i + 1]!;
    data[4 * i + 2] = v[3 * i + 2]!;
    data[4 * i + 3] = 255;
  }
  return { data, width, height };
}
