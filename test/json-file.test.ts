import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UserError } from '../src/errors.js';
import { readJsonFile } from '../src/json-file.js';

/** The one reader of JSON files people name (bench configs, reports, shard reports). */
describe('readJsonFile', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'advtest-json-'));
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('parses a file saved with a byte-order mark', async () => {
    const file = path.join(dir, 'bom.json');
    await writeFile(file, '\uFEFF{"a": [1, 2]}');
    await expect(readJsonFile(file, 'fix')).resolves.toEqual({ a: [1, 2] });
  });

  it('names a missing file, the cause and the fix', async () => {
    const file = path.join(dir, 'missing.json');
    const err = await readJsonFile(file, 'give a config').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toBe(`cannot read ${file} (ENOENT): give a config`);
  });

  it('names text that is not JSON with the parser\'s reason and its own fix', async () => {
    const file = path.join(dir, 'bad.json');
    await writeFile(file, '{"a": ');
    const err = await readJsonFile(file, 'give a config', 'fix the syntax').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is not valid JSON \\(.+\\): fix the syntax$`));
  });
});
