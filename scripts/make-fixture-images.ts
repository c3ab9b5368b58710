/**
 * Writes fixtures/images/mnist-test-<index>-label<k>.png: for each digit k, the first example of
 * that digit in the MNIST test split (index = its position in loadMnist('test')), as an 8-bit
 * greyscale PNG encoded with sharp. Deterministic; old mnist-test-*.png files are removed first.
 *
 *   npx tsx scripts/make-fixture-images.ts
 */
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { imageAt } from '../src/data/dataset.js';
import { fixtureFileName } from '../src/data/file-names.js';
import { encodePngWith } from '../src/data/image-codec.js';
import { loadMnist } from '../src/data/mnist.js';

const outDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'images');

async function main(): Promise<void> {
  await mkdir(outDir, { recursive: true });
  for (const name of await readdir(outDir)) {
    if (/^mnist-test-.*\.png$/.test(name)) await rm(join(outDir, name));
  }
  const ds = loadMnist('test');
  for (let digit = 0; digit < ds.numClasses; digit++) {
    const index = ds.labels.indexOf(digit);
    const file = join(outDir, fixtureFileName('mnist', 'test', index, digit));
    await writeFile(file, await encodePngWith('sharp', imageAt(ds, index), ds.shape));
    console.log(file);
  }
}

await main();
