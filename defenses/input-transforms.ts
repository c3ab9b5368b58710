import { UserError } from '../src/errors.js';
import { withInputTransform, type InputTransform, type TransformedClassifier } from '../src/model/input-transform.js';
import type { Classifier } from '../src/types.js';
import { DEFENSE_REGISTRY, defenseSyntax, type TransformEntry } from './registry.js';

/** The input transform of a --transform spec, "name=value" of the registry's input transforms, e.g. "jpeg=75". */
function transformEntry(spec: string): { entry: TransformEntry; value: number } {
  const [name, value] = spec.split('=');
  const entry = DEFENSE_REGISTRY[name!];
  if (entry?.kind !== 'input-transform') throw new UserError(`--transform "${spec}": use ${defenseSyntax('input-transform', ', ', ' or ')}`);
  return { entry, value: Number(value) };
}

/** Parses "bit-depth=3" / "noise=0.1" / "median=2" / "jpeg=75". */
export function parseInputTransform(spec: string, seed = 0): InputTransform {
  const { entry, value } = transformEntry(spec);
  return entry.transform(value, seed);
}

/**
 * The classifier behind the transform of a --transform spec: the one builder for eval, workers,
 * bench, baseline/check and image regeneration, so that all judge the same model. JPEG gets its
 * sharp query (the harness judges with the real codec); the others are plain withInputTransform
 * wrappers.
 */
export function withTransformSpec(base: Classifier, spec: string, seed = 0): TransformedClassifier {
  const { entry, value } = transformEntry(spec);
  return entry.classifier ? entry.classifier(base, value) : withInputTransform(base, entry.transform(value, seed));
}
