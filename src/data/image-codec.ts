/**
 * Image decoding and PNG encoding.
 *
 * sharp (libvips, native) is the primary codec. It is loaded lazily with a dynamic import; if its
 * native binary is missing or broken, the codec falls back to jimp (pure JS, slower, fewer
 * formats: PNG, JPEG, BMP, GIF, TIFF) and says so once on stderr.
 *
 * Decoding pipeline (same for both decoders, so 8-bit images already at the target size decode
 * to identical pixels), every step named in `DecodeRecord` so that a manifest can say what was done:
 *  1. decode, apply the EXIF orientation;
 *  2. if the size differs from the requested one, resize (`DecodeOptions.resize`):
 *     - `cover` (default): scale so the image covers height × width, then crop the centre — what
 *       ImageNet-style classifiers are trained and evaluated on (resize + centre crop);
 *     - `contain`: scale so the whole image fits, then letterbox with the background colour;
 *     - `stretch`: scale each axis to fit exactly, aspect ratio lost;
 *     with the resampling kernel `DecodeOptions.resample` (default bilinear, sharp's `linear`;
 *     jimp has only nearest, bilinear and bicubic, and uses bicubic for the others);
 *  3. take 8-bit RGBA and flatten alpha onto the background colour (default white, as image
 *     viewers show transparency): round((v·a + bg·(255 − a))/255);
 *  4. channels = 3 keeps RGB (a grey source is copied into R, G and B); channels = 1 takes the luma
 *     round(0.299 R + 0.587 G + 0.114 B) (ITU-R BT.601, on the gamma-encoded values, like PIL's
 *     `convert('L')`);
 *  5. divide by 255.
 * Decoded values are therefore always k/255, i.e. fixed points of `quantize8Pixels`.
 */
import { readFile, stat } from 'node:fs/promises';
import { UserError } from '../errors.js';
import type { ImageShape } from '../types.js';
import { imageDimensions, type ImageDimensions } from './image-header.js';
import { rgbaToPixels, type Rgb } from './pixels.js';

export type ImageCodecName = 'sharp' | 'jimp';

type SharpFactory = typeof import('sharp').default;

/** The few jimp members used here (jimp's own generic types are very heavy). */
interface JimpImage {
  bitmap: { width: number; height: number; data: Uint8Array };
  mime?: string;
  resize(options: { w: number; h: number; mode?: string }): unknown;
  crop(options: { x: number; y: number; w: number; h: number }): unknown;
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

/** How an image of another aspect ratio is brought to the model's height × width. */
export const RESIZE_MODES = ['cover', 'contain', 'stretch'] as const;
export type ResizeMode = (typeof RESIZE_MODES)[number];

/** Resampling kernels (sharp's, under their usual names). */
export const RESAMPLE_KERNELS = ['bilinear', 'nearest', 'bicubic', 'mitchell', 'lanczos2', 'lanczos3'] as const;
export type ResampleKernel = (typeof RESAMPLE_KERNELS)[number];

const SHARP_KERNEL: Record<ResampleKernel, 'linear' | 'nearest' | 'cubic' | 'mitchell' | 'lanczos2' | 'lanczos3'> = {
  bilinear: 'linear',
  nearest: 'nearest',
  bicubic: 'cubic',
  mitchell: 'mitchell',
  lanczos2: 'lanczos2',
  lanczos3: 'lanczos3',
};
/** jimp's ResizeStrategy values; kernels jimp lacks use bicubic (and the record says so). */
const JIMP_KERNEL: Partial<Record<ResampleKernel, string>> = { bilinear: 'bilinearInterpolation', nearest: 'nearestNeighbor', bicubic: 'bicubicInterpolation' };

export type { Rgb };

export interface DecodeOptions {
  /** Default 'cover'. */
  resize?: ResizeMode;
  /** Default 'bilinear'. */
  resample?: ResampleKernel;
  /** What transparent pixels (and `contain`'s letterbox) become; default white. */
  background?: Rgb;
}

export const DEFAULT_DECODE_OPTIONS: Required<DecodeOptions> = { resize: 'cover', resample: 'bilinear', background: [255, 255, 255] };

/** The file as it was, before decoding. */
export interface SourceImageInfo {
  /** e.g. png, jpeg, webp. */
  format: string;
  /** After the EXIF orientation, as a viewer shows it. */
  width: number;
  height: number;
  /** Channels stored, alpha included (1 grey, 2 grey + alpha, 3 RGB, 4 RGBA). */
  channels: number;
  hasAlpha: boolean;
}

/** What decoding did to one image (for manifests). */
export interface DecodeRecord {
  original: SourceImageInfo;
  /** How the size was changed; 'none' when it already matched. */
  resize: ResizeMode | 'none';
  /** The kernel actually used ('none' when not resized). */
  resample: string;
  /** '#rrggbb' the alpha channel was flattened onto, when the image had one (and for letterboxing). */
  background: string;
  /** The colour conversion done, e.g. 'RGB→grey (BT.601 luma)'. */
  colour: string;
  /** Every decoded value is the same: the image holds nothing to classify (e.g. dark strokes on transparency flattened onto black). */
  blank: boolean;
}

export interface DecodedImage {
  pixels: Float32Array;
  record: DecodeRecord;
}

/** '#rrggbb' (or '#rgb', or white | black) → Rgb; a UserError naming the option otherwise. */
export function parseBackground(text: string, option = '--background'): Rgb {
  const t = text.trim().toLowerCase();
  if (t === 'white') return [255, 255, 255];
  if (t === 'black') return [0, 0, 0];
  const long = /^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/.exec(t);
  if (long) return [parseInt(long[1]!, 16), parseInt(long[2]!, 16), parseInt(long[3]!, 16)];
  const short = /^#?([0-9a-f])([0-9a-f])([0-9a-f])$/.exec(t);
  if (short) return [parseInt(short[1]! + short[1]!, 16), parseInt(short[2]! + short[2]!, 16), parseInt(short[3]! + short[3]!, 16)];
  throw new UserError(`${option} "${text}" is not a colour: write #rrggbb (e.g. #ffffff for white), white or black`);
}

/** Rgb → '#rrggbb'. */
export function formatColour(rgb: Rgb): string {
  return `#${rgb.map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}

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
export function quantize8Pixels(pixels: Float32Array): Float32Array {
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) out[i] = toByte(pixels[i]) / 255;
  return out;
}

function isBlank(pixels: Float32Array): boolean {
  for (let i = 1; i < pixels.length; i++) if (pixels[i] !== pixels[0]) return false;
  return true;
}

function describeColour(source: SourceImageInfo, channels: number): string {
  const grey = source.channels <= 2;
  if (channels === 1) return grey ? 'grey' : 'RGB→grey (ITU-R BT.601 luma: 0.299 R + 0.587 G + 0.114 B)';
  return grey ? 'grey→RGB (value copied to R, G, B)' : 'RGB';
}

// ---------------------------------------------------------------------------------------------
// Decoding

const FILE_KINDS: [keyof import('node:fs').Stats, string][] = [
  ['isFIFO', 'a FIFO (named pipe)'],
  ['isSocket', 'a socket'],
  ['isCharacterDevice', 'a character device'],
  ['isBlockDevice', 'a block device'],
];

async function readInput(input: string | Buffer): Promise<Buffer> {
  if (typeof input !== 'string') return input;
  try {
    // Only regular files: reading a FIFO or a device would block forever or never end.
    const info = await stat(input);
    if (info.isDirectory()) throw Object.assign(new Error('directory'), { code: 'EISDIR' });
    if (!info.isFile()) {
      const kind = FILE_KINDS.find(([method]) => (info[method] as () => boolean).call(info))?.[1] ?? 'not a regular file';
      throw new UserError(`image ${input} is ${kind}, not a regular file: pass image files`);
    }
    return await readFile(input);
  } catch (err) {
    if (err instanceof UserError) throw err;
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

interface RawDecode {
  rgba: Uint8Array;
  original: SourceImageInfo;
  resample: string;
}

const SHARP_FIT = { cover: 'cover', contain: 'contain', stretch: 'fill' } as const;

async function decodeRgbaSharp(sharp: SharpFactory, bytes: Buffer, h: number, w: number, o: Required<DecodeOptions>): Promise<RawDecode> {
  const meta = await sharp(bytes, { limitInputPixels: MAX_IMAGE_PIXELS }).metadata();
  // EXIF orientations 5–8 turn the image by 90°.
  const turned = (meta.orientation ?? 1) >= 5;
  const original: SourceImageInfo = {
    format: meta.format ?? 'unknown',
    width: (turned ? meta.height : meta.width) ?? 0,
    height: (turned ? meta.width : meta.height) ?? 0,
    channels: meta.channels ?? 0,
    hasAlpha: meta.hasAlpha === true,
  };
  const { data, info } = await sharp(bytes, { limitInputPixels: MAX_IMAGE_PIXELS })
    .autoOrient()
    // fastShrinkOnLoad off: JPEG shrink-on-load would change the kernel the user named.
    // A transparent letterbox is flattened onto the background below, like the image's own alpha.
    .resize(w, h, { fit: SHARP_FIT[o.resize], position: 'centre', kernel: SHARP_KERNEL[o.resample], fastShrinkOnLoad: false, background: { r: 0, g: 0, b: 0, alpha: 0 } })
    .toColourspace('srgb')
    .ensureAlpha()
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 4 || info.width !== w || info.height !== h || data.length !== w * h * 4) {
    throw new Error(`sharp returned ${info.width}×${info.height}×${info.channels}, expected ${w}×${h}×4`);
  }
  return { rgba: data, original, resample: o.resample };
}

/** jimp's bitmap as decoded: grey when R = G = B everywhere, alpha when any pixel is not opaque. */
function jimpSourceInfo(image: JimpImage): SourceImageInfo {
  const { data, width, height } = image.bitmap;
  let grey = true;
  let alpha = false;
  for (let p = 0; p < width * height; p++) {
    if (data[4 * p] !== data[4 * p + 1] || data[4 * p] !== data[4 * p + 2]) grey = false;
    if (data[4 * p + 3] !== 255) alpha = true;
  }
  return { format: (image.mime ?? 'unknown').replace(/^image\//, ''), width, height, channels: (grey ? 1 : 3) + (alpha ? 1 : 0), hasAlpha: alpha };
}

async function decodeRgbaJimp(bytes: Buffer, h: number, w: number, o: Required<DecodeOptions>): Promise<RawDecode> {
  const Jimp = await loadJimp();
  const image = await Jimp.read(bytes);
  const original = jimpSourceInfo(image);
  const mode = JIMP_KERNEL[o.resample] ?? 'bicubicInterpolation';
  const resample = JIMP_KERNEL[o.resample] ? o.resample : `bicubic (jimp has no ${o.resample})`;
  const { width: sw, height: sh } = image.bitmap;
  if (sw === w && sh === h) return { rgba: image.bitmap.data, original, resample };
  if (o.resize === 'stretch') {
    image.resize({ w, h, mode });
  } else if (o.resize === 'cover') {
    // The centred region with the target's aspect ratio, then scaled.
    const scale = Math.max(w / sw, h / sh);
    const cw = Math.min(sw, Math.max(1, Math.round(w / scale)));
    const ch = Math.min(sh, Math.max(1, Math.round(h / scale)));
    image.crop({ x: Math.floor((sw - cw) / 2), y: Math.floor((sh - ch) / 2), w: cw, h: ch });
    image.resize({ w, h, mode });
  } else {
    const scale = Math.min(w / sw, h / sh);
    const rw = Math.max(1, Math.round(sw * scale));
    const rh = Math.max(1, Math.round(sh * scale));
    image.resize({ w: rw, h: rh, mode });
    // Letterbox: transparent borders, flattened onto the background like any alpha.
    const out = new Uint8Array(w * h * 4);
    const x0 = Math.floor((w - rw) / 2);
    const y0 = Math.floor((h - rh) / 2);
    const src = image.bitmap.data;
    for (let y = 0; y < rh; y++) out.set(src.subarray(y * rw * 4, (y + 1) * rw * 4), ((y0 + y) * w + x0) * 4);
    return { rgba: out, original, resample };
  }
  const { data, width, height } = image.bitmap;
  if (width !== w || height !== h || data.length !== w * h * 4) {
    throw new Error(`jimp returned ${width}×${height} (${data.length} bytes), expected ${w}×${h}×4`);
  }
  return { rgba: data, original, resample };
}

/**
 * Decode a file path or encoded bytes with a given decoder into h·w·c floats in [0, 1]
 * (row-major HWC), with a record of every step. Throws UserError naming the input when it cannot
 * be read or decoded.
 */
export async function decodeImageDetailedWith(
  decoder: ImageCodecName,
  input: string | Buffer,
  shape: ImageShape,
  options: DecodeOptions = {},
): Promise<DecodedImage> {
  assertImageShape(shape);
  const o: Required<DecodeOptions> = { ...DEFAULT_DECODE_OPTIONS, ...options };
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
  let raw: RawDecode;
  try {
    raw = decoder === 'sharp' ? await decodeRgbaSharp(await requireSharp(), bytes, h, w, o) : await decodeRgbaJimp(bytes, h, w, o);
  } catch (err) {
    if (err instanceof UserError) throw err;
    if (decoder === 'sharp' && /exceeds pixel limit/i.test((err as Error).message)) throw tooLarge(input, imageDimensions(bytes), shape);
    throw undecodable(input, decoder, err);
  }
  const pixels = rgbaToPixels(raw.rgba, h * w, c, o.background);
  const resized = raw.original.width !== w || raw.original.height !== h;
  return {
    pixels,
    record: {
      original: raw.original,
      resize: resized ? o.resize : 'none',
      resample: resized ? raw.resample : 'none',
      background: formatColour(o.background),
      colour: describeColour(raw.original, c),
      blank: isBlank(pixels),
    },
  };
}

/** decodeImageDetailedWith with the active codec (sharp, or jimp when sharp cannot be loaded). */
export async function decodeImageDetailed(input: string | Buffer, shape: ImageShape, options: DecodeOptions = {}): Promise<DecodedImage> {
  return decodeImageDetailedWith((await codec()).name, input, shape, options);
}

/** The pixels of decodeImageDetailedWith. */
export async function decodeImageWith(decoder: ImageCodecName, input: string | Buffer, shape: ImageShape, options: DecodeOptions = {}): Promise<Float32Array> {
  return (await decodeImageDetailedWith(decoder, input, shape, options)).pixels;
}

/** Decode with the active codec (sharp, or jimp when sharp cannot be loaded). */
export async function decodeImage(input: string | Buffer, shape: ImageShape, options: DecodeOptions = {}): Promise<Float32Array> {
  return decodeImageWith((await codec()).name, input, shape, options);
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
 * rounded to the nearest 8-bit level, so decoding gives `quantize8Pixels(pixels)`); Uint8Array input
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
