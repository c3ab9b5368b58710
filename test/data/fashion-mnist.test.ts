import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import {
  FASHION_MNIST_CLASS_NAMES,
  FASHION_MNIST_DEFAULT_DIR,
  loadFashionMnist,
} from '../../src/data/fashion-mnist.js';
import { parseIdx, readIdxFile } from '../../src/data/idx.js';

/** IDX bytes of unsigned-byte elements with the given dims. */
function idx(dims: number[], data: Uint8Array): Uint8Array {
  const header = new Uint8Array(4 + 4 * dims.length);
  const view = new DataView(header.buffer);
  header[2] = 0x08;
  header[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  const out = new Uint8Array(header.length + data.length);
  out.set(header);
  out.set(data, header.length);
  return out;
}

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'advtest-fmnist-'));
  tempDirs.push(dir);
  return dir;
}
afterAll(() => tempDirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A tiny 4×3 Fashion-MNIST: `nTrain` train and `nTest` test images; pixel j of image i = (i·12 + j) mod 256. */
function writeTinySet(dir: string, nTrain: number, nTest: number, gzip: boolean): void {
  const write = (name: string, bytes: Uint8Array): void =>
    writeFileSync(join(dir, gzip ? `${name}.gz` : name), gzip ? gzipSync(bytes) : bytes);
  const images = (n: number, offset: number): Uint8Array =>
    Uint8Array.from({ length: n * 12 }, (_, k) => (offset * 12 + k) % 256);
  const labels = (n: number, offset: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (offset + i) % 10);
  write('train-images-idx3-ubyte', idx([nTrain, 4, 3], images(nTrain, 0)));
  write('train-labels-idx1-ubyte', idx([nTrain], labels(nTrain, 0)));
  write('t10k-images-idx3-ubyte', idx([nTest, 4, 3], images(nTest, nTrain)));
  write('t10k-labels-idx1-ubyte', idx([nTest], labels(nTest, nTrain)));
}

describe('parseIdx', () => {
  it('parses dims and data', () => {
    const parsed = parseIdx(idx([2, 3], Uint8Array.from([1, 2, 3, 4, 5, 6])), 'x.idx');
    expect(parsed.dims).toEqual([2, 3]);
    expect(Array.from(parsed.data)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('rejects a bad magic number, naming the file', () => {
    const bytes = idx([2], Uint8Array.from([1, 2]));
    bytes[0] = 0x50;
    expect(() => parseIdx(bytes, 'bad.idx')).toThrow(UserError);
    expect(() => parseIdx(bytes, 'bad.idx')).toThrow(/bad\.idx is not an IDX file: bad magic number 0x50000801/);
  });

  it('rejects non-byte element types', () => {
    const bytes = idx([1], Uint8Array.from([0, 0, 0, 0]));
    bytes[2] = 0x0d;
    bytes[7] = 1;
    expect(() => parseIdx(bytes, 'f.idx')).toThrow(/float32 elements \(type 0x0d\)/);
  });

  it('rejects truncation in the header and in the data', () => {
    expect(() => parseIdx(Uint8Array.from([0, 0]), 'a.idx')).toThrow(/a\.idx is truncated/);
    expect(() => parseIdx(idx([5, 28, 28], new Uint8Array(0)).subarray(0, 10), 'b.idx')).toThrow(
      /b\.idx is truncated inside its header/,
    );
    expect(() => parseIdx(idx([3, 2], Uint8Array.from([1, 2, 3, 4, 5])), 'c.idx')).toThrow(
      /c\.idx is truncated: its header declares 3×2 = 6 bytes of data but only 5 follow/,
    );
    expect(() => parseIdx(idx([2], Uint8Array.from([1, 2, 3])), 'd.idx')).toThrow(/d\.idx has 1 bytes after/);
  });
});

describe('readIdxFile', () => {
  it('reads plain and gzipped files alike', () => {
    const dir = tempDir();
    const bytes = idx([3], Uint8Array.from([7, 8, 9]));
    writeFileSync(join(dir, 'plain'), bytes);
    writeFileSync(join(dir, 'packed.gz'), gzipSync(bytes));
    expect(readIdxFile(join(dir, 'plain'))).toEqual(readIdxFile(join(dir, 'packed.gz')));
  });

  it('names a truncated gzip file', () => {
    const dir = tempDir();
    const gz = gzipSync(idx([100], new Uint8Array(100).fill(3)));
    const path = join(dir, 'cut.gz');
    writeFileSync(path, gz.subarray(0, gz.length - 10));
    expect(() => readIdxFile(path)).toThrow(UserError);
    expect(() => readIdxFile(path)).toThrow(new RegExp(`gzip file ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is corrupt or truncated`));
  });
});

describe('loadFashionMnist on small IDX files', () => {
  for (const gzip of [true, false]) {
    it(`loads ${gzip ? 'gzipped' : 'plain'} files`, () => {
      const dir = tempDir();
      writeTinySet(dir, 5, 3, gzip);
      const train = loadFashionMnist('train', dir);
      expect(train).toMatchObject({ name: 'fashion-mnist', split: 'train', shape: [4, 3, 1], numClasses: 10, size: 5 });
      expect(train.classNames).toEqual([...FASHION_MNIST_CLASS_NAMES]);
      expect(train.classNames[0]).toBe('T-shirt/top');
      expect(train.classNames[9]).toBe('Ankle boot');
      expect(Array.from(train.labels)).toEqual([0, 1, 2, 3, 4]);
      expect(train.images[13]).toBeCloseTo(13 / 255, 7);
      expect(train.ids[4]).toBe('fashion-mnist/train/4');

      const test = loadFashionMnist('test', dir);
      expect(test.size).toBe(3);
      expect(Array.from(test.labels)).toEqual([5, 6, 7]);
      expect(test.images[0]).toBe(Math.fround(60 / 255));
      expect(test.ids[0]).toBe('fashion-mnist/test/0');

      const all = loadFashionMnist('all', dir);
      expect(all.size).toBe(8);
      expect(Array.from(all.labels)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      expect(Array.from(all.images.subarray(5 * 12))).toEqual(Array.from(test.images));
      expect(all.ids[5]).toBe('fashion-mnist/test/0');
    });
  }

  it('rejects a label/image count mismatch naming both files', () => {
    const dir = tempDir();
    writeTinySet(dir, 5, 3, false);
    writeFileSync(join(dir, 't10k-labels-idx1-ubyte'), idx([2], Uint8Array.from([1, 2])));
    expect(() => loadFashionMnist('test', dir)).toThrow(/t10k-labels-idx1-ubyte holds 2 labels but .*t10k-images-idx3-ubyte holds 3 images/);
  });

  it('rejects labels outside 0–9', () => {
    const dir = tempDir();
    writeTinySet(dir, 5, 3, false);
    writeFileSync(join(dir, 'train-labels-idx1-ubyte'), idx([5], Uint8Array.from([0, 1, 12, 3, 4])));
    expect(() => loadFashionMnist('train', dir)).toThrow(/label 12 at index 2/);
  });

  it('names a truncated images file', () => {
    const dir = tempDir();
    writeTinySet(dir, 5, 3, true);
    const full = idx([5, 4, 3], new Uint8Array(60));
    writeFileSync(join(dir, 'train-images-idx3-ubyte.gz'), gzipSync(full.subarray(0, full.length - 7)));
    expect(() => loadFashionMnist('train', dir)).toThrow(UserError);
    expect(() => loadFashionMnist('train', dir)).toThrow(/train-images-idx3-ubyte\.gz is truncated: .* 60 bytes of data but only 53 follow/);
  });

  it('names a file with a bad magic number', () => {
    const dir = tempDir();
    writeTinySet(dir, 5, 3, false);
    writeFileSync(join(dir, 't10k-images-idx3-ubyte'), Buffer.from('<html>not found</html>'));
    expect(() => loadFashionMnist('test', dir)).toThrow(/t10k-images-idx3-ubyte is not an IDX file: bad magic number/);
  });

  it('names a missing file', () => {
    const dir = tempDir();
    writeTinySet(dir, 5, 3, true);
    rmSync(join(dir, 't10k-labels-idx1-ubyte.gz'));
    expect(() => loadFashionMnist('test', dir)).toThrow(/t10k-labels-idx1-ubyte\.gz \(or t10k-labels-idx1-ubyte\) is missing from/);
    expect(loadFashionMnist('train', dir).size).toBe(5);
  });

  it('explains how to get the data when the directory is absent or empty', () => {
    const missing = join(tempDir(), 'nope');
    let caught: unknown;
    try {
      loadFashionMnist('test', missing);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(UserError);
    const message = (caught as UserError).message;
    expect(message).toContain(missing);
    expect(message).toContain('apt-get install dataset-fashion-mnist');
    expect(message).toContain('--data-dir');
    expect(message).not.toContain('\n');
    expect(() => loadFashionMnist('test', tempDir())).toThrow(/Fashion-MNIST not found in .*apt-get install dataset-fashion-mnist.*--data-dir/);
  });
});

describe('the Debian dataset-fashion-mnist package', () => {
  const installed = existsSync(join(FASHION_MNIST_DEFAULT_DIR, 'train-images-idx3-ubyte.gz'));

  it('uses the path the package installs to', () => {
    expect(FASHION_MNIST_DEFAULT_DIR).toBe('/usr/share/datasets/fashion-mnist');
  });

  it.skipIf(!installed)('has 60,000 train and 10,000 test images, 6,000 / 1,000 per class (skipped without Debian dataset-fashion-mnist)', () => {
    const train = loadFashionMnist('train');
    const test = loadFashionMnist('test');
    expect(train.size).toBe(60_000);
    expect(test.size).toBe(10_000);
    expect(train.shape).toEqual([28, 28, 1]);
    for (let k = 0; k < 10; k++) {
      expect(train.labels.filter((l) => l === k).length).toBe(6000);
      expect(test.labels.filter((l) => l === k).length).toBe(1000);
    }
    expect(Math.max(...test.images.subarray(0, 784))).toBeLessThanOrEqual(1);
  });
});
