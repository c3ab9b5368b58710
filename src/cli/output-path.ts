import { constants, type Stats } from 'node:fs';
import { access, readFile, realpath, stat } from 'node:fs/promises';
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

/**
 * The real path of a file that may not exist yet: the nearest existing ancestor is resolved
 * (symbolic links followed) and the missing rest appended, so `link/new.json` and
 * `target/new.json` compare equal.
 */
export async function realPathOf(file: string): Promise<string> {
  const absolute = path.resolve(file);
  try {
    return await realpath(absolute);
  } catch {
    const parent = path.dirname(absolute);
    if (parent === absolute) return absolute;
    return path.join(await realPathOf(parent), path.basename(absolute));
  }
}

function inside(child: string, folder: string): boolean {
  return child === folder || child.startsWith(folder.endsWith(path.sep) ? folder : folder + path.sep);
}

/** A model folder's files: model.json and the weight files its manifest lists (best effort). */
async function modelFiles(dir: string): Promise<string[]> {
  const files = [path.join(dir, 'model.json')];
  try {
    const json = JSON.parse(await readFile(path.join(dir, 'model.json'), 'utf8')) as { weightsManifest?: { paths?: unknown[] }[] };
    for (const group of json.weightsManifest ?? []) {
      for (const p of group.paths ?? []) if (typeof p === 'string') files.push(path.resolve(dir, p));
    }
  } catch {
    // An unreadable model is refused by its loader, with a better message than this check could give.
  }
  return files;
}

/** What one run reads and writes, as the user named them. */
export interface RunPaths {
  /** Model folders (--model, --teacher); URLs are ignored. Nothing may be written inside one. */
  models?: (string | undefined)[];
  /** --data: `folder:PATH` is an input folder; built-in sets have no path. */
  data?: string;
  /** Other input folders (--data-dir). */
  folders?: (string | undefined)[];
  /** Input files (a config, a report, a baseline). */
  files?: (string | undefined)[];
  /** Files and folders the run writes, with the option that named them; absent ones are skipped. */
  outputs: { option: string; path: string | boolean | undefined; folder?: boolean }[];
}

/**
 * Refuses, before any work, an output that would destroy an input of the same run or another of
 * its outputs: `eval --json m/model.json`, `report r.json --out r.json`, `eval --json x --html x`.
 * Paths are compared after resolving symbolic links, also for files that do not exist yet.
 */
export async function checkRunPaths(run: RunPaths): Promise<void> {
  const folders: { real: string; what: string }[] = [];
  const files: { real: string; what: string }[] = [];
  for (const model of run.models ?? []) {
    if (model === undefined || /^https?:\/\//i.test(model)) continue;
    folders.push({ real: await realPathOf(model), what: `the model folder ${model}` });
    for (const f of await modelFiles(model)) files.push({ real: await realPathOf(f), what: `the model file ${f}` });
  }
  const dataFolder = run.data?.startsWith('folder:') ? run.data.slice('folder:'.length) : undefined;
  for (const dir of [dataFolder, ...(run.folders ?? [])]) {
    if (dir !== undefined) folders.push({ real: await realPathOf(dir), what: `the input folder ${dir}` });
  }
  for (const f of run.files ?? []) if (f !== undefined) files.push({ real: await realPathOf(f), what: `the input ${f}` });
  const seen: { real: string; option: string; shown: string }[] = [];
  for (const out of run.outputs) {
    if (typeof out.path !== 'string') continue;
    const real = await realPathOf(out.path);
    const named = `${out.option} ${out.path}`;
    const file = files.find((f) => f.real === real);
    if (file) throw new UserError(`${named} is ${file.what}, which this run reads: writing it would destroy it; choose another output path`);
    const folder = folders.find((f) => inside(real, f.real));
    if (folder) throw new UserError(`${named} lies inside ${folder.what}, which this run reads: choose an output path outside it`);
    // A folder output is replaced whole: it must not hold anything the run reads.
    const held = out.folder ? [...files, ...folders].find((f) => inside(f.real, real)) : undefined;
    if (held) throw new UserError(`${named} would replace a folder holding ${held.what}, which this run reads: choose another output folder`);
    const twice = seen.find((s) => s.real === real || (out.folder && inside(s.real, real)));
    if (twice) throw new UserError(`${named} is the same file as ${twice.option} ${twice.shown}: give each output its own path`);
    seen.push({ real, option: out.option, shown: out.path });
  }
}
