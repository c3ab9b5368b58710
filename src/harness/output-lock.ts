import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { UserError } from '../errors.js';
import { writeAllSync, writeFailure } from '../report/write-file.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes `${file}.lock` (created exclusively, holding the pid) for the length of a run writing
 * `file`, so that two runs writing the same report at once are not both "successful" with one
 * result silently lost. A lock whose process is gone (a killed run) is taken over. Returns the
 * release function.
 */
export function lockOutput(file: string, option: string): () => void {
  const lock = `${file}.lock`;
  for (let attempt = 0; ; attempt++) {
    let fd: number;
    try {
      fd = openSync(lock, 'wx');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw writeFailure(lock, err, 'nothing was written');
      const pid = Number.parseInt(readFileSync(lock, 'utf8').trim(), 10);
      if (Number.isInteger(pid) && pid > 0 && alive(pid)) {
        throw new UserError(`${option} ${file} is being written by another advtest run (pid ${pid}): wait for it to finish or give another ${option}; if no such run exists, delete ${lock}`);
      }
      // Left by a run that was killed: nobody holds it.
      rmSync(lock, { force: true });
      continue;
    }
    try {
      writeAllSync(fd, `${process.pid}\n`);
    } catch (err) {
      closeSync(fd);
      rmSync(lock, { force: true });
      throw writeFailure(lock, err, 'nothing was written');
    }
    closeSync(fd);
    let held = true;
    return () => {
      if (held) rmSync(lock, { force: true });
      held = false;
    };
  }
}
