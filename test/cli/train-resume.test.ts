import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/package-info.js';

const CLI = path.join(packageRoot(), 'src', 'cli', 'index.ts');

function train(out: string): { done: Promise<number>; kill: () => void } {
  const args = ['train', '--arch', 'mlp', '--epochs', '4', '--batch-size', '64', '--optimizer', 'adam', '--schedule', 'cosine', '--seed', '3', '--quiet', '--out', out];
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { stdio: 'ignore' });
  return { done: new Promise((resolve) => child.on('exit', (code) => resolve(code ?? -1))), kill: () => child.kill('SIGKILL') };
}

async function digest(file: string): Promise<string> {
  return createHash('sha256').update(await readFile(file)).digest('hex');
}

function checkpointEpoch(out: string): number {
  const file = path.join(`${out}.checkpoint`, 'training', 'checkpoint.json');
  if (!existsSync(file)) return 0;
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { epoch: number }).epoch;
  } catch {
    return 0;
  }
}

describe('a training run killed with SIGKILL', () => {
  it('resumes from its last epoch checkpoint and ends with the weights of an uninterrupted run', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'advtest-train-resume-'));
    const clean = path.join(dir, 'uninterrupted');
    // The uninterrupted run goes alongside the interrupted ones (separate folders), so the test
    // takes the time of one run and a half rather than two.
    const uninterrupted = train(clean).done;

    const out = path.join(dir, 'interrupted');
    const child = train(out);
    const deadline = Date.now() + 120_000;
    while (checkpointEpoch(out) < 2 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
    }
    child.kill();
    expect(await child.done).toBe(-1);
    expect(existsSync(path.join(out, 'model.json'))).toBe(false);
    expect(checkpointEpoch(out)).toBeGreaterThanOrEqual(2);

    expect(await train(out).done).toBe(0);
    expect(await uninterrupted).toBe(0);
    expect(existsSync(`${clean}.checkpoint`)).toBe(false);
    // Compared by hash: a byte-level diff of 800 kB would drown the report.
    expect(await digest(path.join(out, 'weights.bin'))).toBe(await digest(path.join(clean, 'weights.bin')));
    expect(existsSync(`${out}.checkpoint`)).toBe(false);
  }, 300_000);
});
