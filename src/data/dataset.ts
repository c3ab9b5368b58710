/** Plain-array helpers on in-memory Datasets (no tensors). */
import { createHash } from 'node:crypto';
import { UserError } from '../errors.js';
import type { Dataset } from '../types.js';

/** Values per example (h·w·c). */
export function exampleLength(ds: Dataset): number {
  const [h, w, c] = ds.shape;
  return h * w * c;
}

/** Example i's pixels as a view (no copy) into ds.images. */
export function imageAt(ds: Dataset, i: number): Float32Array {
  checkIndex(ds, i);
  const n = exampleLength(ds);
  return ds.images.subarray(i * n, (i + 1) * n);
}

/** How many examples each class has (length numClasses). */
export function classCounts(ds: Dataset): number[] {
  const counts = new Array<number>(ds.numClasses).fill(0);
  for (const label of ds.labels) counts[label]++;
  return counts;
}

function checkIndex(ds: Dataset, i: number): void {
  if (!Number.isInteger(i) || i < 0 || i >= ds.size) {
    throw new UserError(`example index ${i} is out of range for ${ds.name}/${ds.split} (${ds.size} examples): use 0–${ds.size - 1}`);
  }
}

/** A new Dataset (copied arrays) holding the given examples in the given order; repeats allowed. */
export function subset(ds: Dataset, indices: ArrayLike<number>): Dataset {
  const n = exampleLength(ds);
  const size = indices.length;
  const images = new Float32Array(size * n);
  const labels = new Int32Array(size);
  const ids = new Array<string>(size);
  for (let k = 0; k < size; k++) {
    const i = indices[k];
    checkIndex(ds, i);
    images.set(ds.images.subarray(i * n, (i + 1) * n), k * n);
    labels[k] = ds.labels[i];
    ids[k] = ds.ids[i];
  }
  return { ...ds, shape: [...ds.shape], classNames: [...ds.classNames], size, images, labels, ids };
}

/**
 * Indices of a fixed, class-balanced selection of n examples, independent of any seed:
 * round-robin over the classes in label order, taking each class's examples in dataset order;
 * a class that runs out is skipped and the others continue. The result is in pick order
 * (class 0's first, class 1's first, …), so balancedIndices(ds, k) is a prefix of
 * balancedIndices(ds, n) for k ≤ n, and every prefix is as balanced as the data allows.
 */
export function balancedIndices(ds: Dataset, n: number): number[] {
  if (!Number.isInteger(n) || n < 0 || n > ds.size) {
    throw new UserError(`cannot take ${n} examples from ${ds.name}/${ds.split}, which has ${ds.size}: use a count from 0 to ${ds.size}`);
  }
  const byClass: number[][] = Array.from({ length: ds.numClasses }, () => []);
  ds.labels.forEach((label, i) => byClass[label].push(i));
  const out: number[] = [];
  for (let round = 0; out.length < n; round++) {
    for (const members of byClass) {
      if (out.length === n) break;
      if (round < members.length) out.push(members[round]);
    }
  }
  return out;
}

/** subset(ds, balancedIndices(ds, n)): the same n examples on every run; see balancedIndices. */
export function balancedSubset(ds: Dataset, n: number): Dataset {
  return subset(ds, balancedIndices(ds, n));
}

/**
 * sha256 (hex) of shape, size, labels and pixel bytes (little-endian Int32/Float32 as stored in
 * memory on every platform Node runs on). Names, class names and ids are not included.
 */
export function fingerprint(ds: Dataset): string {
  const hash = createHash('sha256');
  // Typed arrays, not Buffers: update() hashes a view's bytes, and the browser build has no Buffer.
  hash.update(Int32Array.from([...ds.shape, ds.size]));
  hash.update(ds.labels);
  hash.update(ds.images);
  return hash.digest('hex');
}
