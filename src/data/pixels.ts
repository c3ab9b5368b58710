/** An 8-bit sRGB colour. */
export type Rgb = readonly [r: number, g: number, b: number];

// Steps 3–5 of decoding, without any codec: image-codec.ts runs them on sharp's or jimp's bytes,
// the browser build (src/browser/images.ts) on the bytes of an <img>, so both give the same pixels.

/** RGBA bytes → flattened onto `bg`, channel-converted floats k/255 (steps 3–5 of image-codec.ts). */
export function rgbaToPixels(rgba: Uint8Array, count: number, channels: number, bg: Rgb): Float32Array {
  const out = new Float32Array(count * channels);
  const [br, bgG, bb] = bg;
  for (let p = 0; p < count; p++) {
    const a = rgba[4 * p + 3]!;
    const r = Math.round((rgba[4 * p]! * a + br * (255 - a)) / 255);
    const g = Math.round((rgba[4 * p + 1]! * a + bgG * (255 - a)) / 255);
    const b = Math.round((rgba[4 * p + 2]! * a + bb * (255 - a)) / 255);
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
