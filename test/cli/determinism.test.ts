import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixtureModelPath } from '../../src/package-info.js';
import { runCli } from '../helpers/cli.js';

/** The report's bytes with the one field that may differ between runs (timings) taken out. */
async function bytesWithoutTimings(file: string): Promise<string> {
  const text = await readFile(file, 'utf8');
  const report = JSON.parse(text) as { timings?: unknown };
  expect(report.timings).toBeDefined();
  delete report.timings;
  return JSON.stringify(report, null, 2);
}

describe('the same command with the same seed', () => {
  it('writes a byte-identical report, apart from timings', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'advtest-determinism-'));
    const args = (seed: string, out: string) => ['eval', '--model', fixtureModelPath('mnist-cnn'), '--limit', '40', '--attack', 'pgd', '--steps', '5', '--eps', '0.05,0.1', '--seed', seed, '--workers', '1', '--quiet', '--json', path.join(dir, out)];
    expect((await runCli(...args('11', 'a.json'))).code).toBe(0);
    expect((await runCli(...args('11', 'b.json'))).code).toBe(0);
    expect(await bytesWithoutTimings(path.join(dir, 'b.json'))).toBe(await bytesWithoutTimings(path.join(dir, 'a.json')));
    // A different seed changes the random starts, so the bytes differ.
    expect((await runCli(...args('12', 'c.json'))).code).toBe(0);
    expect(await bytesWithoutTimings(path.join(dir, 'c.json'))).not.toBe(await bytesWithoutTimings(path.join(dir, 'a.json')));
  }, 180_000);
});
