import { access } from 'node:fs/promises';
import path from 'node:path';
import { withTransformSpec } from '../../defenses/input-transforms.js';
import { fingerprint } from '../data/dataset.js';
import { loadEvaluationData } from '../data/index.js';
import { UserError } from '../errors.js';
import type { Report } from '../harness/report-types.js';
import { loadModel } from '../model/store.js';
import type { Classifier, Dataset } from '../types.js';

export interface ReproduceOptions {
  /** Model folder; default: the report's model path (as given, then relative to the report file). */
  model?: string;
  /** Folder of the Fashion-MNIST IDX files. */
  dataDir?: string;
}

const exists = (p: string) => access(path.join(p, 'model.json')).then(() => true, () => false);

async function modelFolder(report: Report, reportFile: string, given?: string): Promise<string> {
  if (given !== undefined) return given;
  const stored = report.model.path;
  if (typeof stored !== 'string') {
    throw new UserError(`the report names no model folder (model: ${JSON.stringify(report.model)}): pass --model DIR, or --no-images`);
  }
  const candidates = [stored, path.resolve(path.dirname(reportFile), stored)];
  for (const c of candidates) if (await exists(c)) return c;
  throw new UserError(`the report's model folder ${stored} has no model.json (looked at ${candidates.join(' and ')}): pass --model DIR, or --no-images`);
}

/** "class-balanced subset of 500" → 500; undefined for the whole split. */
function subsetSize(report: Report): number | undefined {
  const subset = report.data.subset;
  if (subset === undefined) return undefined;
  const m = /^class-balanced subset of (\d+)$/.exec(subset);
  if (!m) throw new UserError(`the report's examples are "${subset}", which advtest cannot select again: pass --no-images`);
  return Number(m[1]);
}

/**
 * The model and the evaluated examples of a report, loaded again so that its adversarial
 * examples can be regenerated. The data must have the report's fingerprint: other examples would
 * give other images.
 */
export async function reproduceEvaluation(report: Report, reportFile: string, options: ReproduceOptions = {}): Promise<{ model: Classifier; data: Dataset; modelPath: string }> {
  const modelPath = await modelFolder(report, reportFile, options.model);
  const base = await loadModel(modelPath);
  const transform = report.model.inputTransform;
  const model = typeof transform === 'string' ? withTransformSpec(base, transform, report.seed) : base;
  try {
    const split = report.data.split === 'train' ? 'train' : 'test';
    const { data } = await loadEvaluationData(report.data.name, { split, shape: model.inputShape, classNames: model.classNames, dataDir: options.dataDir, limit: subsetSize(report) });
    if (fingerprint(data) !== report.data.fingerprint) {
      throw new UserError(`the data loaded for ${report.data.name} ${report.data.split} differs from the evaluated examples (fingerprint ${fingerprint(data).slice(0, 12)}, report ${report.data.fingerprint.slice(0, 12)}): pass the same --data-dir, or --no-images`);
    }
    return { model, data, modelPath };
  } catch (err) {
    model.dispose?.();
    throw err;
  }
}
