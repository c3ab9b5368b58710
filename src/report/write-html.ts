import type { Report } from '../harness/report-types.js';
import type { Attack, Classifier, Dataset } from '../types.js';
import { buildHtml } from './build-html.js';
import type { GridFilter } from './grid-filter.js';
import type { RegenerateOptions } from './regenerate.js';
import { examplesOfEvaluation } from './example-images.js';
import { writeFileSafely } from './write-file.js';

/**
 * `eval --html FILE`: the report page of an evaluation that just ran, with its image grid made
 * from the same model, data and attack objects (nothing to reload or rebuild).
 */
export async function writeEvaluationHtml(
  file: string,
  model: Classifier,
  data: Dataset,
  report: Report,
  options: { attacks: Attack[]; count?: number; onPhase?: RegenerateOptions['onPhase']; filter?: GridFilter },
): Promise<void> {
  const images = await examplesOfEvaluation(model, data, report, options);
  const html = await buildHtml({ report }, { examples: images.examples, classNames: images.classNames, notes: images.notes });
  await writeFileSafely(file, html);
}
