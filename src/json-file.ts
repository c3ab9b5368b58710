import { readFile, stat } from 'node:fs/promises';
import { UserError } from './errors.js';

/**
 * A JSON file the user named, parsed. A file that cannot be read, or is not JSON, is a UserError
 * naming it, the cause and `fix` (`invalidFix` for bad JSON, when that needs another fix).
 * `optional`: a file that is not there is undefined rather than an error.
 */
export async function readJsonFile(file: string, fix: string, invalidFix = fix, optional = false): Promise<unknown> {
  if (optional && !(await stat(file).then(() => true, (err: NodeJS.ErrnoException) => err.code !== 'ENOENT'))) return undefined;
  return parseJson(await readTextFile(file, fix), file, invalidFix);
}

/** A text file the user named; one that cannot be read is a UserError naming it (after `what`, e.g. "baseline "), the cause and `fix`. */
export async function readTextFile(file: string, fix: string, what = ''): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new UserError(`cannot read ${what}${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): ${fix}`);
  }
}

/** JSON text read from `file`, parsed; bad JSON is a UserError naming the file, the cause and `fix`. */
export function parseJson(text: string, file: string, fix: string): unknown {
  try {
    // Editors on Windows save UTF-8 with a byte-order mark, which JSON.parse refuses.
    return JSON.parse(text.replace(/^\uFEFF/, '')) as unknown;
  } catch (err) {
    throw new UserError(`${file} is not valid JSON (${(err as Error).message}): ${fix}`);
  }
}
