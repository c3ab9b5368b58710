import type { Classifier } from '../types.js';
import { UserError } from '../errors.js';
import { describePreprocessing, validatePreprocessing, withPreprocessing, type Preprocessing } from './preprocessing.js';
import type { ExportMetadata, LoadModelOptions, ModelMetadata } from './metadata.js';

// The metadata → classifier step of loadModel, without file IO, so that the browser build
// (src/browser/load-model.ts) wraps models loaded from URLs and File objects the same way.
// `modelJson` names the model.json (a path or a URL) in messages.

/** Refuses class names whose count is not the model's number of classes. */
export function checkLabelCount(labels: readonly string[], numClasses: number, source: string): void {
  if (labels.length !== numClasses) {
    throw new UserError(`${source} names ${labels.length} class${labels.length === 1 ? '' : 'es'} but the model has ${numClasses}: give exactly one name per class, in the model's output order`);
  }
}

/** The preprocessing of the model's own metadata, and a line saying where it came from. */
function metadataPreprocessing(modelJson: string, saved: Partial<ModelMetadata> | undefined, exported: ExportMetadata | undefined, channels: number): { p: Preprocessing; from: string[] } {
  const from: string[] = [];
  let p: Preprocessing = {};
  if (exported?.preprocessing) {
    validatePreprocessing(exported.preprocessing, channels, exported.file);
    p = { ...exported.preprocessing };
    from.push(`${exported.file} (${exported.exporter ?? 'exporter'} feeds pixels·255/127 − 1)`);
  }
  const own = { ...(saved?.bounds ? { range: saved.bounds } : {}), ...saved?.preprocessing };
  if (Object.keys(own).length > 0) {
    const where = `${modelJson} (userDefinedMetadata.advtest)`;
    validatePreprocessing(own, channels, where);
    p = { ...p, ...own };
    from.push(where);
  }
  return { p, from };
}

/**
 * Wraps a loaded model as loadModel returns it: preprocessing (options, else advtest's metadata,
 * else an export's metadata.json) as a differentiable first step, class names, describe() facts.
 */
export function finishClassifier(modelJson: string, base: Classifier, saved: Partial<ModelMetadata> | undefined, exported: ExportMetadata | undefined, options: LoadModelOptions): Classifier {
  const channels = base.inputShape[2];
  const fromMetadata = metadataPreprocessing(modelJson, saved, exported, channels);
  const given: Preprocessing = { ...(options.bounds ? { range: options.bounds } : {}), ...options.preprocessing };
  validatePreprocessing(given, channels, options.source ?? 'preprocessing');
  const preprocessing = { ...fromMetadata.p, ...given };
  const from = [...fromMetadata.from, ...(Object.keys(given).length > 0 ? [options.source === 'cli' ? 'command line' : 'loadModel options'] : [])];

  let classNames: readonly string[] | undefined;
  let labelsFrom: string | undefined;
  if (options.labels) {
    checkLabelCount(options.labels, base.numClasses, options.source === 'cli' ? '--labels' : 'labels');
    [classNames, labelsFrom] = [options.labels, options.source === 'cli' ? '--labels' : 'loadModel options'];
  } else if (saved?.classNames) {
    checkLabelCount(saved.classNames, base.numClasses, `${modelJson} (userDefinedMetadata.advtest.classNames)`);
    [classNames, labelsFrom] = [saved.classNames, 'advtest metadata'];
  } else if (exported?.labels) {
    checkLabelCount(exported.labels, base.numClasses, exported.file);
    [classNames, labelsFrom] = [exported.labels, exported.file];
  }
  const imageSize = exported?.imageSize;
  const sizeNote =
    imageSize !== undefined && (imageSize !== base.inputShape[0] || imageSize !== base.inputShape[1])
      ? `${exported!.file} says imageSize ${imageSize}; the model takes ${base.inputShape[0]}×${base.inputShape[1]} (used)`
      : undefined;

  const wrapped = withPreprocessing(base, preprocessing, options.source);
  return {
    ...wrapped,
    ...(classNames ? { classNames: [...classNames] } : {}),
    describe: () => ({
      ...wrapped.describe?.(),
      preprocessing: describePreprocessing(preprocessing),
      ...(from.length > 0 ? { preprocessingFrom: from.join('; ') } : {}),
      ...(labelsFrom ? { classNamesFrom: labelsFrom } : {}),
      ...(sizeNote ? { imageSize: sizeNote } : {}),
    }),
  };
}
