/**
 * Image decoding and PNG encoding.
 *
 * sharp (libvips, native) is the primary codec. It is loaded lazily with a dynamic import; if its
 * native binary is missing or broken, the codec falls back to jimp (pure JS, slower, fewer
 * formats: PNG, JPEG, BMP, GIF, TIFF) and says so once on stderr.
 *
 * Decoding pipeline (same for both decoders, so 8-bit images decode to identical pixels):
 *  1. decode, apply the EXIF orientation;
 *  2. if the size differs from the requested one, resize to exactly height × width, ignoring the
 *     aspect ratio (sharp `fit: 'fill'`; jimp's default resampler — the two resamplers differ,
 *     so only images already at the target size decode identically with both);
 *  3. take 8-bit RGBA, flatten alpha onto black: round(v·a/255);
 *  4. channels = 3 keeps RGB; channels = 1 takes the luma round(0.299 R + 0.587 G + 0.114 B)
 *     (ITU-R 601, on the gamma-encoded values, like PIL's `convert('L')`);
 *  5. divide by 255.
 * Decoded values are therefore always k/255, i.e. fixed points of `quantize8`.
 */
import { readFile } from 'node:fs/promises';
import { UserError } from '../errors.js';
import type { ImageShape } from '../types.js';
import { imageDimensions, type ImageDimensions } from './image-header.js';

export type ImageCodecName = 'sharp' | 'jimp';

type SharpFactory = typeof import('sharp').default;

/** The few jimp members used here (jimp's own generic types are very heavy). */
interface JimpImage {
  bitmap: { width: number; height: number; data: Uint8Array };
  resize(options: { w: number; h: number }): unknown;
}
interface JimpEncodable {
  getBuffer(mime: 'image/png'): Promise<Buffer>;
}
interface JimpStatic {
  read(input: Buffer): Promise<JimpImage>;
  fromBitmap(bitmap: { width: number; height: number; data: Uint8Array }): JimpEncodable;
}

/**
 * The largest image decoded, in pixels: 2^26 (8192 × 8192), more than any camera photo. Decoders
 * allocate 4 bytes per pixel before resizing, so a file of a few bytes declaring 20,000 × 20,000
 * pixels (a decompression bomb) would take 1.6 GB; such files are refused from their header.
 * sharp enforces it itself (limitInputPixels, default 0x3FFF²); jimp has no limit, so the header
 * is read here first.
 */
export const MAX_IMAGE_PIXELS = 2 ** 26;

/** Channel counts the decoder produces. */
export const DECODE_CHANNELS: readonly number[] = [1, 3];
/** Channel counts encodePng accepts (grey, RGB, RGBA). */
export const ENCODE_CHANNELS: readonly number[] = [1, 3, 4];

// ---------------------------------------------------------------------------------------------
// Codec selection

export interface ResolvedCodec {
  name: ImageCodecName;
  sharp?: SharpFactory;
}

/**
 * Try to load sharp with `importer`; on failure return the jimp codec and write one line to
 * stderr. Exposed (with an injectable importer) so the fallback itself can be tested.
 */
export async function resolveImageCodec(
  importer: () => Promise<{ default: SharpFactory }> = () => import('sharp'),
  log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<ResolvedCodec> {
  try {
    const mod = await importer();
    return { name: 'sharp', sharp: mod.default };
  } catch (err) {
    // Deliberate capability fallback: sharp is an optional speed-up, jimp does the same job.
    const reason = (err instanceof Error ? err.message : String(err)).split('\n')[0];
    log(`advtest: sharp could not be loaded (${reason}); using jimp (pure JS) for images instead`);
    return { name: 'jimp' };
  }
}

let activeCodec: Promise<ResolvedCodec> | undefined;

function codec(): Promise<ResolvedCodec> {
  activeCodec ??= resolveImageCodec();
  return activeCodec;
}

/** Which codec `decodeImage`/`encodePng` use in this process (loads sharp on first call). */
export async function imageCodecName(): Promise<ImageCodecName> {
  return (await codec()).name;
}

async function requireSharp(): Promise<SharpFactory> {
  const resolved = await resolveImageCodec(undefined, () => undefined);
  if (resolved.sharp === undefined) {
    throw new UserError('the "sharp" image library cannot be loaded here: reinstall it (npm install sharp) or use the jimp decoder');
  }
  return resolved.sharp;
}

let jimpStatic: Promise<JimpStatic> | undefined;

function loadJimp(): Promise<JimpStatic> {
  jimpStatic ??= import('jimp').then((mod) => mod.Jimp as unknown as JimpStatic);
  return jimpStatic;
}

// ---------------------------------------------------------------------------------------------
// Shapes and quantisation

/** Throws a UserError unless shape is [h, w, c] with positive integer h, w and c in `channels`. */
export function assertImageShape(shape: ImageShape, channels: readonly number[] = DECODE_CHANNELS): void {
  const [h, w, c] = shape;
  const ok =
    shape.length === 3 &&
    Number.isInteger(h) && h > 0 &&
    Number.isInteger(w) && w > 0 &&
    channels.includes(c);
  if (!ok) {
    throw new UserError(
      `image shape [${shape.join(', ')}] is invalid: use [height, width, channels] with positive integer sizes and channels ${channels.join(' or ')}`,
    );
  }
}

/** The 8-bit value a PNG stores for x: round(clamp(x, 0, 1)·255). NaN is a bug upstream. */
function toByte(x: number): number {
  if (Number.isNaN(x)) throw new RangeError('cannot quantise NaN pixel value to 8 bits');
  return Math.round(Math.min(1, Math.max(0, x)) * 255);
}

/** round(x·255)/255 after clamping to [0, 1]: exactly what an 8-bit PNG of x decodes back to. */
export function quantize8(pixels: Float32Array): Float32Array {
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) out[i] = toByte(pixels[i]) / 255;
  return out;
}

/** RGBA bytes → flattened-on-black, channel-converted floats k/255 (steps 3–5 above). */
function rgbaToPixels(rgba: Uint8Array, count: number, channels: number): Float32Array {
  const out = new Float32Array(count * channels);
  for (let p = 0; p < count; p++) {
    const a = rgba[4 * p + 3];
    const r = Math.round((rgba[4 * p] * a) / 255);
    const g = Math.round((rgba[4 * p + 1] * a) / 255);
    const b = Math.round((rgba[4 * p + 2] * a) / 255);
    if (channels === 1) {
      out[p] = Math.floor((299 * r + 587 * g + 114 * b + 500) / 1000) / 255;
    } else {
      out[3 * p] = r / 255;
      out[3 * p + 1] = g / 255;
      out[3 * p + 2] = b / 255;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Decoding

async function readInput(input: string | Buffer): Promise<Buffer> {
  if (typeof input !== 'string') return input;
  try {
    return await readFile(input);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message;
    throw new UserError(`cannot read image ${input}: ${why}; check the path`);
  }
}

function describeInput(input: string | Buffer): string {
  return typeof input === 'string' ? input : `<buffer of ${input.length} bytes>`;
}

function undecodable(input: string | Buffer, decoder: ImageCodecName, err: unknown): UserError {
  // libvips ends some messages with a colon and no detail ("Input buffer has corrupt header:").
  const reason = (err instanceof Error ? err.message : String(err)).split('\n')[0]!.replace(/[\s:]+$/, '');
  return new UserError(
    `cannot decode image ${describeInput(input)} with ${decoder}: ${reason}; the file is damaged or not an image: replace it with a PNG or JPEG, or remove it`,
  );
}

function tooLarge(input: string | Buffer, size: ImageDimensions | undefined, shape: ImageShape): UserError {
  const what = size ? `is ${size.width}×${size.height} pixels, more than` : 'has more pixels than';
  return new UserError(
    `image ${describeInput(input)} ${what} the ${MAX_IMAGE_PIXELS.toLocaleString('en-US')} advtest decodes (a decompression bomb?): downscale it first (it is resized to ${shape[1]}×${shape[0]} anyway)`,
  );
}

async function decodeRgbaSharp(sharp: SharpFactory, bytes: Buffer, h: number, w: number): Promise<Uint8Array> {
  const { data, info } = await sharp(bytes, { limitInputPixels: MAX_IMAGE_PIXELS })
    .autoOrient()
    .resize(w, h, { fit: 'fill' })
    .toColourspace('srgb')
    .ensureAlpha()
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 4 || info.width !== w || info.height !== h || data.length !== w * h * 4) {
    throw new Error(`sharp returned ${info.width}×${info.height}×${info.channels}, expected ${w}×${h}×4`);
  }
  return data;
}

async function decodeRgbaJimp(bytes: Buffer, h: number, w: number): Promise<Uint8Array> {
  const Jimp = await loadJimp();
  const image = await Jimp.read(bytes);
  if (image.bitmap.width !== w || image.bitmap.height !== h) image.resize({ w, h });
  const { data, width, height } = image.bitmap;
  if (width !== w || height !== h || data.length !== w * h * 4) {
    throw new Error(`jimp returned ${width}×${height} (${data.length} bytes), expected ${w}×${h}×4`);
  }
  return data;
}

/**
 * Decode a file path or encoded bytes with a given decoder into h·w·c floats in [0, 1]
 * (row-major HWC). Throws UserError naming the input when it cannot be read or decoded.
 */
export async function decodeImageWith(
  decoder: ImageCodecName,
  input: string | Buffer,
  shape: ImageShape,
): Promise<Float32Array> {
  assertImageShape(shape);
  const [h, w, c] = shape;
  const bytes = await readInput(input);
  if (bytes.length === 0) {
    throw new UserError(`image ${describeInput(input)} is empty (0 bytes): replace it with the image it should hold, or remove it`);
  }
  if (decoder === 'jimp') {
    // jimp would allocate the declared size before noticing anything; sharp checks itself.
    const size = imageDimensions(bytes);
    if (size && size.width * size.height > MAX_IMAGE_PIXELS) throw tooLarge(input, size, shape);
  }
  let rgba: Uint8Array;
  try {
    rgba = decoder === 'sharp' ? await decodeRgbaSharp(await requireSharp(), bytes, h, w) : await decodeRgbaJimp(bytes, h, w);
  } catch (err) {
    if (err instanceof UserError) throw err;
    if (decoder === 'sharp' && /exceeds pixel limit/i.test((err as Error).message)) throw tooLarge(input, imageDimensions(bytes), shape);
    throw undecodable(input, decoder, err);
  }
  return rgbaToPixels(rgba, h * w, c);
}

/** Decode with the active codec (sharp, or jimp when sharp cannot be loaded). */
export async function decodeImage(input: string | Buffer, shape: ImageShape): Promise<Float32Array> {
  return decodeImageWith((await codec()).name, input, shape);
}

// ---------------------------------------------------------------------------------------------
// Encoding

function toBytes(pixels: Float32Array | Uint8Array): Uint8Array {
  if (pixels instanceof Uint8Array) return pixels;
  const out = new Uint8Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) out[i] = toByte(pixels[i]);
  return out;
}

/**
 * Lossless PNG of one HWC image with the given encoder. Float input is in [0, 1] (clamped,
 * rounded to the nearest 8-bit level, so decoding gives `quantize8(pixels)`); Uint8Array input
 * is taken as 0–255 bytes. Channels 1 → greyscale PNG, 3 → RGB, 4 → RGBA.
 */
export async function encodePngWith(
  encoder: ImageCodecName,
  pixels: Float32Array | Uint8Array,
  shape: ImageShape,
): Promise<Buffer> {
  assertImageShape(shape, ENCODE_CHANNELS);
  const [h, w, c] = shape;
  if (pixels.length !== h * w * c) {
    throw new RangeError(`encodePng: ${pixels.length} values do not match shape [${shape.join(', ')}] (${h * w * c})`);
  }
  const bytes = toBytes(pixels);
  if (encoder === 'sharp') {
    const sharp = await requireSharp();
    const raw = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return sharp(raw, { raw: { width: w, height: h, channels: c as 1 | 3 | 4 } })
      .toColourspace(c === 1 ? 'b-w' : 'srgb')
      .png({ compressionLevel: 9, adaptiveFiltering: true, palette: false })
      .toBuffer();
  }
  const rgba = new Uint8Array(h * w * 4);
  for (let p = 0; p < h * w; p++) {
    for (let k = 0; k < 3; k++) rgba[4 * p + k] = bytes[c === 1 ? p : c * p + k];
    rgba[4 * p + 3] = c === 4 ? bytes[4 * p + 3] : 255;
  }
  const Jimp = await loadJimp();
  return Jimp.fromBitmap({ width: w, height: h, data: rgba }).getBuffer('image/png');
}

/** Lossless PNG with the active codec; see `encodePngWith`. */
export async function encodePng(pixels: Float32Array | Uint8Array, shape: ImageShape): Promise<Buffer> {
  return encodePngWith((await codec()).name, pixels, shape);
}
