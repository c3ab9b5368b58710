/**
 * Issue 18 item 10: a full disk (a real 64 kB tmpfs, mounted for the test) or a read-only file
 * system gives one line naming the file and the cause, exit 2, the previous file intact and no
 * temporary file left. Skipped, with the reason in its name, where mounting is not permitted.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { Journal, JOURNAL_FORMAT } from '../../src/harness/journal.js';
import { CERTIFY_JOURNAL_FORMAT, CertifyJournal } from '../../src/certify/journal.js';
import type { CertifiedExample } from '../../src/certify/report.js';
import { fixtureModelPath } from '../../src/package-info.js';
import { writeFileSafely } from '../../src/report/write-file.js';
import { saveCheckpoint } from '../../src/train/checkpoint.js';
import { useTestBackend } from '../helpers/backend.js';
import { runCli } from '../helpers/cli.js';
import { twoImageFolder } from './folders.js';

function tryMount(dir: string, options: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const base = await mkdtemp(path.join(tmpdir(), 'advtest-disk-'));
const full = path.join(base, 'full');
const readOnly = path.join(base, 'ro');
await mkdir(full);
await mkdir(readOnly);
const mounted = tryMount(full, 'size=64k') && tryMount(readOnly, 'ro,size=64k');

async function empty(dir: string): Promise<void> {
  for (const name of await readdir(dir)) await rm(path.join(dir, name), { recursive: true, force: true });
}

/** Fills the tmpfs up to its last few bytes (a file written until ENOSPC, then cut a little). */
async function fill(dir: string, leave: number): Promise<void> {
  const filler = path.join(dir, 'filler');
  await writeFile(filler, Buffer.alloc(64 * 1024)).catch(() => undefined);
  const { size } = await import('node:fs/promises').then((fs) => fs.stat(filler));
  await writeFile(filler, Buffer.alloc(Math.max(0, size - leave)));
}

describe.skipIf(!mounted)('a full disk and a read-only file system (needs `mount -t tmpfs`, i.e. root)', () => {
  beforeAll(useTestBackend);
  afterAll(async () => {
    for (const dir of [full, readOnly]) execFileSync('umount', [dir]);
    await rm(base, { recursive: true, force: true });
  });

  it('writeFileSafely: ENOSPC is one UserError naming the file and "disk full"; the old file stays, no temporary file', async () => {
    await empty(full);
    const file = path.join(full, 'report.json');
    await writeFile(file, 'previous report\n');
    await fill(full, 0);
    const err = await writeFileSafely(file, 'x'.repeat(40_000)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(/^cannot write \S+report\.json: disk full \(ENOSPC\); the file was left as it was: free some space/);
    expect(await readFile(file, 'utf8')).toBe('previous report\n');
    expect((await readdir(full)).sort()).toEqual(['filler', 'report.json']);
  });

  it('merge --json and check-style CLI writes on a full disk: exit 2, one line, previous file intact', async () => {
    await empty(full);
    const work = await mkdtemp(path.join(tmpdir(), 'advtest-disk-work-'));
    const data = `folder:${await twoImageFolder(path.join(work, 'data'))}`;
    const shards = [0, 1].map((i) => path.join(work, `s${i}.json`));
    for (const [i, s] of shards.entries()) {
      const r = await runCli('eval', '--model', fixtureModelPath('mnist-cnn'), '--data', data, '--attack', 'fgsm', '--eps', '0.1', '--batch-size', '1', '--workers', '1', '--shard', `${i}/2`, '--json', s, '--quiet');
      expect(r.code, r.stderr).toBe(0);
    }
    const out = path.join(full, 'merged.json');
    await writeFile(out, 'previous\n');
    await fill(full, 1024);
    const r = await runCli('merge', ...shards, '--json', out);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    // The --json lock (taken first) or the report itself: whichever the full disk refuses first.
    expect(r.stderr).toMatch(/^advtest: cannot write \S+merged\.json(\.lock)?: disk full \(ENOSPC\)/);
    expect(await readFile(out, 'utf8')).toBe('previous\n');
    expect((await readdir(full)).sort()).toEqual(['filler', 'merged.json']);
  });

  it('a journal on a full disk: UserError naming it; a torn line is cut off so that it still resumes', async () => {
    await empty(full);
    const file = path.join(full, 'r.json.journal');
    const header = { format: JOURNAL_FORMAT, configHash: 'c', fingerprint: 'f', seed: 0, model: '{}' } as const;
    const journal = new Journal(file, header);
    const record = { batch: 0, start: 0, clean: [1], cells: [] };
    journal.append(record);
    journal.close();
    const before = await readFile(file, 'utf8');
    await fill(full, 0);
    const again = new Journal(file, header);
    const big = { batch: 1, start: 1, clean: new Array<number>(30_000).fill(7), cells: [] };
    // The first append rewrites the journal, the second appends: either hits the full disk.
    let err: unknown;
    try {
      again.append(big);
      again.append({ ...big, batch: 2 });
    } catch (e) {
      err = e;
    }
    again.close();
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(/^cannot write \S+r\.json\.journal: disk full \(ENOSPC\)/);
    expect((await readdir(full)).sort()).toEqual(['filler', 'r.json.journal']);
    // Whatever was written, every line is whole: the journal loads.
    expect(new Journal(file, header).done.has(0)).toBe(true);
    expect((await readFile(file, 'utf8')).startsWith(before)).toBe(true);
  });

  it('a certify journal on a full disk: the same UserError and the same cut, through the shared append', async () => {
    await empty(full);
    const file = path.join(full, 'c.json.journal');
    const header = { format: CERTIFY_JOURNAL_FORMAT, configHash: 'c', fingerprint: 'f', seed: 0, model: '{}' } as const;
    const example = (index: number, id: string) => ({ index, id, label: 0, forwardPasses: 1, seconds: 0 }) as unknown as CertifiedExample;
    const journal = new CertifyJournal(file, header);
    journal.append(example(0, 'a'));
    journal.close();
    const before = await readFile(file, 'utf8');
    await fill(full, 0);
    const again = new CertifyJournal(file, header);
    let err: unknown;
    try {
      again.append(example(1, 'x'.repeat(120_000)));
      again.append(example(2, 'y'.repeat(120_000)));
    } catch (e) {
      err = e;
    }
    again.close();
    expect(err).toBeInstanceOf(UserError);
    // The first append rewrites the journal, the second appends: either may be the one refused.
    expect((err as Error).message).toMatch(/^cannot write \S+c\.json\.journal: disk full \(ENOSPC\); (the journal was left as it was|the examples finished so far are kept in it)/);
    expect(new CertifyJournal(file, header).done.has(0)).toBe(true);
    expect((await readFile(file, 'utf8')).startsWith(before)).toBe(true);
  });

  it('a checkpoint on a full disk: UserError naming it, the previous checkpoint kept, no temporary folder', async () => {
    await empty(full);
    const dir = path.join(full, 'model.checkpoint');
    const state = (n: number) => ({ key: 'k', epoch: 1, globalStep: 1, rngState: {}, history: [], model: [tf.zeros([n])], optimizer: [] });
    const small = state(4);
    await saveCheckpoint(dir, small);
    tf.dispose(small.model);
    await fill(full, 0);
    const big = state(40_000);
    const err = await saveCheckpoint(dir, big).catch((e: unknown) => e);
    tf.dispose(big.model);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(/^cannot write \S+model\.checkpoint: disk full \(ENOSPC\); the previous checkpoint was kept/);
    expect((await readdir(full)).sort()).toEqual(['filler', 'model.checkpoint']);
    expect((await readdir(dir)).sort()).toEqual(['checkpoint.json', 'model.bin', 'optimizer.bin']);
  });

  it('train --out on a read-only file system: "read-only file system" before any training', async () => {
    const work = await mkdtemp(path.join(tmpdir(), 'advtest-disk-work-'));
    const data = `folder:${await twoImageFolder(path.join(work, 'data'))}`;
    const started = Date.now();
    const r = await runCli('train', '--arch', 'mlp', '--data', data, '--epochs', '50', '--out', path.join(readOnly, 'model'), '--quiet');
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^advtest: cannot write \S+ro\/model: read-only file system \(EROFS\); nothing was trained/);
    // 50 epochs would take far longer than the refusal.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await readdir(readOnly)).toEqual([]);
  });
});
