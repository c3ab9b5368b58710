import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * vitest globalSetup: every test file, and every process it starts, makes its temporary folders
 * under one folder (TMPDIR, which os.tmpdir() reads and the forks inherit), removed when the run
 * ends — many tests leave theirs behind (a run left ~300 in /tmp).
 */
export default async function setup(): Promise<() => Promise<void>> {
  const root = await mkdtemp(path.join(tmpdir(), 'advtest-tests-'));
  process.env['TMPDIR'] = root;
  return async () => {
    await rm(root, { recursive: true, force: true });
  };
}
