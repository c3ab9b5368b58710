/**
 * Fashion-MNIST from its four IDX files (gzipped or not) in a directory; by default where the
 * Debian package `dataset-fashion-mnist` installs them. 60,000 train and 10,000 test images,
 * 28×28 greyscale, pixels / 255. `all` is train followed by test.
 * ids: `fashion-mnist/<train|test>/<index in that file>`.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import type { Dataset } from '../types.js';
import { readIdxFile } from './idx.js';
import type { Split } from './mnist.js';

/** Where `apt-get install dataset-fashion-mnist` puts the files (checked with dpkg -L). */
export const FASHION_MNIST_DEFAULT_DIR = '/usr/share/datasets/fashion-mnist';

export const FASHION_MNIST_CLASS_NAMES: readonly string[] = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

const FILES = {
  train: { images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte' },
  test: { images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte' },
} as const;

function absent(dir: string): UserError {
  return new UserError(
    `Fashion-MNIST not found in ${dir}: install it with \`apt-get install dataset-fashion-mnist\` or pass --data-dir DIR holding train-images-idx3-ubyte.gz etc.`,
  );
}

/** The path of `base.gz` or else `base` in dir; UserError naming both when neither exists. */
function locate(dir: string, base: string): string {
  for (const name of [`${base}.gz`, base]) {
    const path = join(dir, name);
    if (existsSync(path)) return path;
  }
  throw new UserError(
    `Fashion-MNIST file ${base}.gz (or ${base}) is missing from ${dir}: reinstall dataset-fashion-mnist or add the file`,
  );
}

interface Part {
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
  height: number;
  width: number;
}

function readPart(dir: string, which: 'train' | 'test'): Part {
  const imagesPath = locate(dir, FILES[which].images);
  const labelsPath = locate(dir, FILES[which].labels);
  const images = readIdxFile(imagesPath);
  const labels = readIdxFile(labelsPath);
  if (images.dims.length !== 3) {
    throw new UserError(`${imagesPath} has shape ${images.dims.join('×')}, expected count×height×width: it is not an image file`);
  }
  if (labels.dims.length !== 1) {
    throw new UserError(`${labelsPath} has shape ${labels.dims.join('×')}, expected a 1-D list of labels: it is not a label file`);
  }
  const [count, height, width] = images.dims;
  if (labels.dims[0] !== count) {
    throw new UserError(
      `${labelsPath} holds ${labels.dims[0]} labels but ${imagesPath} holds ${count} images: the files do not belong together`,
    );
  }
  const bad = labels.data.findIndex((l) => l >= FASHION_MNIST_CLASS_NAMES.length);
  if (bad >= 0) {
    throw new UserError(`${labelsPath} has label ${labels.data[bad]} at index ${bad}, outside 0–9: the file is not Fashion-MNIST`);
  }
  return { images: images.data, labels: labels.data, count, height, width };
}

/** Fashion-MNIST from `dir` (default FASHION_MNIST_DEFAULT_DIR); see the module comment. */
export function loadFashionMnist(split: Split, dir: string = FASHION_MNIST_DEFAULT_DIR): Dataset {
  if (split !== 'train' && split !== 'test' && split !== 'all') {
    throw new UserError(`Fashion-MNIST split "${String(split)}" does not exist: use train, test or all`);
  }
  if (!existsSync(dir)) throw absent(dir);
  if (!statSync(dir).isDirectory()) {
    throw new UserError(`Fashion-MNIST directory ${dir} is a file: pass --data-dir DIR naming the directory holding the IDX files`);
  }
  const names = Object.values(FILES).flatMap((f) => [f.images, f.labels]);
  if (!names.some((base) => existsSync(join(dir, `${base}.gz`)) || existsSync(join(dir, base)))) throw absent(dir);

  const which: ('train' | 'test')[] = split === 'all' ? ['train', 'test'] : [split];
  const parts = which.map((w) => readPart(dir, w));
  const [height, width] = [parts[0].height, parts[0].width];
  if (parts.some((p) => p.height !== height || p.width !== width)) {
    throw new UserError(`Fashion-MNIST train and test images in ${dir} differ in size: the files do not belong together`);
  }
  const size = parts.reduce((s, p) => s + p.count, 0);
  const images = new Float32Array(size * height * width);
  const labels = new Int32Array(size);
  const ids: string[] = new Array<string>(size);
  let k = 0;
  parts.forEach((part, j) => {
    const offset = k * height * width;
    for (let i = 0; i < part.images.length; i++) images[offset + i] = part.images[i] / 255;
    for (let i = 0; i < part.count; i++, k++) {
      labels[k] = part.labels[i];
      ids[k] = `fashion-mnist/${which[j]}/${i}`;
    }
  });
  return {
    name: 'fashion-mnist',
    split,
    shape: [height, width, 1],
    numClasses: FASHION_MNIST_CLASS_NAMES.length,
    classNames: [...FASHION_MNIST_CLASS_NAMES],
    size,
    images,
    labels,
    ids,
  };
}
