import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeImage } from '../../src/data/image-codec.js';
import type { AttackManifest } from '../../src/harness/attack-images.js';
import { fixtureModelPath, packageRoot } from '../../src/package-info.js';
import { runCli } from '../helpers/cli.js';

const MODEL = fixtureModelPath('mnist-cnn');
const IMAGES = path.join(packageRoot(), 'fixtures', 'images');

describe('advtest attack', () => {
  it('writes lossless PNGs whose measured perturbation stays within ε, and a manifest', async () => {
    const out = path.join(await mkdtemp(path.join(tmpdir(), 'advtest-attack-')), 'adv');
    const files = (await readdir(IMAGES)).filter((f) => f.endsWith('.png')).map((f) => path.join(IMAGES, f));
    const r = await runCli('attack', '--model', MODEL, '--images', ...files, '--eps', '0.25', '--out', out, '--quiet');
    expect(r.code).toBe(0);
    const manifest = JSON.parse(await readFile(path.join(out, 'manifest.json'), 'utf8')) as AttackManifest;
    expect(manifest.images).toHaveLength(files.length);
    expect(manifest.backend).toBe('wasm');
    for (const entry of manifest.images) {
      expect(entry.labelSource).toBe('file name');
      if (entry.status === 'misclassified') continue; // not attacked: see attack-labels.test.ts
      const original = await decodeImage(entry.source, [28, 28, 1]);
      const written = await decodeImage(path.join(out, entry.output!), [28, 28, 1]);
      let linf = 0;
      for (let i = 0; i < original.length; i++) linf = Math.max(linf, Math.abs(written[i]! - original[i]!));
      // The manifest describes the file on disk, and the file respects the budget.
      expect(entry.linf).toBeCloseTo(linf, 5);
      expect(linf).toBeLessThanOrEqual(0.25 + 1e-6);
      expect(entry.success).toBe(entry.adversarial!.prediction !== entry.label);
    }
    // FGSM at 0.25 fools most of these ten digits on the undefended model.
    expect(manifest.images.filter((e) => e.success).length).toBeGreaterThanOrEqual(5);
    expect(r.stdout.trim().split('\n')).toHaveLength(files.length);
  });

  it('refuses an output path that is a file, writing nothing', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'advtest-attack-'));
    const file = path.join(dir, 'taken');
    await writeFile(file, 'x');
    const image = path.join(IMAGES, (await readdir(IMAGES))[0]!);
    const r = await runCli('attack', '--model', MODEL, '--images', image, '--out', file, '--quiet');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is a file, not a folder/);
    expect(await readdir(dir)).toEqual(['taken']);
  });

  it('refuses a non-image with a .png name, naming the file', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'advtest-attack-'));
    const fake = path.join(dir, 'fake.png');
    await writeFile(fake, 'this is not a png');
    const r = await runCli('attack', '--model', MODEL, '--images', fake, '--out', path.join(dir, 'out'), '--quiet');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('fake.png');
  });
});
