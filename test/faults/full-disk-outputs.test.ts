/**
 * Issue 18 item 10, the outputs full-disk.test.ts does not cover: attack's manifest.json (written
 * with every byte checked, the run's images removed when it cannot be) and a model saved to a
 * full disk ("disk full (ENOSPC)", as the file writer says it). A real 64 kB tmpfs; skipped where
 * mounting is not permitted.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveModel } from '../../src/model/store.js';
import { fixtureModelPath, packageRoot } from '../../src/package-info.js';
import { useTestBackend } from '../helpers/backend.js';
import { runCli } from '../helpers/cli.js';

function tryMount(dir: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const base = await mkdtemp(path.join(tmpdir(), 'advtest-disk-out-'));
const full = path.join(base, 'full');
await mkdir(full);
const mounted = tryMount(full);

async function empty(dir: string): Promise<void> {
  for (const name of await readdir(dir)) await rm(path.join(dir, name), { recursive: true, force: true });
}

/** Fills the tmpfs but for `leave` bytes. */
async function fill(dir: string, leave: number): Promise<void> {
  const filler = path.join(dir, 'filler');
  await writeFile(filler, Buffer.alloc(64 * 1024)).catch(() => undefined);
  const { size } = await stat(filler);
  await writeFile(filler, Buffer.alloc(Math.max(0, size - leave)));
}

describe.skipIf(!mounted)('outputs on a full disk (needs `mount -t tmpfs`, i.e. root)', () => {
  beforeAll(useTestBackend);
  afterAll(async () => {
    execFileSync('umount', [full]);
    await rm(base, { recursive: true, force: true });
  });

  it('attack: a manifest that does not fit is one line naming it, exit 2, and no image of the run is left', async () => {
    await empty(full);
    const out = path.join(full, 'adv');
    await mkdir(out);
    // One page free: the PNG (under 1 kB) fits, the manifest after it does not.
    await fill(full, 4096);
    const image = path.join(packageRoot(), 'fixtures', 'images', 'mnist-test-0-label0.png');
    const r = await runCli('attack', '--model', fixtureModelPath('mnist-cnn'), '--images', image, '--attack', 'fgsm', '--eps', '0.3', '--out', out, '--workers', '1', '--quiet');
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toBe(`advtest: cannot write ${path.join(out, 'manifest.json')}: disk full (ENOSPC); the file was left as it was: free some space or choose another location\n`);
    expect(await readdir(out)).toEqual([]);
  });

  it('attack: an image that does not fit is named with "disk full", exit 2, nothing left', async () => {
    await empty(full);
    const out = path.join(full, 'adv');
    await mkdir(out);
    await fill(full, 0);
    const image = path.join(packageRoot(), 'fixtures', 'images', 'mnist-test-0-label0.png');
    const r = await runCli('attack', '--model', fixtureModelPath('mnist-cnn'), '--images', image, '--attack', 'fgsm', '--eps', '0.3', '--out', out, '--workers', '1', '--quiet');
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^advtest: cannot write \S+mnist-test-0-label0-adv\.png: disk full \(ENOSPC\); this run's images were removed: free some space or choose another location\n$/);
    expect(await readdir(out)).toEqual([]);
  });

  it('saving a model: "disk full (ENOSPC)", the earlier model intact, no temporary folder', async () => {
    await empty(full);
    const dir = path.join(full, 'model');
    await mkdir(dir);
    await writeFile(path.join(dir, 'model.json'), 'earlier model\n');
    await fill(full, 0);
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 64, inputShape: [64] })] });
    try {
      await expect(saveModel(model, dir, { arch: 'tiny', bounds: { lower: 0, upper: 1 } })).rejects.toThrow(
        `cannot save the model to ${dir}: disk full (ENOSPC); the model already there was left as it was; free some space or choose another location`,
      );
    } finally {
      model.dispose();
    }
    expect(await readFile(path.join(dir, 'model.json'), 'utf8')).toBe('earlier model\n');
    expect((await readdir(full)).sort()).toEqual(['filler', 'model']);
    expect(existsSync(path.join(full, 'model', 'weights.bin'))).toBe(false);
  });
});
