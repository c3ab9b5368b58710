import { constants } from 'node:fs';
import { access, mkdir, readFile, readdir, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../errors.js';
import { formatEps } from '../number-format.js';
import { writeFailure, writeFileSafely } from '../report/write-file.js';

// The write step of attackImages: the output folder, the PNGs and manifest.json, and removing
// this run's files when it fails.

/** What to do when the output folder already holds files. */
export type ExistingOutput = 'refuse' | 'replace';

export const MANIFEST = 'manifest.json';

/** The PNG name of input `index` (from its source file's name), unique among `used`. */
export function outputName(source: string, index: number, used: Set<string>): string {
  const base = path.basename(source).replace(/\.[^.]+$/, '') || `image-${index}`;
  let name = `${base}-adv.png`;
  for (let k = 2; used.has(name); k++) name = `${base}-adv-${k}.png`;
  used.add(name);
  return name;
}

/** The sub-folder of one ε when there are several: eps-8_255, eps-0.1. */
export function epsFolder(eps: number): string {
  return `eps-${formatEps(eps).replace('/', '_')}`;
}

/** The files an earlier manifest.json in dir lists (inside dir only), with the manifest itself. */
async function previousResults(dir: string): Promise<string[]> {
  const file = path.join(dir, MANIFEST);
  let listed: unknown;
  try {
    listed = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new UserError(`${file} cannot be read as an advtest manifest (${(err as Error).message.split('\n')[0]}): move it away or choose another --out`);
  }
  const images = (listed as { images?: { output?: unknown }[] }).images;
  const outputs = Array.isArray(images) ? images.map((e) => e?.output).filter((o): o is string => typeof o === 'string') : [];
  const root = path.resolve(dir);
  const inside = outputs.map((o) => path.resolve(root, o)).filter((f) => f.startsWith(root + path.sep));
  return [...inside, file];
}

/**
 * Checks the output folder before any work: a file, an unwritable place, or (with `existing`
 * 'refuse') a folder that already holds something are refused. True when the folder exists.
 */
export async function checkOutDir(dir: string, existing: ExistingOutput = 'replace'): Promise<boolean> {
  const info = await stat(dir).catch(() => undefined);
  if (info && !info.isDirectory()) throw new UserError(`--out ${dir} is a file, not a folder: choose a folder name`);
  if (info && existing === 'refuse') {
    const entries = await readdir(dir);
    if (entries.length > 0) {
      const what = entries.includes(MANIFEST) ? `earlier results (${MANIFEST} and ${entries.length - 1} more)` : `${entries.length} file${entries.length === 1 ? '' : 's'}`;
      throw new UserError(`--out ${dir} is not empty: it holds ${what}; choose a new folder, or pass --force to replace the results its ${MANIFEST} lists`);
    }
  }
  return info !== undefined;
}

/** Creates the output folder if needed; true when it did (so that a failed run can remove it). */
async function prepareOutDir(dir: string, existing: ExistingOutput): Promise<boolean> {
  const existed = await checkOutDir(dir, existing);
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    const why = code === 'ENOTDIR' ? 'ENOTDIR: part of the path is a file' : code === 'EACCES' || code === 'EPERM' ? `${code}: permission denied` : code;
    throw new UserError(`cannot create output folder ${dir} (${why}): choose a writable --out`);
  }
  // An existing read-only folder would otherwise fail on the first image, after the attack ran.
  try {
    await access(dir, constants.W_OK);
  } catch {
    throw new UserError(`output folder ${dir} is not writable: choose a writable --out`);
  }
  return !existed;
}

const exists = (file: string): Promise<boolean> => stat(file).then(() => true, () => false);

/** The output folder of one attackImages run: what it wrote, so that a failure leaves nothing half-done. */
export class OutputFolder {
  private readonly written: string[] = [];
  private readonly createdDirs: string[] = [];

  private constructor(
    readonly dir: string,
    private readonly createdDir: boolean,
  ) {}

  /**
   * Prepares `dir` for files at the `planned` relative paths: earlier results its manifest lists go
   * first (they were asked to be replaced), with the ε sub-folders they leave empty; any other file
   * at a planned path is refused, never overwritten.
   */
  static async open(dir: string, existing: ExistingOutput, subFolders: string[], planned: string[]): Promise<OutputFolder> {
    const createdDir = await prepareOutDir(dir, existing);
    const previous = await previousResults(dir);
    await Promise.all(previous.map((f) => rm(f, { force: true })));
    await Promise.all(subFolders.map((f) => rmdir(path.join(dir, f)).catch(() => undefined)));
    for (const rel of planned) {
      if (await exists(path.join(dir, rel))) {
        throw new UserError(`--out ${dir} already holds ${rel}, which no earlier manifest lists: move it away or choose another --out`);
      }
    }
    return new OutputFolder(dir, createdDir);
  }

  /** Writes one file at `rel` through a temporary name, so that no truncated PNG is left. */
  async write(rel: string, bytes: Buffer): Promise<void> {
    const file = path.join(this.dir, rel);
    const dir = path.dirname(file);
    // A sub-folder (eps-<ε>/, with several budgets): created once, and removed on failure if new.
    if (path.dirname(rel) !== '.' && !this.createdDirs.includes(dir)) {
      if (!(await exists(dir))) this.createdDirs.push(dir);
      await mkdir(dir, { recursive: true });
    }
    const tmp = path.join(dir, `.${path.basename(rel)}.tmp-${process.pid}`);
    try {
      await writeFile(tmp, bytes);
      await rename(tmp, file);
    } catch (err) {
      await rm(tmp, { force: true });
      throw writeFailure(file, err, "this run's images were removed");
    }
    this.written.push(file);
  }

  /** manifest.json, every byte checked (a full disk must not leave a truncated manifest beside the images). */
  async writeManifest(manifest: unknown): Promise<void> {
    // writeFileSafely's error already names the file and the cause ("disk full").
    await writeFileSafely(path.join(this.dir, MANIFEST), JSON.stringify(manifest, null, 2) + '\n');
  }

  /** Removes this run's images and the folders it created. */
  async removeWritten(): Promise<void> {
    await Promise.all(this.written.map((f) => rm(f, { force: true })));
    for (const dir of this.createdDirs) await rmdir(dir).catch(() => undefined);
    // rmdir leaves the folder if anything else landed in it meanwhile.
    if (this.createdDir) await rmdir(this.dir).catch(() => undefined);
  }
}
