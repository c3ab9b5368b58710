/**
 * Every folder in fixtures/scenarios/ holds one bad input and a scenario.json (see
 * scenario-types.ts; regenerate with `npx tsx scripts/make-scenarios.ts`). Each is run through
 * the CLI (in-process) and through the library, and must give:
 *  - the expected exit code (2: the user's input; 3 is for internal errors only),
 *  - exactly one stderr line, matching the scenario's pattern and naming the bad value or file,
 *    with no stack trace,
 *  - no output left behind: {out} lies in a fresh temporary folder that must still be empty
 *    afterwards (no partial file, no temporary name), and the scenario folder is unchanged,
 *  - from the library, a rejection of the expected class with the same message as the CLI line.
 */
import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeAttack } from '../../attacks/index.js';
import { initBackend } from '../../src/backend/select.js';
import { checkEpsAgainstRange, parseEpsList } from '../../src/parse.js';
import { checkOutputFile, checkRunPaths } from '../../src/cli/output-path.js';
import { parsePositiveInt } from '../../src/parse.js';
import { mergeReports } from '../../src/harness/merge.js';
import { Journal, JOURNAL_FORMAT } from '../../src/harness/journal.js';
import { readFile } from 'node:fs/promises';
import { loadDataset } from '../../src/data/index.js';
import { decodeImage, decodeImageWith, imageCodecName } from '../../src/data/image-codec.js';
import { UserError } from '../../src/errors.js';
import { attackImages } from '../../src/harness/attack-images.js';
import { checkBatchFits } from '../../src/harness/batch-size.js';
import { labelFromFileName } from '../../src/data/file-names.js';
import { evaluate } from '../../src/harness/evaluate.js';
import { loadModel, saveModel } from '../../src/model/store.js';
import { readLabelsFile } from '../../src/model/labels.js';
import { packageRoot } from '../../src/package-info.js';
import { readBaseline } from '../../src/regression/store.js';
import { useTestBackend } from '../helpers/backend.js';
import { loadBenchConfig } from '../../src/leaderboard/config.js';
import { runBench } from '../../src/leaderboard/run.js';
import { runCli } from '../helpers/cli.js';
import type { ApiCall, Scenario } from './scenario-types.js';

const FIXTURES = path.join(packageRoot(), 'fixtures');
const SCENARIOS = path.join(FIXTURES, 'scenarios');
const names = readdirSync(SCENARIOS)
  .filter((n) => existsSync(path.join(SCENARIOS, n, 'scenario.json')))
  .sort();

const temporaryDirs: string[] = [];

/** A path that does not exist yet, in a fresh folder of its own (checked for leftovers afterwards). */
async function freshOut(): Promise<{ folder: string; out: string }> {
  const folder = await mkdtemp(path.join(tmpdir(), 'advtest-scenario-'));
  temporaryDirs.push(folder);
  return { folder, out: path.join(folder, 'out') };
}

function fill<T>(value: T, vars: Record<string, string>): T {
  if (typeof value === 'string') return value.replace(/\{(dir|fixtures|out)\}/g, (_, k: string) => vars[k]!) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => fill(v, vars)) as T;
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v, vars)])) as T;
  }
  return value;
}

/** Every file and folder under dir, relative, sorted: what a run must not change. */
async function listing(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true });
  return entries.sort();
}

/** The library equivalent of each scenario's CLI run. */
async function callApi(api: ApiCall): Promise<unknown> {
  switch (api.call) {
    case 'decodeImage':
      return decodeImage(api.file, api.shape);
    case 'loadModel':
      return (await loadModel(api.model, { ...(api.labels ? { labels: await readLabelsFile(api.labels) } : {}), ...(api.preprocessing ? { preprocessing: api.preprocessing } : {}), source: 'cli' })).dispose?.();
    case 'loadDataset':
      return loadDataset(api.spec, { split: 'test', shape: api.shape, ...(api.dataDir !== undefined ? { dataDir: api.dataDir } : {}) });
    case 'evaluate': {
      const model = await loadModel(api.model);
      try {
        const data = await loadDataset(api.data, { split: 'test', shape: model.inputShape, classNames: model.classNames });
        return await evaluate(model, data, [makeAttack('fgsm')], api.eps, { seed: 0 });
      } finally {
        model.dispose?.();
      }
    }
    case 'attackImages': {
      const model = await loadModel(api.model);
      try {
        const pixels = await decodeImage(api.image, model.inputShape);
        const label = labelFromFileName(api.image);
        return await attackImages(model, [{ source: api.image, pixels, ...(label !== undefined ? { label } : {}) }], {
          attack: makeAttack('fgsm'),
          eps: api.eps,
          outDir: api.out,
          ...(api.existing ? { existing: api.existing } : {}),
        });
      } finally {
        model.dispose?.();
      }
    }
    case 'checkBatchFits':
      return checkBatchFits(api.batchSize, api.images, api.shape);
    case 'parseEpsList':
      return parseEpsList(api.text);
    case 'checkEpsAgainstRange':
      return checkEpsAgainstRange(api.eps, api.range);
    case 'checkOutputFile':
      return checkOutputFile(api.file, api.option, { createFolders: api.createFolders === true });
    case 'readBaseline':
      return readBaseline(api.file);
    case 'initBackend':
      return initBackend(api.backend, { threads: api.threads });
    case 'parsePositiveInt':
      return parsePositiveInt(api.text, api.option);
    case 'checkRunPaths':
      return checkRunPaths(api.run);
    case 'mergeFiles':
      return mergeReports(
        await Promise.all(api.files.map(async (f) => JSON.parse(await readFile(f, 'utf8')) as unknown)),
        api.files,
      );
    case 'runBench':
      return runBench(await loadBenchConfig(api.config), { file: api.config, out: api.out, quiet: true, log: () => undefined });
    case 'openJournal':
      return new Journal(api.file, { format: JOURNAL_FORMAT, configHash: '', fingerprint: '', seed: 0, model: '{}' });
    case 'saveModel': {
      const model = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [2, 2, 1] }), tf.layers.dense({ units: 2 })] });
      try {
        return await saveModel(model, api.dir, { bounds: { lower: 0, upper: 1 } });
      } finally {
        model.dispose();
      }
    }
  }
}

const ERRORS = { UserError } as const;

beforeAll(useTestBackend);
afterAll(async () => {
  await Promise.all(temporaryDirs.map((d) => rm(d, { recursive: true, force: true })));
});

it('finds the scenarios', () => {
  expect(names.length).toBeGreaterThanOrEqual(25);
});

describe.each(names)('scenario %s', (name) => {
  const dir = path.join(SCENARIOS, name);
  const scenario = JSON.parse(readFileSync(path.join(dir, 'scenario.json'), 'utf8')) as Scenario;
  /** The CLI's line without its prefix: the message the library must give too. */
  let cliMessage: string | undefined;

  it('CLI: exit code, one line naming the problem, nothing written', async () => {
    const { folder, out } = await freshOut();
    const before = await listing(dir);
    const r = await runCli(...fill(scenario.cli, { dir, fixtures: FIXTURES, out }));
    expect(r.code, r.stderr).toBe(scenario.exitCode);
    expect(r.stderr.endsWith('\n'), r.stderr).toBe(true);
    const lines = r.stderr.slice(0, -1).split('\n');
    expect(lines, r.stderr).toHaveLength(1);
    const line = lines[0]!;
    expect(line).toMatch(new RegExp(scenario.stderr));
    expect(line).toContain(scenario.names);
    expect(line).not.toMatch(/internal error|\s+at \S+ \(/);
    expect(r.stdout).toBe('');
    expect(existsSync(out)).toBe(false);
    expect(await readdir(folder)).toEqual([]);
    expect(await listing(dir)).toEqual(before);
    cliMessage = line.replace(/^advtest: /, '');
  });

  it('API: rejects with the same message', async () => {
    const { folder, out } = await freshOut();
    const before = await listing(dir);
    const api = fill(scenario.api, { dir, fixtures: FIXTURES, out });
    const err = await callApi(api).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ERRORS[scenario.error]);
    const message = (err as Error).message;
    expect(`advtest: ${message}`).toMatch(new RegExp(scenario.stderr));
    if (cliMessage !== undefined) expect(message).toBe(cliMessage);
    expect(await readdir(folder)).toEqual([]);
    expect(await listing(dir)).toEqual(before);
  });

  if (scenario.api.call === 'decodeImage') {
    it('API: the other decoder refuses it too', async () => {
      const api = fill(scenario.api, { dir, fixtures: FIXTURES, out: '' }) as Extract<ApiCall, { call: 'decodeImage' }>;
      // jimp is the fallback when sharp cannot load; it must be as careful (no bomb decoding).
      const other = (await imageCodecName()) === 'sharp' ? 'jimp' : 'sharp';
      const err = await decodeImageWith(other, api.file, api.shape).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(UserError);
      expect(`advtest: ${(err as Error).message}`).toMatch(new RegExp(scenario.stderr));
      expect((err as Error).message).toContain(scenario.names);
    });
  }
});

/**
 * Root ignores a folder's permissions, so scenarios/out-not-writable uses a path under a regular
 * file instead (ENOTDIR for everyone). When the tests do not run as root, a read-only folder is
 * checked as well.
 */
describe.skipIf(process.getuid?.() === 0)('read-only output folder (skipped as root, whom folder permissions do not stop)', () => {
  it('attack --out inside, or equal to, a 0o555 folder, and eval --json inside it: exit 2, one line, nothing written', async () => {
    const { folder } = await freshOut();
    const readOnly = path.join(folder, 'read-only');
    await mkdir(readOnly);
    await chmod(readOnly, 0o555);
    const digit = path.join(FIXTURES, 'images', 'mnist-test-0-label0.png');
    const model = path.join(FIXTURES, 'models', 'mnist-cnn');
    try {
      for (const args of [
        ['attack', '--model', model, '--images', digit, '--out', path.join(readOnly, 'adv'), '--quiet'],
        ['attack', '--model', model, '--images', digit, '--out', readOnly, '--quiet'],
        ['eval', '--model', model, '--data', 'mnist', '--limit', '10', '--eps', '0.1', '--json', path.join(readOnly, 'report.json'), '--quiet'],
      ]) {
        const r = await runCli(...args);
        expect(r.code, r.stderr).toBe(2);
        expect(r.stderr.trimEnd().split('\n'), r.stderr).toHaveLength(1);
        expect(r.stderr).toMatch(/not writable|EACCES/);
        expect(await readdir(readOnly)).toEqual([]);
      }
    } finally {
      await chmod(readOnly, 0o755);
    }
  });
});

/**
 * Outputs of commands that read a report: `report` checks --out up front; `merge` does not, and
 * its ENOTDIR from writing reaches main(), whose file-system net must still give exit 2 and one line.
 */
describe('outputs under a regular file, for commands reading reports', () => {
  it('report --out and merge --json: exit 2, one line naming the path, nothing written', async () => {
    const { folder } = await freshOut();
    const blocker = path.join(folder, 'file.txt');
    await writeFile(blocker, 'not a folder\n');
    const model = path.join(FIXTURES, 'models', 'mnist-cnn');
    const shards = [0, 1].map((i) => path.join(folder, `shard-${i}.json`));
    for (const [i, shard] of shards.entries()) {
      const r = await runCli('eval', '--model', model, '--data', 'mnist', '--limit', '4', '--attack', 'fgsm', '--eps', '0.1', '--batch-size', '1', '--workers', '1', '--shard', `${i}/2`, '--json', shard, '--quiet');
      expect(r.code, r.stderr).toBe(0);
    }
    const runs = [
      ['report', shards[0]!, '--no-images', '--out', path.join(blocker, 'report.html'), '--quiet'],
      ['merge', ...shards, '--json', path.join(blocker, 'merged.json')],
    ];
    for (const args of runs) {
      const r = await runCli(...args);
      expect(r.code, r.stderr).toBe(2);
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(/^advtest: .*file\.txt.*(is a file, not a folder|ENOTDIR)/);
      expect(lines[0]).not.toMatch(/internal error/);
    }
    expect((await readdir(folder)).sort()).toEqual(['file.txt', 'shard-0.json', 'shard-1.json']);
  });
});

// A scenario folder holds only committed inputs: a stray output file would show up here.
it('keeps the scenarios free of leftovers', async () => {
  for (const name of names) {
    const files = await listing(path.join(SCENARIOS, name));
    expect(files.filter((f) => /\.tmp|manifest\.json|report\.json|\.journal$/.test(f))).toEqual([]);
  }
});
