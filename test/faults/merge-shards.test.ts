/**
 * Issue 18 items 12 (merge accepting garbage) and 13 (merge crashes): shards are validated against
 * the shard-report schema and against each other; every bad shard is one line naming its file.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/harness/report-types.js';
import { fixtureModelPath } from '../../src/package-info.js';
import { useTestBackend } from '../helpers/backend.js';
import { runCli } from '../helpers/cli.js';
import { twoImageFolder } from './folders.js';

describe('advtest merge on bad shards', () => {
  let dir: string;
  let shards: string[];
  beforeAll(async () => {
    await useTestBackend();
    dir = await mkdtemp(path.join(tmpdir(), 'advtest-merge-'));
    const data = `folder:${await twoImageFolder(path.join(dir, 'data'))}`;
    shards = [0, 1].map((i) => path.join(dir, `s${i}.json`));
    for (const [i, s] of shards.entries()) {
      const r = await runCli('eval', '--model', fixtureModelPath('mnist-cnn'), '--data', data, '--attack', 'fgsm', '--eps', '0.1', '--batch-size', '1', '--workers', '1', '--shard', `${i}/2`, '--json', s, '--quiet');
      expect(r.code, r.stderr).toBe(0);
    }
  });

  /** Shard 1 edited by `edit`, merged with shard 0: exit 2, one line matching `pattern`. */
  async function refused(name: string, edit: (r: Report) => unknown, pattern: RegExp): Promise<void> {
    const report = JSON.parse(await readFile(shards[1]!, 'utf8')) as Report;
    const file = path.join(dir, name);
    await writeFile(file, JSON.stringify(edit(report)));
    const r = await runCli('merge', shards[0]!, file);
    expect(r.code, r.stderr).toBe(2);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(pattern);
    expect(lines[0]).not.toMatch(/internal error/);
    expect(r.stdout).toBe('');
  }

  it('the two good shards merge', async () => {
    const r = await runCli('merge', ...shards, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as Report).examples.ids).toHaveLength(2);
  });

  it('null.json and a shard without timings', async () => {
    await refused('null.json', () => null, /^advtest: \S+null\.json is not a valid shard report \(the top level must be object\): re-run that shard/);
    await refused('no-timings.json', (r) => ({ ...r, timings: undefined }), /^advtest: \S+no-timings\.json is not a valid shard report \(the top level must have required property 'timings'\)/);
  });

  it('a missing prediction, a null prediction, a non-numeric cost', async () => {
    await refused(
      'missing.json',
      (r) => {
        r.examples.results[0]!.predictions = [];
        return r;
      },
      /^advtest: \S+missing\.json is not a consistent shard report \(examples\.results\[0\]\.predictions \(fgsm ε=0\.1\) holds 0 values for the 1 examples of the shard\)/,
    );
    await refused(
      'null-prediction.json',
      (r) => {
        (r.examples.results[0]!.predictions as unknown[])[0] = null;
        return r;
      },
      /^advtest: \S+null-prediction\.json is not a valid shard report \(\/examples\/results\/0\/predictions\/0 must be integer\)/,
    );
    await refused(
      'cost.json',
      (r) => {
        (r.results[0]!.costs as unknown as Record<string, unknown>).gradients = 'twelve';
        return r;
      },
      /^advtest: \S+cost\.json is not a valid shard report \(\/results\/0\/costs\/gradients must be integer\)/,
    );
  });

  it('an example id in two shards', async () => {
    const first = JSON.parse(await readFile(shards[0]!, 'utf8')) as Report;
    await refused(
      'duplicate.json',
      (r) => {
        r.examples.ids[0] = first.examples.ids[0]!;
        return r;
      },
      new RegExp(`^advtest: example ${first.examples.ids[0]!.replace(/[.*+?^$()|[\]\\]/g, '\\$&')} appears in shard 0 and in shard 1: `),
    );
  });
});
