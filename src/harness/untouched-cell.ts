import type { CellRecord } from './journal.js';

/** A cell in which no example was attacked (yet): the clean predictions, no change, no cost. */
export function untouchedCell(clean: Int32Array): CellRecord {
  const n = clean.length;
  return {
    predictions: Array.from(clean),
    quantizedPredictions: Array.from(clean),
    linf: new Array<number>(n).fill(0),
    l2: new Array<number>(n).fill(0),
    attacked: new Array<number>(n).fill(0),
    gradients: 0,
    queries: 0,
    seconds: 0,
  };
}
