import type { Report } from '../harness/report-types.js';
import type { Leaderboard } from './leaderboard.js';
import type { RegressionTable } from './regression-table.js';

/**
 * What a report page or Markdown comment shows: an evaluation, a benchmark's leaderboard, a
 * regression check — any of them, in that order.
 */
export interface ReportDocument {
  title?: string;
  report?: Report;
  leaderboard?: Leaderboard;
  regression?: RegressionTable;
}

/** The heading: the given title, else the evaluated model. */
export function documentTitle(doc: ReportDocument): string {
  if (doc.title) return doc.title;
  const m = doc.report?.model;
  if (m) return `Robustness of ${String(m.path ?? m.name ?? 'the model')}`;
  if (doc.leaderboard) return 'Robustness leaderboard';
  if (doc.regression) return 'Robustness regression check';
  return 'advtest report';
}

/** A sequential suite's later rows are cumulative: "+ pgd" is after fgsm and pgd. */
export function attackLabel(report: Report, attack: string, norm: string): string {
  const sequential = report.config.mode === 'sequential' && report.config.attacks.length > 1;
  return `${sequential && attack !== report.config.attacks[0]?.name ? '+ ' : ''}${attack} (${norm})`;
}

export function dataLine(report: Report): string {
  const d = report.data;
  return `${d.name} ${d.split}, ${d.size} examples${d.subset ? ` (${d.subset})` : ''}${d.notes?.length ? ` (${d.notes.join('; ')})` : ''}`;
}

export function backendLine(report: Report): string {
  const b = report.backend;
  const threads = b.threads === undefined ? '' : `, ${b.threads} thread${b.threads === 1 ? '' : 's'}`;
  const auto = b.parallelism?.length ? `; ${b.parallelism.join('; ')}` : '';
  return `${b.name} (tfjs ${b.tfjsVersion}${b.fastKernels ? ', advtest gradient kernels' : ''}${threads}${auto})`;
}
