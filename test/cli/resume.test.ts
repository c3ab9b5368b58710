import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Report } from '../../src/harness/report-types.js';
import { fixtureModelPath, packageRoot } from '../../src/package-info.js';
import { makeRng } from '../../src/tensor/random.js';

const CLI = path.join(packageRoot(), 'src', 'cli', 'index.ts');
// 12 batches of 10: as many kill points as 240 digits in batches of 20 gave, at half the compute.
const ARGS = ['eval', '--model', fixtureModelPath('mnist-cnn'), '--limit', '120', '--batch-size', '10', '--attack', 'fgsm,pgd', '--steps', '3', '--eps', '0.1,0.2', '--seed', '3', '--quiet'];

function run(out: string): { done: Promise<number>; kill: () => void } {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...ARGS, '--json', out], { stdio: 'ignore' });
  return {
    done: new Promise((resolve) => child.on('exit', (code) => resolve(code ?? -1))),
    kill: () => child.kill('SIGKILL'),
  };
}

function journalBatches(file: string): number {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0).length - 1 : 0;
}

function comparable(file: string): string {
  const { timings: _t, ...rest } = JSON.parse(readFileSync(file, 'utf8')) as Report;
  void _t;
  return JSON.stringify(rest);
}

describe('an evaluation killed with SIGKILL', () => {
  it('resumes from its journal and produces the report of an uninterrupted run', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'advtest-resume-'));
    const clean = path.join(dir, 'uninterrupted.json');
    // The uninterrupted run goes alongside the interrupted ones (separate files): CI gives
    // vitest one worker on 2 cores, so the second core is otherwise idle here.
    const uninterrupted = run(clean).done;

    const out = path.join(dir, 'interrupted.json');
    const rng = makeRng(42);
    // Kill twice at random points (after 1..11 of the 12 batches), then let it finish.
    for (let kill = 0; kill < 2; kill++) {
      const target = journalBatches(`${out}.journal`) + 1 + Math.floor(rng() * 4);
      const child = run(out);
      const deadline = Date.now() + 120_000;
      while (journalBatches(`${out}.journal`) < target && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      child.kill();
      expect(await child.done).toBe(-1);
      expect(existsSync(out)).toBe(false);
    }
    expect(journalBatches(`${out}.journal`)).toBeGreaterThanOrEqual(2);
    expect(await run(out).done).toBe(0);
    expect(await uninterrupted).toBe(0);
    expect(existsSync(`${out}.journal`)).toBe(false);
    expect(comparable(out)).toBe(comparable(clean));
  }, 300_000);
});
