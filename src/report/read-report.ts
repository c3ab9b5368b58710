import { UserError } from '../errors.js';
import { readJsonFile } from '../json-file.js';
import { REPORT_FORMAT, type Report } from '../harness/report-types.js';

/** Reads a report written by `advtest eval --json`; refuses anything else with what to do. */
export async function readReport(file: string): Promise<Report> {
  const json = await readJsonFile(file, 'give the JSON file written by advtest eval --json');
  const format = (json as { format?: unknown } | null)?.format;
  if (format !== REPORT_FORMAT) {
    throw new UserError(`${file} is not an advtest report (format ${JSON.stringify(format ?? null)}, expected "${REPORT_FORMAT}"): give the file written by advtest eval --json`);
  }
  const r = json as Report;
  if (!Array.isArray(r.results) || !Array.isArray(r.worstCase) || typeof r.examples?.ids !== 'object' || !Array.isArray(r.config?.attacks)) {
    throw new UserError(`${file} is an incomplete advtest report (results, worstCase, examples or config missing): write it again with advtest eval --json`);
  }
  return r;
}
