import * as tf from '@tensorflow/tfjs';
import { resolveImageCodec } from '../src/data/image-codec.js';
import { UserError } from '../src/errors.js';
import { withInputTransform, type InputTransform, type TransformedClassifier } from '../src/model/input-transform.js';
import type { Classifier } from '../src/types.js';

/**
 * JPEG re-encoding as a defense (Dziugaite, Ghahramani & Roy 2016, arXiv:1608.00853; Das et al.
 * 2017; broken by BPDA in Athalye, Carlini & Wagner 2018, arXiv:1802.00420, §5.4). Each image is
 * rounded to 8 bits, encoded at quality q, decoded, and scaled back to [0, 1].
 *
 * Two implementations, because a classifier's logits are synchronous and sharp is not:
 * - the synchronous path (the transform's apply, used by logits and by BPDA's forward pass) is
 *   baseline JPEG's lossy part written in tensor ops for the whole batch: 8×8 DCT-II, division by
 *   the IJG-scaled Annex K tables, rounding, and back (the entropy coding it leaves out is
 *   lossless). A pure-JS codec (jpeg-js) rebuilds its tables on every call, ~18 ms per 28×28
 *   image: far too slow for an attack's forward passes;
 * - the model's query, which the harness judges with, runs sharp (libvips/libjpeg-turbo), the
 *   codec a deployment would use.
 * On grey digits the two give the same pixels to within rounding (test/defenses/jpeg.test.ts).
 * Colour is converted to YCbCr with 4:2:0 chroma (sharp's default): averaged over 2×2 blocks,
 * interpolated back with libjpeg's triangle filter.
 * Encoding has no useful gradient: the synchronous path reports a zero gradient, as rounding
 * would, so plain gradient attacks fail on it (and the sanity checks say so); attack with BPDA.
 */

/** ITU-T T.81 Annex K, tables K.1 (luminance) and K.2 (chrominance), in row order. */
const LUMA_TABLE = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55,
  64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];
const CHROMA_TABLE = [
  17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99, ...Array<number>(32).fill(99),
];

/** libjpeg's jpeg_quality_scaling and jpeg_add_quant_table (baseline: entries in 1..255). */
export function quantTable(base: readonly number[], quality: number): number[] {
  const scale = quality < 50 ? Math.floor(5000 / quality) : 200 - quality * 2;
  return base.map((v) => Math.min(255, Math.max(1, Math.floor((v * scale + 50) / 100))));
}

/** The orthonormal 8×8 DCT-II matrix; JPEG's FDCT is D·B·Dᵀ with it. */
const DCT = Array.from({ length: 8 }, (_, u) => Array.from({ length: 8 }, (_, x) => (u === 0 ? Math.sqrt(1 / 8) : Math.sqrt(2 / 8)) * Math.cos(((2 * x + 1) * u * Math.PI) / 16)));

/** Repeats the last row and column so that the plane's sides are multiples of `block` (libjpeg's edge padding). */
function padToBlocks(plane: tf.Tensor4D, block: number): tf.Tensor4D {
  const [, h, w] = plane.shape;
  const ph = (block - (h % block)) % block;
  const pw = (block - (w % block)) % block;
  let out = plane;
  if (ph > 0) out = tf.concat([out, tf.tile(tf.slice(out, [0, h - 1, 0, 0], [-1, 1, -1, -1]), [1, ph, 1, 1])], 1);
  if (pw > 0) out = tf.concat([out, tf.tile(tf.slice(out, [0, 0, w - 1, 0], [-1, -1, 1, -1]), [1, 1, pw, 1])], 2);
  return out;
}

/** DCT, quantisation and the way back for one channel plane [n, h, w, 1] of 8-bit values; h, w multiples of 8. */
function quantizePlane(plane: tf.Tensor4D, table: number[]): tf.Tensor4D {
  const [n, h, w] = plane.shape;
  const d = tf.tensor2d(DCT);
  const q = tf.tensor2d(table, [8, 8]);
  // [n, h/8, 8, w/8, 8] → blocks [m, 8, 8]
  const blocks = tf.reshape(tf.transpose(tf.reshape(tf.sub(plane, 128), [n, h / 8, 8, w / 8, 8]), [0, 1, 3, 2, 4]), [-1, 8, 8]);
  const m = blocks.shape[0];
  // D·B·Dᵀ, as two row transforms with a transpose between them.
  const rowsThenCols = (b: tf.Tensor, mat: tf.Tensor2D) => {
    const once = tf.reshape(tf.matMul(tf.reshape(b, [m * 8, 8]), mat, false, true), [m, 8, 8]);
    return tf.transpose(tf.reshape(tf.matMul(tf.reshape(tf.transpose(once, [0, 2, 1]), [m * 8, 8]), mat, false, true), [m, 8, 8]), [0, 2, 1]);
  };
  const coefficients = rowsThenCols(blocks, d);
  const dequantized = tf.mul(tf.round(tf.div(coefficients, q)), q);
  // The inverse of an orthonormal transform is its transpose: Dᵀ·F·D.
  const back = rowsThenCols(dequantized, tf.transpose(d) as tf.Tensor2D);
  return tf.reshape(tf.transpose(tf.reshape(tf.add(back, 128), [n, h / 8, w / 8, 8, 8]), [0, 1, 3, 2, 4]), [n, h, w, 1]);
}

/** One plane through the codec: padded to whole blocks (or 2×2 blocks of them when subsampled), cropped back. */
function codecPlane(plane: tf.Tensor4D, table: number[], subsample: boolean): tf.Tensor4D {
  const [n, h, w] = plane.shape;
  if (!subsample) return tf.slice(quantizePlane(padToBlocks(plane, 8), table), [0, 0, 0, 0], [n, h, w, 1]);
  const padded = padToBlocks(plane, 16);
  const small = quantizePlane(tf.avgPool(padded, 2, 2, 'valid'), table);
  // libjpeg's "fancy" h2v2 upsampling is the triangle filter 9/16, 3/16, 3/16, 1/16: bilinear with half-pixel centres.
  const big = tf.image.resizeBilinear(small, [padded.shape[1], padded.shape[2]], false, true);
  return tf.slice(big, [0, 0, 0, 0], [n, h, w, 1]);
}

/** Baseline JPEG's lossy steps on a batch of [0, 1] images (1 or 3 channels); the result is 8-bit levels / 255. */
export function jpegSimulation(x: tf.Tensor4D, quality: number): tf.Tensor4D {
  const c = x.shape[3];
  if (c !== 1 && c !== 3) throw new UserError(`JPEG re-encoding needs grey or RGB images, got ${c} channels`);
  return tf.tidy(() => {
    const bytes = tf.round(tf.mul(tf.clipByValue(x, 0, 1), 255)) as tf.Tensor4D;
    const luma = quantTable(LUMA_TABLE, quality);
    const finish = (t: tf.Tensor) => tf.div(tf.clipByValue(tf.round(t), 0, 255), 255) as tf.Tensor4D;
    if (c === 1) return finish(codecPlane(bytes, luma, false));
    const chroma = quantTable(CHROMA_TABLE, quality);
    const [r, g, b] = tf.split(bytes, 3, 3) as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
    const mix = (kr: number, kg: number, kb: number, offset: number) => tf.round(tf.add(tf.addN([tf.mul(r, kr), tf.mul(g, kg), tf.mul(b, kb)]), offset)) as tf.Tensor4D;
    const y = codecPlane(mix(0.299, 0.587, 0.114, 0), luma, false);
    const cb = tf.sub(codecPlane(mix(-0.168736, -0.331264, 0.5, 128), chroma, true), 128);
    const cr = tf.sub(codecPlane(mix(0.5, -0.418688, -0.081312, 128), chroma, true), 128);
    return finish(
      tf.concat([tf.add(y, tf.mul(cr, 1.402)), tf.sub(tf.sub(y, tf.mul(cb, 0.344136)), tf.mul(cr, 0.714136)), tf.add(y, tf.mul(cb, 1.772))], 3),
    );
  });
}

/** Quantises a slice of [0, 1] values to bytes. */
function toBytes(values: Float32Array | Int32Array | Uint8Array, offset: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = Math.max(0, Math.min(255, Math.round(values[offset + i]! * 255)));
  return out;
}

/** One image (HWC bytes, 1 or 3 channels) through sharp at quality q. */
export async function sharpRoundTrip(bytes: Uint8Array, height: number, width: number, channels: number, quality: number): Promise<Uint8Array> {
  const codec = await resolveImageCodec(undefined, () => undefined);
  if (!codec.sharp) throw new UserError('JPEG re-encoding runs through sharp, which cannot be loaded here: reinstall it (npm install sharp)');
  const sharp = codec.sharp;
  const encoded = await sharp(Buffer.from(bytes), { raw: { width, height, channels: channels as 1 | 3 } }).jpeg({ quality }).toBuffer();
  const { data, info } = await sharp(encoded).raw().toBuffer({ resolveWithObject: true });
  if (info.channels === channels) return new Uint8Array(data.buffer, data.byteOffset, data.length);
  // sharp may hand a grey JPEG back as RGB (equal channels), or colour as grey: take what is asked.
  const out = new Uint8Array(height * width * channels);
  for (let p = 0; p < height * width; p++) {
    for (let k = 0; k < channels; k++) out[p * channels + k] = data[p * info.channels + Math.min(k, info.channels - 1)]!;
  }
  return out;
}

function checkQuality(q: number): void {
  if (!Number.isInteger(q) || q < 1 || q > 100) throw new UserError(`jpeg=${q}: give a JPEG quality from 1 to 100, e.g. jpeg=75`);
}

function imagesOf(x: tf.Tensor4D): { values: Float32Array; n: number; h: number; w: number; c: number; size: number } {
  const [n, h, w, c] = x.shape;
  if (c !== 1 && c !== 3) throw new UserError(`JPEG re-encoding needs grey or RGB images, got ${c} channels`);
  return { values: x.dataSync() as Float32Array, n, h, w, c, size: h * w * c };
}

function fromBytes(chunks: Uint8Array[], shape: [number, number, number, number]): tf.Tensor4D {
  const out = new Float32Array(chunks.reduce((s, b) => s + b.length, 0));
  let at = 0;
  for (const b of chunks) {
    for (let i = 0; i < b.length; i++) out[at + i] = b[i]! / 255;
    at += b.length;
  }
  return tf.tensor4d(out, shape);
}

/** JPEG's lossy steps in tensor ops, with a zero gradient (see the module comment). */
export function jpegRoundTrip(x: tf.Tensor4D, quality: number): tf.Tensor4D {
  const encode = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: jpegSimulation(args[0] as tf.Tensor4D, quality),
    gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
  }));
  return encode(x) as tf.Tensor4D;
}

/** JPEG through sharp, asynchronously (no gradient). */
export async function sharpJpeg(x: tf.Tensor4D, quality: number): Promise<tf.Tensor4D> {
  const { values, n, h, w, c, size } = imagesOf(x);
  const chunks = await Promise.all(Array.from({ length: n }, (_, i) => sharpRoundTrip(toBytes(values, i * size, size), h, w, c, quality)));
  return fromBytes(chunks, [n, h, w, c]);
}

/** The synchronous JPEG transform (tensor ops): for `--transform jpeg=Q` and BPDA's forward pass. */
export function jpegTransform(quality: number): InputTransform {
  checkQuality(quality);
  return { name: `jpeg=${quality}`, randomized: false, apply: (x) => jpegRoundTrip(x, quality) };
}

/**
 * A classifier behind JPEG re-encoding: predictions (query, which the harness uses) through
 * sharp, logits and BPDA through the synchronous tensor-op path.
 */
export function jpegClassifier(base: Classifier, quality: number): TransformedClassifier {
  const wrapped = withInputTransform(base, jpegTransform(quality));
  return {
    ...wrapped,
    query: async (x) => {
      const y = await sharpJpeg(x, quality);
      try {
        return base.query ? await base.query(y) : base.logits(y);
      } finally {
        y.dispose();
      }
    },
    describe: () => ({ ...wrapped.describe?.(), jpegCodec: 'sharp (predictions), tensor-op simulation (logits and BPDA)' }),
  };
}
