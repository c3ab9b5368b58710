import * as tf from '@tensorflow/tfjs';
import { UserError } from '../errors.js';
import type { Dataset, ImageShape } from '../types.js';

/**
 * A Dataset for evaluate() from a batch of [0, 1] images held by the page (imagesToBatch) and
 * their labels; `ids` name the examples in the report (file names, say).
 */
export function datasetFromImages(name: string, images: tf.Tensor4D, labels: readonly number[], classNames: readonly string[], ids?: readonly string[]): Dataset {
  const [size, h, w, c] = images.shape;
  if (labels.length !== size) throw new UserError(`${labels.length} labels for ${size} images: give one label per image`);
  const bad = labels.findIndex((l) => !Number.isInteger(l) || l < 0 || l >= classNames.length);
  if (bad >= 0) throw new UserError(`label ${labels[bad]} of image ${ids?.[bad] ?? bad} is not a class index 0..${classNames.length - 1}: fix the label`);
  if (ids && ids.length !== size) throw new UserError(`${ids.length} ids for ${size} images: give one id per image`);
  return {
    name,
    split: 'all',
    shape: [h, w, c] as ImageShape,
    numClasses: classNames.length,
    classNames: [...classNames],
    size,
    images: images.dataSync() as Float32Array,
    labels: Int32Array.from(labels),
    ids: ids ? [...ids] : labels.map((_, i) => String(i)),
  };
}
