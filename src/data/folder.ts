/**
 * A labelled image set laid out as root/<class>/<image>: one sub-folder per class.
 *
 * Labels: when the model's class names are given (`classNames`), each sub-folder must be one of
 * them (exact, else case-insensitive) and its label is that name's index, so folders `cat/ dog/`
 * for a 1000-class model get the model's own indices; a folder name the model does not have is
 * refused. Without class names, the label is the folder's position among the sub-folder names
 * sorted by code point, and the Dataset says so in `notes` (which reach the report).
 *
 * Inside a class folder every regular file not starting with '.' is decoded (any format the codec
 * reads) and must succeed; files are taken in sorted order. A class folder without images is
 * allowed (noted), but not a folder without any. Files directly in root and folders nested inside
 * class folders are ignored. Each image is brought to height × width and the requested channels
 * as `decode` says (default: centre crop, bilinear, alpha onto white; see image-codec.ts).
 * ids are `<class>/<file>` relative to root; split is 'all'.
 */
import type { Stats } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { UserError } from '../errors.js';
import type { Dataset, ImageShape } from '../types.js';
import { assertImageShape, decodeImage, type DecodeOptions } from './image-codec.js';

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

export interface ImageFolderOptions {
  /** The model's class names: sub-folders are matched to them by name (see the module comment). */
  classNames?: readonly string[];
  decode?: DecodeOptions;
}

const quote = (names: readonly string[]): string => names.map((n) => `"${n}"`).join(', ');

/** The model's class index named by folder `name`: exact match first, then ignoring case. */
function classIndex(name: string, classNames: readonly string[], byLowerCase: Map<string, number[]>): number | undefined {
  const exact = classNames.indexOf(name);
  if (exact >= 0) return exact;
  const folded = byLowerCase.get(name.trim().toLowerCase());
  return folded?.length === 1 ? folded[0] : undefined;
}

function unknownClass(dir: string, name: string, classNames: readonly string[]): UserError {
  // Names that contain the folder's name (or the other way round) first: the likely meant ones.
  const key = name.toLowerCase();
  const near = classNames.filter((c) => c.toLowerCase().includes(key) || key.includes(c.toLowerCase()));
  const shown = [...new Set([...near, ...classNames])].slice(0, 6);
  const more = classNames.length > shown.length ? ', …' : '';
  return new UserError(
    `class folder "${name}" in ${dir} is not one of the model's ${classNames.length} class names (${quote(shown)}${more}): rename the folder to the model's name for that class, or remove it`,
  );
}

/** Load root/<class>/<image> into memory at `shape`; see the module comment. */
export async function loadImageFolder(root: string, shape: ImageShape, options: ImageFolderOptions = {}): Promise<Dataset> {
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
  const folders = (await listDir(dir)).dirs;
  if (folders.length === 0) {
    throw new UserError(`image folder ${dir} has no class sub-folders: put each class's images in ${dir}/<class name>/`);
  }
  const modelNames = options.classNames !== undefined && options.classNames.length > 0 ? options.classNames : undefined;
  const labelOf = new Map<string, number>();
  const notes: string[] = [];
  if (modelNames) {
    const byLowerCase = new Map<string, number[]>();
    modelNames.forEach((n, i) => byLowerCase.set(n.trim().toLowerCase(), [...(byLowerCase.get(n.trim().toLowerCase()) ?? []), i]));
    const folderOf = new Map<number, string>();
    for (const name of folders) {
      const label = classIndex(name, modelNames, byLowerCase);
      if (label === undefined) throw unknownClass(dir, name, modelNames);
      const other = folderOf.get(label);
      if (other !== undefined) {
        throw new UserError(`class folders "${other}" and "${name}" in ${dir} both name the model's class "${modelNames[label]}": merge them into one folder`);
      }
      folderOf.set(label, name);
      labelOf.set(name, label);
    }
    notes.push(`class folders matched to the model's class names: ${folders.length} of ${modelNames.length} classes`);
  } else {
    folders.forEach((name, i) => labelOf.set(name, i));
    const shown = folders.slice(0, 6).map((n, i) => `${n} = ${i}`).join(', ');
    notes.push(
      `the model has no class names: class folders are labelled by their sorted position (${shown}${folders.length > 6 ? ', …' : ''}); give the model its class names to match folders by name`,
    );
  }

  const items: { file: string; id: string; label: number }[] = [];
  const empty: string[] = [];
  const onlyFolders: string[] = [];
  for (const name of folders) {
    const { dirs, files } = await listDir(join(dir, name));
    if (files.length === 0) {
      empty.push(name);
      if (dirs.length > 0) onlyFolders.push(name);
    }
    for (const file of files) items.push({ file: join(dir, name, file), id: `${name}/${file}`, label: labelOf.get(name)! });
  }
  if (items.length === 0) {
    const hint = onlyFolders.length > 0 ? ` (${join(dir, onlyFolders[0]!)} holds only folders: did you mean folder:${join(dir, onlyFolders[0]!)}?)` : '';
    throw new UserError(`image folder ${dir} has no image files in its class folders${hint}: put each class's images in ${dir}/<class name>/`);
  }
  if (empty.length > 0) notes.push(`class folders without images: ${empty.join(', ')}`);

  const [h, w, c] = shape;
  const per = h * w * c;
  const images = new Float32Array(items.length * per);
  await mapLimited(items, CONCURRENCY, async (item, i) => {
    images.set(await decodeImage(item.file, shape, options.decode), i * per);
  });
  return {
    name: `folder:${dir}`,
    split: 'all',
    shape: [h, w, c],
    numClasses: modelNames ? modelNames.length : folders.length,
    classNames: modelNames ? [...modelNames] : folders,
    size: items.length,
    images,
    labels: Int32Array.from(items, (it) => it.label),
    ids: items.map((it) => it.id),
    notes,
  };
}
