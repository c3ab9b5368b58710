// The model's metadata types, apart from the code that reads them (store.ts, labels.ts, finish.ts), so that those need not import each other.
import type { Bounds } from '../types.js';
import type { Preprocessing } from './preprocessing.js';

/** What advtest stores in model.json's userDefinedMetadata.advtest. */
export interface ModelMetadata {
  arch?: string;
  /** The range the model takes (read as preprocessing range when `preprocessing.range` is absent). */
  bounds: Bounds;
  /** What the model expects of [0, 1] RGB pixels. */
  preprocessing?: Preprocessing;
  classNames?: string[];
  data?: string;
  training?: Record<string, unknown>;
}

export interface LoadModelOptions {
  /** What the model expects of [0, 1] pixels; each field given wins over the model's metadata. */
  preprocessing?: Preprocessing;
  /** Class names in output order; win over the model's metadata. */
  labels?: readonly string[];
  /** Where `preprocessing` came from, for messages: 'cli' names the flags. */
  source?: string;
  /** @deprecated Same as preprocessing.range. */
  bounds?: Bounds;
}

/** What a metadata.json next to model.json (image-classifier exports) says about the model. */
export interface ExportMetadata {
  file: string;
  labels?: string[];
  imageSize?: number;
  /** Set when the exporter is known to feed a fixed range (Teachable Machine). */
  preprocessing?: Preprocessing;
  exporter?: string;
}
