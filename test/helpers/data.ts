import type { Dataset, ImageShape } from '../../src/types.js';

/** A tiny in-memory dataset from explicit pixel rows. */
export function tinyDataset(rows: number[][], labels: number[], shape: ImageShape = [1, 2, 1], numClasses = 2): Dataset {
  return {
    name: 'tiny',
    split: 'test',
    shape,
    numClasses,
    classNames: Array.from({ length: numClasses }, (_, i) => String(i)),
    size: rows.length,
    images: Float32Array.from(rows.flat()),
    labels: Int32Array.from(labels),
    ids: rows.map((_, i) => `tiny/${i}`),
  };
}
