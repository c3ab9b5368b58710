import { readFile } from 'node:fs/promises';
import { UserError } from './errors.js';

/**
 * A JSON file the user named, parsed. A file that cannot be read, or is not JSON, is a UserError
 * naming it, the cause and `fix` (`invalidFix` for bad JSON, when that needs another fix).
 */
export async function readJsonFile(file: string, fix: string, invalidFix = fix): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new UserError(`cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): ${fix}`);
  }
  try {
    // Editors on Windows save UTF-8 with a byte-order mark, which JSON.parse refuses.
    return JSON.parse(text.replace(/^\uFEFF/, '')) as unknown;
  } catch (err) {
    throw new UserError(`${file} is not valid JSON (${(err as Error).message}): ${invalidFix}`);
  }
}
