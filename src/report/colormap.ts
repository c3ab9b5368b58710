import { rgb } from 'd3-color';
import { interpolateRdBu } from 'd3-scale-chromatic';

/** Entries of the lookup table: odd, so that 0 falls exactly on the middle one. */
const LEVELS = 255;

/**
 * ColorBrewer's RdBu reversed: blue for −, near-white for 0, red for +. The outer tenth at each
 * end (almost black) is left out, so that full-strength δ stays readable.
 */
const DIVERGING: Uint8Array = (() => {
  const lut = new Uint8Array(LEVELS * 3);
  for (let k = 0; k < LEVELS; k++) {
    const c = rgb(interpolateRdBu(0.9 - (0.8 * k) / (LEVELS - 1)));
    lut.set([Math.round(c.r), Math.round(c.g), Math.round(c.b)], 3 * k);
  }
  return lut;
})();

/** The RGB colour of v ∈ [−1, 1] (clamped): −1 blue, 0 white, +1 red. */
export function divergingColour(v: number): [number, number, number] {
  const k = Math.round(((Math.max(-1, Math.min(1, v)) + 1) / 2) * (LEVELS - 1));
  return [DIVERGING[3 * k]!, DIVERGING[3 * k + 1]!, DIVERGING[3 * k + 2]!];
}

/** CSS stops of the same scale, for a legend. */
export function divergingGradientCss(stops = 9): string {
  return Array.from({ length: stops }, (_, i) => {
    const [r, g, b] = divergingColour(-1 + (2 * i) / (stops - 1));
    return `rgb(${r}, ${g}, ${b})`;
  }).join(', ');
}
