import type { Report } from '../harness/report-types.js';
import type { Attack, Classifier, Dataset } from '../types.js';
import { chooseExamples } from './choose-examples.js';
import { describeGridFilter, type GridFilter } from './grid-filter.js';
import { regenerateExamples, type ExampleImage, type RegenerateOptions } from './regenerate.js';
import { reproduceEvaluation, type ReproduceOptions } from './reproduce.js';

/** Examples shown in a grid unless asked otherwise. */
export const DEFAULT_GRID_EXAMPLES = 8;

export interface ReportExamples {
  examples: ExampleImage[];
  classNames: readonly string[];
  /** Facts the reader should know about the images (another backend, an image not reproduced). */
  notes: string[];
}

function notesFor(report: Report, examples: ExampleImage[], backend?: string): string[] {
  const notes: string[] = [];
  if (backend !== undefined && backend !== report.backend.name) {
    notes.push(`Images regenerated on the ${backend} backend; the evaluation ran on ${report.backend.name}, so a few pixels may differ.`);
  }
  const off = examples.filter((e) => !e.reproduced).length;
  if (off > 0) notes.push(`${off} of ${examples.length} regenerated images are not classified as the report recorded (marked ⚠).`);
  return notes;
}

/** Picks the grid's examples from an evaluation still in memory and regenerates their images. */
export async function examplesOfEvaluation(
  model: Classifier,
  data: Dataset,
  report: Report,
  options: { count?: number; attacks?: Attack[]; onPhase?: RegenerateOptions['onPhase']; filter?: GridFilter } = {},
): Promise<ReportExamples> {
  const count = options.count ?? DEFAULT_GRID_EXAMPLES;
  const chosen = chooseExamples(report, count, options.filter);
  const examples = await regenerateExamples(model, data, report, chosen, {
    ...(options.attacks ? { attacks: options.attacks } : {}),
    ...(options.onPhase ? { onPhase: options.onPhase } : {}),
  });
  const described = options.filter ? describeGridFilter(options.filter) : '';
  const matched =
    described === '' ? [] : chosen.length === 0 ? [`No clean-correct example matches the grid filter (${described}).`] : [`Grid filter: ${described}${chosen.length < count ? ` (only ${chosen.length} examples match)` : ''}.`];
  return { examples, classNames: data.classNames, notes: [...matched, ...notesFor(report, examples)] };
}

/** The same from a report file: loads its model and data again (see reproduceEvaluation). */
export async function examplesOfReportFile(
  report: Report,
  file: string,
  options: ReproduceOptions & { count?: number; backend?: string; onPhase?: RegenerateOptions['onPhase']; filter?: GridFilter } = {},
): Promise<ReportExamples> {
  const { model, data } = await reproduceEvaluation(report, file, options);
  try {
    const out = await examplesOfEvaluation(model, data, report, options);
    const backendNote = options.backend !== undefined && options.backend !== report.backend.name ? notesFor(report, [], options.backend) : [];
    return { ...out, notes: [...backendNote, ...out.notes] };
  } finally {
    model.dispose?.();
  }
}
