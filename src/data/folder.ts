/**
 * A labelled image set laid out as root/<class>/<image>: one sub-folder per class; class names
 * are the sub-folder names sorted by code point (label = index in that order). Inside a class
 * folder every regular file not starting with '.' is decoded (any format the codec reads) and
 * must succeed; files are taken in sorted order. Files directly in root and folders nested inside
 * class folders are ignored. Each image is resized to exactly height × width (aspect ratio not
 * kept) and converted to the requested channels; see image-codec.ts for the exact conversion.
 * ids are `<class>/<file>` relative to root; split is 'all'.
 */
import type { Stats } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { UserError } from '../errors.js';
import type { Dataset, ImageShape } from '../types.js';
import { assertImageShape, decodeImage } from './image-codec.js';

/** Images decoded concurrently (sharp has its own thread pool; this bounds open files). */
const CONCURRENCY = 8;

const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

interface Entries {
  dirs: string[];
  files: string[];
}

function unreadable(path: string, err: unknown): UserError {
  const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message.split('\n')[0];
  return new UserError(`cannot read ${path} (${reason}): fix its permissions or remove it (broken links too)`);
}

/** Sorted non-hidden entries of dir, split into folders and regular files (links followed). */
async function listDir(dir: string): Promise<Entries> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => !n.startsWith('.')).sort(byCodePoint);
  } catch (err) {
    throw unreadable(dir, err);
  }
  const dirs: string[] = [];
  const files: string[] = [];
  for (const name of names) {
    let info: Stats;
    try {
      info = await stat(join(dir, name));
    } catch (err) {
      throw unreadable(join(dir, name), err);
    }
    if (info.isDirectory()) dirs.push(name);
    else if (info.isFile()) files.push(name);
  }
  return { dirs, files };
}

async function mapLimited<T, R>(items: T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Load root/<class>/<image> into memory at `shape`; see the module comment. */
export async function loadImageFolder(root: string, shape: ImageShape): Promise<Dataset> {
  assertImageShape(shape);
  const dir = resolve(root);
  let rootInfo: Stats;
  try {
    rootInfo = await stat(dir);
  } catch {
    throw new UserError(`image folder ${dir} does not exist: pass folder:PATH with PATH holding one sub-folder per class`);
  }
  if (!rootInfo.isDirectory()) {
    throw new UserError(`image folder ${dir} is a file: pass folder:PATH with PATH holding one sub-folder per class`);
  }
  const classNames = (await listDir(dir)).dirs;
  if (classNames.length === 0) {
    throw new UserError(`image folder ${dir} has no class sub-folders: put each class's images in ${dir}/<class name>/`);
  }
  const items: { file: string; id: string; label: number }[] = [];
  for (const [label, name] of classNames.entries()) {
    const { dirs, files } = await listDir(join(dir, name));
    if (files.length === 0) {
      const hint = dirs.length > 0 ? ` (it holds only folders: did you mean folder:${join(dir, name)}?)` : '';
      throw new UserError(`class folder ${join(dir, name)} has no image files${hint}: add images or remove the folder`);
    }
    for (const file of files) items.push({ file: join(dir, name, file), id: `${name}/${file}`, label });
  }

  const [h, w, c] = shape;
  const per = h * w * c;
  const images = new Float32Array(items.length * per);
  await mapLimited(items, CONCURRENCY, async (item, i) => {
    images.set(await decodeImage(item.file, shape), i * per);
  });
  return {
    name: `folder:${dir}`,
    split: 'all',
    shape: [h, w, c],
    numClasses: classNames.length,
    classNames,
    size: items.length,
    images,
    labels: Int32Array.from(items, (it) => it.label),
    ids: items.map((it) => it.id),
  };
}
