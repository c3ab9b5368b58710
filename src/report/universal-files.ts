import { basename, dirname, extname, join } from 'node:path';
import type { UniversalRecord } from '../harness/report-types.js';
import { encodePng } from '../data/image-codec.js';
import { formatEps } from '../number-format.js';
import { writeFileSafely } from './write-file.js';

/** Longer side of the PNG of a perturbation or patch, at least (nearest-neighbour enlargement). */
const PNG_SIDE = 128;

/** PNG bytes of display pixels (h × w × c in [0, 1]), enlarged by an integer factor. */
function enlargedPng(pixels: number[], [h, w, c]: [number, number, number]): Promise<Buffer> {
  const scale = Math.max(1, Math.ceil(PNG_SIDE / Math.max(h, w, 1)));
  const big = new Float32Array(h * scale * w * scale * c);
  for (let r = 0; r < h * scale; r++) {
    for (let col = 0; col < w * scale; col++) {
      for (let ch = 0; ch < c; ch++) big[(r * w * scale + col) * c + ch] = pixels[(Math.floor(r / scale) * w + Math.floor(col / scale)) * c + ch]!;
    }
  }
  return encodePng(big, [h * scale, w * scale, c]);
}

/**
 * Turns each record's display pixels into an embedded PNG (a data URL), so that the JSON and
 * HTML reports are self-contained; the pixels are dropped (the PNG holds them).
 */
export async function embedUniversalImages(records: UniversalRecord[]): Promise<void> {
  for (const r of records) {
    if (r.image !== undefined || r.pixels === undefined) continue;
    const png = await enlargedPng(r.pixels, r.shape);
    r.image = `data:image/png;base64,${png.toString('base64')}`;
    delete r.pixels;
  }
}

/**
 * Writes each universal attack's PNG (the patch or the perturbation) next to a report file,
 * named `<report>.<attack>-<ε>.png`, and records the file name (relative to the report) in it.
 */
export async function writeUniversalImages(records: UniversalRecord[], reportPath: string): Promise<string[]> {
  const stem = basename(reportPath, extname(reportPath));
  const written: string[] = [];
  await embedUniversalImages(records);
  for (const r of records) {
    if (r.image === undefined) continue;
    const file = `${stem}.${r.attack}-${formatEps(r.eps).replace('/', 'over')}.png`;
    const bytes = Buffer.from(r.image.slice(r.image.indexOf(',') + 1), 'base64');
    await writeFileSafely(join(dirname(reportPath), file), bytes);
    r.file = file;
    written.push(join(dirname(reportPath), file));
  }
  return written;
}
