import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { datasets, encodePng, loadDataset, loadFashionMnist, loadImageFolder, loadMnist } from '../../src/data/index.js';

const tempDirs: string[] = [];
afterAll(() => tempDirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('datasets', () => {
  it('maps names to loaders', () => {
    expect(datasets).toEqual({ mnist: loadMnist, fashionMnist: loadFashionMnist, folder: loadImageFolder });
  });
});

describe('loadDataset', () => {
  it('loads mnist by split', async () => {
    const ds = await loadDataset('mnist', { split: 'test' });
    expect(ds.name).toBe('mnist');
    expect(ds.size).toBe(2004);
    expect((await loadDataset('mnist', { split: 'test', shape: [28, 28, 1] })).size).toBe(2004);
  });

  it('rejects a shape the built-in dataset does not have', async () => {
    await expect(loadDataset('mnist', { split: 'test', shape: [32, 32, 3] })).rejects.toThrow(
      /mnist images are 28×28×1 but shape 32×32×3 was asked for/,
    );
  });

  it('passes dataDir to fashion-mnist', async () => {
    const dir = join(tmpdir(), 'advtest-surely-absent');
    await expect(loadDataset('fashion-mnist', { split: 'test', dataDir: dir })).rejects.toThrow(`Fashion-MNIST not found in ${dir}`);
  });

  it('loads folder:PATH at the given shape', async () => {
    const root = mkdtempSync(join(tmpdir(), 'advtest-index-'));
    tempDirs.push(root);
    mkdirSync(join(root, 'a'));
    writeFileSync(join(root, 'a', '1.png'), await encodePng(new Float32Array(4).fill(0.5), [2, 2, 1]));
    const ds = await loadDataset(`folder:${root}`, { split: 'test', shape: [2, 2, 1] });
    expect(ds.size).toBe(1);
    expect(ds.classNames).toEqual(['a']);
    await expect(loadDataset(`folder:${root}`, { split: 'test' })).rejects.toThrow(/needs an image shape/);
    await expect(loadDataset('folder:', { split: 'test', shape: [2, 2, 1] })).rejects.toThrow(/has no path: use folder:PATH/);
  });

  it('lists the valid forms for an unknown spec', async () => {
    await expect(loadDataset('cifar10', { split: 'test' })).rejects.toThrow(UserError);
    await expect(loadDataset('cifar10', { split: 'test' })).rejects.toThrow(
      'unknown dataset "cifar10": use mnist, fashion-mnist or folder:PATH',
    );
  });
});
