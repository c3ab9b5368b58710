/**
 * Image dimensions read from a file's header, without decoding it: enough to refuse a
 * decompression bomb (a small file declaring a huge image) before a decoder allocates its pixels.
 * Covers the formats jimp decodes (PNG, JPEG, GIF, BMP, TIFF). Returns undefined for any other
 * format or a header cut short: the decoder then reports the file itself.
 */
export interface ImageDimensions {
  width: number;
  height: number;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function startsWith(bytes: Uint8Array, prefix: readonly number[]): boolean {
  return bytes.length >= prefix.length && prefix.every((b, i) => bytes[i] === b);
}

/** SOFn markers carry the frame size; C4 (DHT), C8 (reserved) and CC (DAC) share the range but do not. */
function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

function jpegDimensions(view: DataView): ImageDimensions | undefined {
  let i = 2;
  while (i + 4 <= view.byteLength) {
    if (view.getUint8(i) !== 0xff) return undefined;
    const marker = view.getUint8(i + 1);
    if (marker === 0xff) {
      i += 1; // fill byte
      continue;
    }
    // Markers without a length: TEM and RST0–7.
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      i += 2;
      continue;
    }
    if (isStartOfFrame(marker)) {
      if (i + 9 > view.byteLength) return undefined;
      return { height: view.getUint16(i + 5), width: view.getUint16(i + 7) };
    }
    i += 2 + view.getUint16(i + 2);
  }
  return undefined;
}

function tiffDimensions(view: DataView): ImageDimensions | undefined {
  const little = view.getUint8(0) === 0x49;
  const ifd = view.getUint32(4, little);
  if (ifd + 2 > view.byteLength) return undefined;
  const count = view.getUint16(ifd, little);
  let width: number | undefined;
  let height: number | undefined;
  for (let k = 0; k < count; k++) {
    const entry = ifd + 2 + 12 * k;
    if (entry + 12 > view.byteLength) return undefined;
    const tag = view.getUint16(entry, little);
    const type = view.getUint16(entry + 2, little);
    // SHORT (3) or LONG (4); a single value sits in the first bytes of the value field.
    const value = type === 3 ? view.getUint16(entry + 8, little) : type === 4 ? view.getUint32(entry + 8, little) : undefined;
    if (tag === 256) width = value;
    if (tag === 257) height = value;
  }
  return width !== undefined && height !== undefined ? { width, height } : undefined;
}

export function imageDimensions(bytes: Uint8Array): ImageDimensions | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (startsWith(bytes, PNG_SIGNATURE)) {
    return bytes.length >= 24 ? { width: view.getUint32(16), height: view.getUint32(20) } : undefined;
  }
  if (startsWith(bytes, [0xff, 0xd8])) return jpegDimensions(view);
  if (startsWith(bytes, [0x47, 0x49, 0x46, 0x38])) {
    return bytes.length >= 10 ? { width: view.getUint16(6, true), height: view.getUint16(8, true) } : undefined;
  }
  if (startsWith(bytes, [0x42, 0x4d])) {
    if (bytes.length < 26) return undefined;
    // OS/2 BITMAPCOREHEADER (12 bytes) has 16-bit sizes; later headers signed 32-bit (negative height = top-down).
    if (view.getUint32(14, true) === 12) return { width: view.getUint16(18, true), height: view.getUint16(20, true) };
    return { width: Math.abs(view.getInt32(18, true)), height: Math.abs(view.getInt32(22, true)) };
  }
  if ((startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) && bytes.length >= 8) {
    return tiffDimensions(view);
  }
  return undefined;
}
