import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../src/model/store.js';
import { runCli } from '../helpers/cli.js';
import { useTestBackend } from '../helpers/backend.js';

describe('advtest train and demo', () => {
  beforeAll(useTestBackend);

  it('trains an mlp and saves a loadable LayersModel with its metadata', async () => {
    const out = path.join(await mkdtemp(path.join(tmpdir(), 'advtest-train-')), 'std');
    const r = await runCli('train', '--arch', 'mlp', '--epochs', '1', '--out', out, '--quiet');
    expect(r.code).toBe(0);
    expect((await readdir(out)).sort()).toEqual(['model.json', 'weights.bin']);
    const model = await loadModel(out);
    expect(model.describe?.()).toMatchObject({ arch: 'mlp', trainedOn: 'mnist/train' });
    model.dispose?.();
  });

  it('runs the demo on the fixture: table on stdout, PNGs and manifest on disk', async () => {
    const out = path.join(await mkdtemp(path.join(tmpdir(), 'advtest-demo-')), 'demo');
    const r = await runCli('demo', '--limit', '100', '--out', out);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/attack \(linf\)[\s\S]*│ fgsm /);
    expect(r.stdout).toMatch(/backend: wasm/);
    // Two of the ten sample digits are misclassified clean: they are reported, not attacked.
    expect(r.stderr).toMatch(/wrote 8 adversarial PNGs \(FGSM ε=0\.2, \d+ fooled; 2 of the 10 digits misclassified before the attack, not attacked\)/);
    const images = await readdir(path.join(out, 'images'));
    expect(images.filter((f) => f.endsWith('.png'))).toHaveLength(8);
    expect(images).toContain('manifest.json');
  });
});
