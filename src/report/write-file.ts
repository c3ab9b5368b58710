import { randomBytes } from 'node:crypto';
import { writeSync } from 'node:fs';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../errors.js';

/** Causes a person can act on, by errno code: the disk, not advtest. */
const CAUSES: Record<string, string> = {
  ENOSPC: 'disk full',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EFBIG: 'file too large for the file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'part of the path is a file, not a folder',
  EISDIR: 'it is a folder',
  ENOENT: 'its folder does not exist',
};

/** The errno code of an error, when it has one. */
export function errnoCode(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * A failed write as one line naming the file and the cause ("disk full"), or the error itself
 * when its cause is not one a person can fix. `left` says what state the file is in.
 */
export function writeFailure(file: string, err: unknown, left = 'the file was left as it was'): Error {
  if (err instanceof UserError) return err;
  const cause = writeCause(err);
  if (cause === undefined) return err as Error;
  return new UserError(`cannot write ${file}: ${cause.text}; ${left}: ${cause.fix}`);
}

/** A failed write's cause a person can act on ("disk full (ENOSPC)") and its fix; undefined for others. */
export function writeCause(err: unknown): { text: string; fix: string } | undefined {
  const code = errnoCode(err);
  const cause = code === undefined ? undefined : CAUSES[code];
  if (cause === undefined) return undefined;
  const fix = code === 'EROFS' ? 'choose a path on a writable file system' : code === 'ENOSPC' || code === 'EDQUOT' ? 'free some space or choose another location' : 'choose another path';
  return { text: `${cause} (${code})`, fix };
}

/** A short write that made no progress: the file system took nothing more, so it is full. */
function noProgress(): NodeJS.ErrnoException {
  return Object.assign(new Error('write made no progress'), { code: 'ENOSPC' });
}

/** Writes every byte through fd, whatever the size of each write the system accepts. */
export function writeAllSync(fd: number, data: string | Uint8Array): void {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  for (let offset = 0; offset < bytes.length; ) {
    const n = writeSync(fd, bytes, offset, bytes.length - offset);
    if (n <= 0) throw noProgress();
    offset += n;
  }
}

async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  for (let offset = 0; offset < bytes.length; ) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset);
    if (bytesWritten <= 0) throw noProgress();
    offset += bytesWritten;
  }
}

/**
 * Replaces `file` all at once: the bytes go to a temporary file beside it, every byte checked
 * written and flushed (write-file-atomic issues one write and ignores a short count, so a full
 * disk left a truncated file), then renamed over it. On any failure the temporary file is removed
 * and `file` is untouched; a full or read-only disk is a UserError naming the file and the cause.
 */
export async function writeFileSafely(file: string, data: string | Uint8Array): Promise<void> {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  const target = path.resolve(file);
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  let handle: FileHandle | undefined;
  try {
    handle = await open(tmp, 'wx');
    await writeAll(handle, bytes);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(tmp, target);
  } catch (err) {
    await handle?.close().catch(() => undefined);
    await rm(tmp, { force: true }).catch(() => undefined);
    throw writeFailure(file, err);
  }
}
