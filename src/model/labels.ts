import path from 'node:path';
import { UserError } from '../errors.js';
import { readJsonFile, readTextFile } from '../json-file.js';
import type { ExportMetadata } from './metadata.js';

/**
 * Class names from a file: JSON (an array of names, or { "labels": [...] }), or text with one
 * name per line (blank lines at the end are ignored, a blank line in between is refused).
 */
export async function readLabelsFile(file: string): Promise<string[]> {
  const text = (await readTextFile(file, 'give a text file with one class name per line, or a JSON array', 'labels file ')).replace(/^\uFEFF/, '');
  const trimmed = text.trim();
  if (file.toLowerCase().endsWith('.json') || trimmed.startsWith('[') || trimmed.startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(trimmed);
    } catch (err) {
      throw new UserError(`labels file ${file} is not valid JSON (${(err as Error).message}): give a JSON array of class names, or {"labels": [...]}`);
    }
    const labels = Array.isArray(json) ? json : (json as { labels?: unknown } | null)?.labels;
    return checkNames(labels, file);
  }
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const blank = lines.indexOf('');
  if (blank >= 0) throw new UserError(`labels file ${file}: line ${blank + 1} is blank: give one class name per line`);
  if (lines.length === 0) throw new UserError(`labels file ${file} is empty: give one class name per line`);
  return lines;
}

function checkNames(labels: unknown, source: string): string[] {
  if (!Array.isArray(labels) || labels.length === 0 || labels.some((l) => typeof l !== 'string' || l.trim() === '')) {
    throw new UserError(`${source}: "labels" must be a non-empty array of class names (strings): fix the file`);
  }
  return (labels as string[]).map((l) => l.trim());
}

/**
 * Teachable Machine's image library feeds `pixels / 127 − 1` (its `capture()`), i.e. [0, 1]
 * pixels mapped to [−1, 255/127 − 1].
 */
const TEACHABLE_MACHINE_RANGE = { lower: -1, upper: 255 / 127 - 1 };

/** Reads dir/metadata.json when there is one (undefined otherwise). */
export async function readExportMetadata(dir: string): Promise<ExportMetadata | undefined> {
  const file = path.join(dir, 'metadata.json');
  const json = (await readJsonFile(file, 'make it readable or remove it', 'fix it or remove it', true)) as Record<string, unknown> | undefined;
  if (json === undefined) return undefined;
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new UserError(`${file} is not a JSON object: fix it or remove it`);
  const out: ExportMetadata = { file };
  if (json.labels !== undefined) out.labels = checkNames(json.labels, file);
  if (json.imageSize !== undefined) {
    if (typeof json.imageSize !== 'number' || !Number.isInteger(json.imageSize) || json.imageSize <= 0) throw new UserError(`${file}: "imageSize" ${JSON.stringify(json.imageSize)} is not a positive integer: fix the file`);
    out.imageSize = json.imageSize;
  }
  if (typeof json.packageName === 'string') out.exporter = json.packageName;
  if (json.packageName === '@teachablemachine/image') out.preprocessing = { range: { ...TEACHABLE_MACHINE_RANGE } };
  return out;
}
