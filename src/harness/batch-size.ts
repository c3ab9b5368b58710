/**
 * How many images go into one batch: chosen from the input size and the wasm heap (`auto`), or
 * given, and the clear error when a batch still does not fit in memory.
 *
 * The wasm backend's heap is a 32-bit address space: 4 GiB at most, whatever the machine has. A
 * gradient attack keeps every activation of the forward pass for the backward pass, so its memory
 * grows with the batch and the image size. Measured (issue 13): PGD on MobileNetV2 at 224×224×3
 * took ~290 MB of heap per image in flight, i.e. ~1,930 bytes per input value; `auto` assumes
 * 2,400 (a 25% margin) and spends 3 GiB of the 4 (the rest: weights, allocator slack). 28×28
 * inputs give far more than the usual batch sizes, so they keep those (and their results).
 */
import { UserError } from '../errors.js';
import type { ImageShape } from '../types.js';

/** The wasm32 heap's ceiling. */
export const WASM_HEAP_BYTES = 4 * 2 ** 30;
/** Heap per input value of one image in flight during a gradient attack, with a margin (see above). */
export const HEAP_BYTES_PER_INPUT_VALUE = 2400;
/** What `auto` lets a batch use. */
export const AUTO_HEAP_BUDGET = 3 * 2 ** 30;
/**
 * A floor, not an estimate: any gradient attack holds at least the clean batch, its iterate, the
 * gradient and the first layer's activation (≥ as large) as float32 at once: 4 × 4 bytes.
 */
export const MIN_BYTES_PER_INPUT_VALUE = 16;

const valuesOf = (shape: ImageShape): number => shape[0] * shape[1] * shape[2];

/** The largest batch whose estimated heap use fits the budget, at most `cap`, at least 1. */
export function autoBatchSize(shape: ImageShape, cap: number): number {
  return Math.max(1, Math.min(cap, Math.floor(AUTO_HEAP_BUDGET / (HEAP_BYTES_PER_INPUT_VALUE * valuesOf(shape)))));
}

/** `auto` or a positive integer; `auto` becomes autoBatchSize(shape, cap). */
export function parseBatchSize(text: string, shape: ImageShape, cap: number, option = '--batch-size'): number {
  if (text.trim() === 'auto') return autoBatchSize(shape, cap);
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new UserError(`${option} "${text}" must be auto or a positive integer`);
  return n;
}

const gb = (bytes: number): string => `${(bytes / 1e9).toFixed(1)} GB`;

/**
 * Refuses, before any work, a batch that cannot fit in the wasm heap whatever the model: its
 * floor (MIN_BYTES_PER_INPUT_VALUE per input value) already exceeds 4 GiB. `images`: how many
 * images there are (a batch never holds more).
 */
export function checkBatchFits(batchSize: number, images: number, shape: ImageShape, option = '--batch-size'): void {
  const n = Math.min(batchSize, Math.max(1, images));
  const floor = n * valuesOf(shape) * MIN_BYTES_PER_INPUT_VALUE;
  if (floor <= WASM_HEAP_BYTES) return;
  const fits = Math.floor(WASM_HEAP_BYTES / (valuesOf(shape) * MIN_BYTES_PER_INPUT_VALUE));
  const fix = fits >= 1 ? `use ${option} ${Math.min(fits, autoBatchSize(shape, fits))} or smaller (or ${option} auto)` : 'use a model with a smaller input';
  throw new UserError(
    `${option} ${batchSize}: a batch of ${n} images of ${shape.join('×')} needs more than ${gb(floor)}, more than the 4 GiB wasm heap: ${fix}`,
  );
}

/** Whether an error is the backend running out of memory (wasm heap, typed array, allocation). */
export function isOutOfMemory(err: unknown): boolean {
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return /Invalid typed array length|Array buffer allocation failed|memory access out of bounds|Aborted\(OOM\)|Cannot enlarge memory|out of memory|Cannot allocate/i.test(message);
}

/** The UserError for a batch that did not fit: names the batch size and the fix. */
export function outOfMemoryError(batchSize: number, shape: ImageShape, option = '--batch-size'): UserError {
  const smaller = Math.max(1, Math.min(Math.floor(batchSize / 2), autoBatchSize(shape, batchSize)));
  const fix = batchSize > 1 ? `use ${option} ${smaller} or smaller` : 'use a model with a smaller input, or --backend tensorflow';
  return new UserError(`a batch of ${batchSize} images of ${shape.join('×')} did not fit in memory (the wasm heap holds 4 GiB at most): ${fix}`);
}
