/** Datasets: loaders, the `--data` spec parser, image codec and helpers. */
import { UserError } from '../errors.js';
import type { Dataset, ImageShape } from '../types.js';
import { balancedSubset } from './dataset.js';
import { loadFashionMnist } from './fashion-mnist.js';
import { loadImageFolder } from './folder.js';
import type { DecodeOptions } from './image-codec.js';
import { loadMnist } from './mnist.js';

export * from './dataset.js';
export * from './fashion-mnist.js';
export * from './file-names.js';
export * from './folder.js';
export * from './idx.js';
export * from './image-codec.js';
export * from './mnist.js';

export const datasets = {
  mnist: loadMnist,
  fashionMnist: loadFashionMnist,
  folder: loadImageFolder,
} as const;

export const DATASET_SPEC_FORMS = 'mnist, fashion-mnist or folder:PATH';

export interface LoadDatasetOptions {
  split: 'train' | 'test';
  /** Required for folder:PATH (images are resized to it); for built-ins it must match if given. */
  shape?: ImageShape;
  /** Directory of the Fashion-MNIST IDX files (default: the Debian package's). */
  dataDir?: string;
  /** The model's class names: folder:PATH matches its sub-folders to them (see folder.ts). */
  classNames?: readonly string[] | undefined;
  /** How folder:PATH images are resized and converted (see image-codec.ts). */
  decode?: DecodeOptions;
}

function checkBuiltinShape(ds: Dataset, spec: string, shape: ImageShape | undefined): Dataset {
  if (shape !== undefined && shape.join(',') !== ds.shape.join(',')) {
    throw new UserError(
      `${spec} images are ${ds.shape.join('×')} but shape ${shape.join('×')} was asked for: use a model with input ${ds.shape.join('×')} or folder:PATH`,
    );
  }
  return ds;
}

/** What an evaluation runs on: a split, or its fixed class-balanced subset (named in reports). */
export interface EvaluationData {
  data: Dataset;
  subset?: string;
}

/** `data`, or its class-balanced subset of `limit` examples when that is fewer. */
export function limitTo(data: Dataset, limit: number | undefined): EvaluationData {
  if (limit === undefined || limit >= data.size) return { data };
  return { data: balancedSubset(data, limit), subset: `class-balanced subset of ${limit}` };
}

/** loadDataset, then limitTo. */
export async function loadEvaluationData(spec: string, opts: LoadDatasetOptions & { limit?: number | undefined }): Promise<EvaluationData> {
  const { limit, ...load } = opts;
  return limitTo(await loadDataset(spec, load), limit);
}

/**
 * Load a dataset from a spec: `mnist` | `fashion-mnist` | `folder:PATH`. A folder has no split
 * (opts.split is ignored, the Dataset's split is 'all'); opts.dataDir applies to fashion-mnist.
 */
export async function loadDataset(spec: string, opts: LoadDatasetOptions): Promise<Dataset> {
  if (spec === 'mnist') return checkBuiltinShape(loadMnist(opts.split), spec, opts.shape);
  if (spec === 'fashion-mnist') return checkBuiltinShape(loadFashionMnist(opts.split, opts.dataDir), spec, opts.shape);
  if (spec.startsWith('folder:')) {
    const path = spec.slice('folder:'.length);
    if (path === '') throw new UserError(`dataset "${spec}" has no path: use folder:PATH`);
    if (opts.shape === undefined) {
      throw new UserError(`dataset ${spec} needs an image shape (height, width, channels), normally the model's input shape`);
    }
    return loadImageFolder(path, opts.shape, { ...(opts.classNames ? { classNames: opts.classNames } : {}), ...(opts.decode ? { decode: opts.decode } : {}) });
  }
  throw new UserError(`unknown dataset "${spec}": use ${DATASET_SPEC_FORMS}`);
}
