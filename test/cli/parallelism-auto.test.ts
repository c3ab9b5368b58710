// --threads auto / --workers auto on the command line (issue 21): the counts come from the
// start-up probe, the choice is printed and kept in the report's provenance; bad values are
// a UserError naming the option.
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

describe('eval --threads auto --workers auto', () => {
  it('prints the choice and records it in the report', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'advtest-auto-'));
    const json = path.join(dir, 'report.json');
    const r = await runCli('eval', '--model', 'fixtures/models/mnist-cnn', '--limit', '10', '--attack', 'fgsm', '--eps', '0.1', '--threads', 'auto', '--workers', 'auto', '--json', json);
    expect(r.stderr).toMatch(/advtest: --threads auto → \d \(start-up probe, \d+ ms: throughput by thread count 1: 1\.00×/);
    const report = JSON.parse(await readFile(json, 'utf8')) as { backend: { threads: number; parallelism: string[] } };
    expect(report.backend.parallelism[0]).toContain(`--threads auto → ${report.backend.threads} (start-up probe`);
    expect(report.backend.parallelism[1]).toMatch(/^--workers auto → \d \(the same probe\)$/);
    expect(r.stdout).toContain(`--threads auto → ${report.backend.threads}`);
  });

  it('refuses a count that is neither auto nor a positive integer', async () => {
    const r = await runCli('eval', '--model', 'fixtures/models/mnist-cnn', '--limit', '10', '--attack', 'fgsm', '--workers', 'many');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--workers "many" must be auto or a positive integer');
  });
});
