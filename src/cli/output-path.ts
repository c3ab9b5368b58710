import { constants, type Stats } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../errors.js';

async function statOrCode(p: string): Promise<Stats | string> {
  try {
    return await stat(p);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
  }
}

/**
 * Refuses an output file that cannot be written, before any work is done: an evaluation of an
 * hour must not end in an internal error because --json names a folder that does not exist or a
 * path under a regular file. `createFolders`: missing folders will be created by the writer (the
 * nearest existing one must then be a writable folder); otherwise the file's folder must exist.
 */
export async function checkOutputFile(file: string, option: string, options: { createFolders?: boolean } = {}): Promise<void> {
  const target = path.resolve(file);
  const self = await statOrCode(target);
  if (typeof self !== 'string' && self.isDirectory()) {
    throw new UserError(`${option} ${file} is a folder: give a file name, e.g. ${path.join(file, 'report.json')}`);
  }
  const parent = path.dirname(target);
  for (let dir = parent; ; dir = path.dirname(dir)) {
    const info = await statOrCode(dir);
    if (typeof info !== 'string') {
      if (!info.isDirectory()) throw new UserError(`${option} ${file}: ${dir} is a file, not a folder: choose a path in a writable folder`);
      try {
        await access(dir, constants.W_OK);
      } catch {
        throw new UserError(`${option} ${file}: folder ${dir} is not writable: choose a path in a writable folder`);
      }
      return;
    }
    // ENOTDIR: an ancestor is a regular file, found further up.
    if (info === 'ENOENT' && dir === parent && !options.createFolders) {
      throw new UserError(`${option} ${file}: folder ${dir} does not exist: create it first or choose another path`);
    }
    if (info !== 'ENOENT' && info !== 'ENOTDIR') throw new UserError(`${option} ${file}: cannot access ${dir} (${info}): choose a path in a writable folder`);
    if (path.dirname(dir) === dir) throw new UserError(`${option} ${file}: no folder of it exists: choose a path in a writable folder`);
  }
}
