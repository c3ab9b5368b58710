/**
 * Issue 18 item 16, beyond eval --json: baseline --out, check --json and merge --json take the
 * same lock, so that two runs writing one file at once do not both "succeed" with one result lost.
 * A lock held by a live process refuses the run (exit 2, one line, the file not written); a run's
 * own lock is gone when it ends.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureModelPath } from '../../src/package-info.js';
import { useTestBackend } from '../helpers/backend.js';
import { runCli } from '../helpers/cli.js';

const MODEL = fixtureModelPath('mnist-cnn');

describe('output locks of baseline --out, check --json and merge --json', () => {
  let root: string;
  let other: ChildProcess;
  let baseline: string;
  beforeAll(async () => {
    await useTestBackend();
    root = await mkdtemp(path.join(tmpdir(), 'advtest-locks-'));
    // Stands for another advtest run writing the same file: a live process whose pid is in the lock.
    other = spawn('sleep', ['120'], { stdio: 'ignore' });
    baseline = path.join(root, 'robustness.json');
    const r = await runCli('baseline', '--model', MODEL, '--limit', '4', '--attack', 'fgsm', '--eps', '0.1', '--out', baseline, '--quiet');
    expect(r.code, r.stderr).toBe(0);
  });
  afterAll(() => {
    other.kill();
  });

  const heldBy = async (file: string) => writeFile(`${file}.lock`, `${other.pid}\n`);
  const refusal = (option: string, file: string) =>
    `advtest: ${option} ${file} is being written by another advtest run (pid ${other.pid}): wait for it to finish or give another ${option}; if no such run exists, delete ${file}.lock\n`;

  it('baseline --out: its own lock is released; a held one refuses the run and the baseline is not written', async () => {
    expect(existsSync(`${baseline}.lock`)).toBe(false);
    const out = path.join(root, 'second.json');
    await heldBy(out);
    const r = await runCli('baseline', '--model', MODEL, '--limit', '4', '--attack', 'fgsm', '--eps', '0.1', '--out', out, '--quiet');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(refusal('--out', out));
    expect(existsSync(out)).toBe(false);
  });

  it('check --json: a held lock refuses the run; a free one is released after it', async () => {
    const json = path.join(root, 'check.json');
    await heldBy(json);
    const refused = await runCli('check', '--baseline', baseline, '--json', json, '--quiet');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(refusal('--json', json));
    expect(existsSync(json)).toBe(false);
    const free = path.join(root, 'check-free.json');
    const r = await runCli('check', '--baseline', baseline, '--json', free, '--quiet');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(await readFile(free, 'utf8'))).toHaveProperty('passed', true);
    expect(existsSync(`${free}.lock`)).toBe(false);
  });

  it('merge --json: a held lock refuses the merge, leaving the previous file as it was', async () => {
    const json = path.join(root, 'merged.json');
    await writeFile(json, 'previous\n');
    await heldBy(json);
    const shard = path.join(root, 'shard.json');
    await writeFile(shard, '{}\n');
    const r = await runCli('merge', shard, '--json', json);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(refusal('--json', json));
    expect(await readFile(json, 'utf8')).toBe('previous\n');
  });
});
