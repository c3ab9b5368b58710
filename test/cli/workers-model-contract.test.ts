import { createHash } from 'node:crypto';
import { cp, mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/harness/report-types.js';
import { fixtureModelPath, packageRoot } from '../../src/package-info.js';
import { useTestBackend } from '../helpers/backend.js';
import { runCli } from '../helpers/cli.js';

const PHOTOS = path.join(packageRoot(), 'fixtures', 'photos');

/**
 * mobilenet-tiny-meanstd without its advtest metadata (preprocessing and class names), as a model
 * from elsewhere would be: what it expects must then come from the command line, and reach every
 * worker thread.
 */
async function bareMeanStdModel(root: string): Promise<string> {
  const dir = path.join(root, 'bare-meanstd');
  await cp(fixtureModelPath('mobilenet-tiny-meanstd'), dir, { recursive: true });
  const file = path.join(dir, 'model.json');
  const json = JSON.parse(await readFile(file, 'utf8')) as { userDefinedMetadata: { advtest: Record<string, unknown> } };
  const advtest = json.userDefinedMetadata.advtest;
  delete advtest.preprocessing;
  delete advtest.classNames;
  await writeFile(file, JSON.stringify(json));
  return dir;
}

async function photoFiles(): Promise<string[]> {
  const files: string[] = [];
  for (const c of (await readdir(PHOTOS, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort()) {
    for (const f of (await readdir(path.join(PHOTOS, c))).sort()) files.push(path.join(PHOTOS, c, f));
  }
  return files;
}

/** Every file of a folder with a hash of its bytes (a readable diff when they differ). */
async function contents(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of (await readdir(dir)).sort()) out[f] = createHash('sha256').update(await readFile(path.join(dir, f))).digest('hex');
  return out;
}

function comparable(r: Report): string {
  const { timings: _t, ...rest } = r;
  void _t;
  return JSON.stringify(rest);
}

describe('worker threads get the whole model contract (--mean/--std/--channel-order/--labels)', () => {
  let root: string;
  let model: string;
  let contract: string[];
  beforeAll(async () => {
    await useTestBackend();
    root = await mkdtemp(path.join(tmpdir(), 'advtest-workers-contract-'));
    model = await bareMeanStdModel(root);
    const labels = path.join(root, 'labels.txt');
    await writeFile(labels, 'astronaut\ncat\ncoffee\ngalaxies\nretina\nrocket\n');
    contract = ['--mean', '0.406,0.456,0.485', '--std', '0.225,0.224,0.229', '--channel-order', 'bgr', '--labels', labels];
  });

  it('eval --workers 2 gives the figures of --workers 1', async () => {
    // Batches of 4 of the 12 photos: three batches, so that both workers compute some.
    const args = ['eval', '--model', model, ...contract, '--data', `folder:${PHOTOS}`, '--batch-size', '4', '--attack', 'fgsm,pgd', '--steps', '2', '--eps', '2/255', '--seed', '3', '--quiet'];
    const one = await runCli(...args, '--workers', '1', '--json', path.join(root, 'one.json'));
    expect(one.code, one.stderr).toBe(0);
    const two = await runCli(...args, '--workers', '2', '--json', path.join(root, 'two.json'));
    expect(two.code, two.stderr).toBe(0);
    const a = JSON.parse(await readFile(path.join(root, 'one.json'), 'utf8')) as Report;
    const b = JSON.parse(await readFile(path.join(root, 'two.json'), 'utf8')) as Report;
    // The model with its preprocessing classifies the photos it was trained on: not at chance.
    expect(a.clean.accuracy).toBeGreaterThan(0.5);
    expect(b.examples).toEqual(a.examples);
    expect(comparable(b)).toBe(comparable(a));
  }, 180_000);

  it('attack --workers 2 writes the bytes of --workers 1', async () => {
    const images = await photoFiles();
    const runs: Record<string, string>[] = [];
    for (const workers of ['1', '2']) {
      const out = path.join(root, `attack-w${workers}`);
      const r = await runCli('attack', '--model', model, ...contract, '--images', ...images, '--batch-size', '4', '--attack', 'pgd', '--steps', '2', '--eps', '2/255', '--seed', '3', '--workers', workers, '--out', out, '--quiet');
      expect(r.code, r.stderr).toBe(0);
      runs.push(await contents(out));
    }
    expect(Object.keys(runs[0]!).length).toBeGreaterThan(1);
    expect(runs[1]).toEqual(runs[0]);
  }, 180_000);
});
