import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { loadImageFolder } from '../../src/data/folder.js';
import { encodePngWith } from '../../src/data/image-codec.js';

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'advtest-folder-'));
  tempDirs.push(dir);
  return dir;
}
afterAll(() => tempDirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A w×h RGB PNG filled with one colour. */
function solid(h: number, w: number, rgb: [number, number, number]): Promise<Buffer> {
  const bytes = new Uint8Array(h * w * 3);
  for (let p = 0; p < h * w; p++) bytes.set(rgb, 3 * p);
  return encodePngWith('sharp', bytes, [h, w, 3]);
}

async function twoClassFolder(): Promise<string> {
  const root = tempDir();
  mkdirSync(join(root, 'dogs'));
  mkdirSync(join(root, 'cats'));
  writeFileSync(join(root, 'cats', 'b.png'), await solid(10, 6, [255, 0, 0]));
  writeFileSync(join(root, 'cats', 'a.png'), await solid(8, 8, [0, 255, 0]));
  writeFileSync(join(root, 'dogs', 'z.png'), await solid(3, 5, [0, 0, 255]));
  writeFileSync(join(root, 'dogs', '.DS_Store'), 'junk');
  writeFileSync(join(root, 'README.txt'), 'files in the root are ignored');
  return root;
}

describe('loadImageFolder', () => {
  it('loads one class per sorted sub-folder, resized to the shape', async () => {
    const root = await twoClassFolder();
    const ds = await loadImageFolder(root, [4, 4, 3]);
    expect(ds).toMatchObject({ name: `folder:${root}`, split: 'all', shape: [4, 4, 3], numClasses: 2, size: 3 });
    expect(ds.classNames).toEqual(['cats', 'dogs']);
    expect(ds.ids).toEqual(['cats/a.png', 'cats/b.png', 'dogs/z.png']);
    expect(Array.from(ds.labels)).toEqual([0, 0, 1]);
    expect(ds.images.length).toBe(3 * 4 * 4 * 3);
    // Solid colours survive any resampling.
    expect(Array.from(ds.images.subarray(0, 3))).toEqual([0, 1, 0]);
    expect(Array.from(ds.images.subarray(48, 51))).toEqual([1, 0, 0]);
    expect(Array.from(ds.images.subarray(96 + 45, 96 + 48))).toEqual([0, 0, 1]);
  });

  it('converts to greyscale with ITU-R 601 luma', async () => {
    const root = await twoClassFolder();
    const ds = await loadImageFolder(root, [2, 2, 1]);
    expect(ds.images.length).toBe(3 * 4);
    expect(ds.images[0]).toBe(Math.fround(150 / 255)); // green: round(0.587·255) = 150
    expect(ds.images[4]).toBe(Math.fround(76 / 255)); // red: round(0.299·255) = 76
    expect(ds.images[8]).toBe(Math.fround(29 / 255)); // blue: round(0.114·255) = 29
  });

  it('rejects a missing root', async () => {
    const missing = join(tempDir(), 'absent');
    await expect(loadImageFolder(missing, [4, 4, 3])).rejects.toThrow(UserError);
    await expect(loadImageFolder(missing, [4, 4, 3])).rejects.toThrow(`image folder ${missing} does not exist`);
  });

  it('rejects a root without class folders', async () => {
    const root = tempDir();
    writeFileSync(join(root, 'loose.png'), await solid(2, 2, [1, 2, 3]));
    await expect(loadImageFolder(root, [4, 4, 3])).rejects.toThrow(UserError);
    await expect(loadImageFolder(root, [4, 4, 3])).rejects.toThrow(`image folder ${root} has no class sub-folders`);
  });

  it('allows an empty class folder: it keeps its position and is noted', async () => {
    const root = await twoClassFolder();
    mkdirSync(join(root, 'birds'));
    const ds = await loadImageFolder(root, [4, 4, 3]);
    expect(ds.classNames).toEqual(['birds', 'cats', 'dogs']);
    expect(Array.from(ds.labels)).toEqual([1, 1, 2]);
    expect(ds.notes).toContain('class folders without images: birds');
    expect(ds.notes?.[0]).toMatch(/^the model has no class names: class folders are labelled by their sorted position \(birds = 0, cats = 1, dogs = 2\)/);
  });

  it('refuses a folder whose class folders are all empty', async () => {
    const root = tempDir();
    mkdirSync(join(root, 'a'));
    mkdirSync(join(root, 'b'));
    await expect(loadImageFolder(root, [4, 4, 3])).rejects.toThrow(`image folder ${root} has no image files in its class folders`);
  });

  it('hints when a class folder holds only folders (root one level too high)', async () => {
    const root = tempDir();
    mkdirSync(join(root, 'train', 'cats'), { recursive: true });
    await expect(loadImageFolder(root, [4, 4, 3])).rejects.toThrow(`did you mean folder:${join(root, 'train')}?`);
  });

  it('names an undecodable file', async () => {
    const root = await twoClassFolder();
    const bad = join(root, 'dogs', 'broken.png');
    writeFileSync(bad, 'this is not a png');
    await expect(loadImageFolder(root, [4, 4, 3])).rejects.toThrow(UserError);
    await expect(loadImageFolder(root, [4, 4, 3])).rejects.toThrow(`cannot decode image ${bad}`);
  });

  it('rejects a bad shape', async () => {
    const root = await twoClassFolder();
    await expect(loadImageFolder(root, [4, 4, 2])).rejects.toThrow(/image shape \[4, 4, 2\] is invalid/);
    await expect(loadImageFolder(root, [0, 4, 3])).rejects.toThrow(UserError);
  });
});

describe('loadImageFolder with the model\'s class names', () => {
  const names = ['bird', 'cat', 'dog', 'fox', 'hen'];

  it('labels each class folder with the model\'s index of its name, and says how many matched', async () => {
    const root = await twoClassFolder(); // cats/ and dogs/: not the model's names
    const ok = tempDir();
    mkdirSync(join(ok, 'dog'));
    mkdirSync(join(ok, 'Cat'));
    mkdirSync(join(ok, 'hen')); // empty: allowed
    writeFileSync(join(ok, 'dog', 'a.png'), await solid(3, 3, [1, 2, 3]));
    writeFileSync(join(ok, 'Cat', 'b.png'), await solid(3, 3, [1, 2, 3]));
    const ds = await loadImageFolder(ok, [4, 4, 3], { classNames: names });
    expect(ds.numClasses).toBe(5);
    expect(ds.classNames).toEqual(names);
    expect(ds.ids).toEqual(['Cat/b.png', 'dog/a.png']);
    expect(Array.from(ds.labels)).toEqual([1, 2]); // Cat matched "cat" ignoring case
    expect(ds.notes).toEqual(["class folders matched to the model's class names: 3 of 5 classes", 'class folders without images: hen']);

    await expect(loadImageFolder(root, [4, 4, 3], { classNames: names })).rejects.toThrow(UserError);
    await expect(loadImageFolder(root, [4, 4, 3], { classNames: names })).rejects.toThrow(
      `class folder "cats" in ${root} is not one of the model's 5 class names ("cat", "bird", "dog", "fox", "hen"): rename the folder`,
    );
  });

  it('refuses two folders naming the same class', async () => {
    const root = tempDir();
    for (const d of ['cat', 'CAT ']) {
      mkdirSync(join(root, d));
      writeFileSync(join(root, d, 'a.png'), await solid(3, 3, [1, 2, 3]));
    }
    await expect(loadImageFolder(root, [4, 4, 3], { classNames: names })).rejects.toThrow(/class folders "CAT " and "cat" .* both name the model's class "cat"/);
  });
});

describe('loadImageFolder with a broken link', () => {
  it('names the link', async () => {
    const root = await twoClassFolder();
    const link = join(root, 'cats', 'gone.png');
    symlinkSync(join(root, 'nowhere.png'), link);
    await expect(loadImageFolder(root, [4, 4, 3])).rejects.toThrow(`cannot read ${link} (ENOENT)`);
  });
});
