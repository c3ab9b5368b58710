/**
 * `advtest attack` as a person meets it, run as a child process: labels the model does not have,
 * images it already gets wrong, blank images, an occupied --out, a FIFO, several ε and how each
 * image was resized.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeImage } from '../../src/data/image-codec.js';
import type { AttackManifest } from '../../src/harness/attack-images.js';
import { saveModel } from '../../src/model/store.js';
import { fixtureModelPath, packageRoot } from '../../src/package-info.js';
import { useTestBackend } from '../helpers/backend.js';
import { runCli } from '../helpers/cli.js';

const CLI = path.join(packageRoot(), 'src', 'cli', 'index.ts');
const MODEL = fixtureModelPath('mnist-cnn');
const IMAGES = path.join(packageRoot(), 'fixtures', 'images');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `advtest …` in a child process, as from a terminal (without one: no progress bars). */
function advtest(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', CLI, ...args, '--workers', '1'], { cwd: packageRoot(), timeout: 120_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

let root: string;
/** A 3-class model on 8×8 RGB images (global average pooling → dense), classes cat, dog, fox. */
let threeClass: string;

beforeAll(async () => {
  await useTestBackend();
  root = await mkdtemp(path.join(tmpdir(), 'advtest-attack-inputs-'));
  threeClass = path.join(root, 'three-class');
  const model = tf.sequential({ layers: [tf.layers.globalAveragePooling2d({ inputShape: [8, 8, 3] }), tf.layers.dense({ units: 3 })] });
  model.setWeights([tf.tensor2d([[1, -1, 0.5], [-1, 1, 0.5], [0.5, 0.5, -1]]), tf.tensor1d([0, 0, 0])]);
  await saveModel(model, threeClass, { arch: 'tiny', bounds: { lower: 0, upper: 1 }, classNames: ['cat', 'dog', 'fox'] });
  model.dispose();
});

async function photo(file: string, width: number, height: number, seed: number): Promise<string> {
  const bytes = Buffer.alloc(width * height * 3);
  let s = seed;
  for (let i = 0; i < bytes.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    bytes[i] = s >>> 24;
  }
  await sharp(bytes, { raw: { width, height, channels: 3 } }).png().toFile(file);
  return file;
}

// Concurrent: both tests are child processes only (an in-process runCli, whose capture of
// process.stdout must not overlap another's, stays sequential); CI gives vitest one worker on 2 cores.
describe('advtest attack: labels', { concurrent: true }, () => {
  it('refuses a label<k> the model does not have, naming the file and the label (exit 2, nothing written)', async () => {
    const image = await photo(path.join(root, 'shoe-label7.png'), 8, 8, 1);
    const out = path.join(root, 'out-label7');
    const r = await advtest('attack', '--model', threeClass, '--images', image, '--eps', '8/255', '--out', out, '--quiet');
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toBe(`advtest: image ${image} has label 7 (from its name), outside the model's classes 0..2: rename the file (label<k> with k < 3) or use the model it was labelled for\n`);
    expect(existsSync(out)).toBe(false);
  }, 60_000);

  it('reports images the model already gets wrong as misclassified, does not attack or count them', async () => {
    const out = path.join(root, 'out-wrong');
    const files = (await readdir(IMAGES)).filter((f) => f.endsWith('.png')).map((f) => path.join(IMAGES, f));
    const r = await advtest('attack', '--model', MODEL, '--images', ...files, '--eps', '0.25', '--out', out);
    expect(r.code, r.stderr).toBe(0);
    const manifest = JSON.parse(await readFile(path.join(out, 'manifest.json'), 'utf8')) as AttackManifest;
    // mnist-cnn gets two of the ten fixture digits wrong: 1029 (a 5 it calls 8) and 1808 (a 9 it calls 3).
    const wrong = manifest.images.filter((e) => e.status === 'misclassified');
    expect(wrong.map((e) => path.basename(e.source)).sort()).toEqual(['mnist-test-1029-label5.png', 'mnist-test-1808-label9.png']);
    for (const e of wrong) {
      expect(e.original.prediction).not.toBe(e.label);
      expect(e).toMatchObject({ output: null, success: false });
      expect(e.adversarial).toBeUndefined();
    }
    const fooled = manifest.images.filter((e) => e.success).length;
    expect(manifest.summary).toEqual([{ eps: 0.25, images: 10, attacked: 8, fooled, misclassified: 2 }]);
    expect(manifest.images.filter((e) => e.status === 'fooled')).toHaveLength(fooled);
    // One PNG per attacked image, none for the two misclassified ones.
    expect((await readdir(out)).filter((f) => f.endsWith('.png'))).toHaveLength(8);
    expect(r.stdout).toMatch(/^mnist-test-1029-label5\.png: label 5, but the model predicts 8 \(\d+\.\d%\): misclassified before the attack, not attacked$/m);
    expect(r.stderr).toContain(`fgsm ε=0.25: ${fooled}/8 fooled (2 misclassified before the attack, not attacked)`);
  }, 60_000);
});

describe('advtest attack: images', () => {
  it('warns when an image is one flat colour after alpha flattening (dark strokes on transparency onto black)', async () => {
    const rgba = Buffer.alloc(28 * 28 * 4);
    for (let y = 10; y < 18; y++) for (let x = 4; x < 24; x++) rgba[(y * 28 + x) * 4 + 3] = 255; // a black stroke, opaque
    const image = path.join(root, 'stroke-label3.png');
    await sharp(rgba, { raw: { width: 28, height: 28, channels: 4 } }).png().toFile(image);
    const onBlack = await advtest('attack', '--model', MODEL, '--images', image, '--background', '#000000', '--out', path.join(root, 'out-black'), '--quiet');
    expect(onBlack.code, onBlack.stderr).toBe(0);
    expect(onBlack.stderr).toBe(
      `advtest: warning: ${image} is one flat colour after flattening its transparency onto #000000, so there is nothing to classify: pass --background with a colour that contrasts with the drawing\n`,
    );
    // The default background (white) keeps the stroke: no warning, and the manifest says what was done.
    const onWhite = await runCli('attack', '--model', MODEL, '--images', image, '--out', path.join(root, 'out-white'), '--quiet');
    expect(onWhite.code, onWhite.stderr).toBe(0);
    expect(onWhite.stderr).toBe('');
    const manifest = JSON.parse(await readFile(path.join(root, 'out-white', 'manifest.json'), 'utf8')) as AttackManifest;
    expect(manifest.images[0]!.decoded).toMatchObject({ background: '#ffffff', blank: false, original: { hasAlpha: true, channels: 4 } });
  }, 60_000);

  it('refuses a FIFO given as an image at once, instead of waiting on it forever', async () => {
    const fifo = path.join(root, 'fifo.png');
    execFileSync('mkfifo', [fifo]);
    const started = Date.now();
    const r = await advtest('attack', '--model', MODEL, '--images', fifo, '--out', path.join(root, 'out-fifo'), '--quiet');
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toBe(`advtest: image ${fifo} is a FIFO (named pipe), not a regular file: pass image files\n`);
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(existsSync(path.join(root, 'out-fifo'))).toBe(false);
  }, 90_000);

  it('writes one PNG per image per ε into eps-<ε>/ sub-folders, each within its ε, and records the resize', async () => {
    // No label in the name: the clean prediction is the class to move away from.
    const wide = await photo(path.join(root, 'wide.png'), 60, 20, 7);
    const out = path.join(root, 'out-eps');
    const r = await runCli('attack', '--model', threeClass, '--images', wide, '--eps', '2/255,8/255', '--resize', 'contain', '--resample', 'nearest', '--background', '#808080', '--out', out, '--quiet');
    expect(r.code, r.stderr).toBe(0);
    expect((await readdir(out)).sort()).toEqual(['eps-2_255', 'eps-8_255', 'manifest.json']);
    const manifest = JSON.parse(await readFile(path.join(out, 'manifest.json'), 'utf8')) as AttackManifest;
    expect(manifest.epsilons).toEqual([2 / 255, 8 / 255]);
    expect(manifest.images.map((e) => [e.eps, e.output])).toEqual([
      [2 / 255, path.join('eps-2_255', 'wide-adv.png')],
      [8 / 255, path.join('eps-8_255', 'wide-adv.png')],
    ]);
    const original = await decodeImage(wide, [8, 8, 3], { resize: 'contain', resample: 'nearest', background: [128, 128, 128] });
    for (const e of manifest.images) {
      expect(e.decoded).toEqual({
        original: { format: 'png', width: 60, height: 20, channels: 3, hasAlpha: false },
        resize: 'contain',
        resample: 'nearest',
        background: '#808080',
        colour: 'RGB',
        blank: false,
      });
      const written = await decodeImage(path.join(out, e.output!), [8, 8, 3]);
      let linf = 0;
      for (let i = 0; i < written.length; i++) linf = Math.max(linf, Math.abs(written[i]! - original[i]!));
      expect(linf).toBeLessThanOrEqual(e.eps + 1e-6);
      expect(e.linf).toBeCloseTo(linf, 5);
      // Top-k: all three classes, most probable first, probabilities summing to 1.
      expect(e.original.top.map((t) => t.class).sort()).toEqual([0, 1, 2]);
      expect(e.original.top.reduce((s, t) => s + t.probability, 0)).toBeCloseTo(1, 4);
    }
    expect(r.stdout.trim().split('\n').map((l) => l.split(':')[0])).toEqual(['wide.png ε=2/255', 'wide.png ε=8/255']);
    // The model's class names (cat, dog, fox, from its metadata) in the manifest and on the terminal.
    const names = ['cat', 'dog', 'fox'];
    for (const e of manifest.images) {
      expect(e.labelName).toBe(names[e.label]);
      expect(e.original.name).toBe(names[e.original.prediction]);
      expect(e.original.top.map((t) => t.name)).toEqual(e.original.top.map((t) => names[t.class]));
      expect(e.adversarial!.name).toBe(names[e.adversarial!.prediction]);
    }
    const first = manifest.images[0]!;
    expect(r.stdout).toContain(`wide.png ε=2/255: ${first.original.name} (${(first.original.confidence * 100).toFixed(1)}%) → ${first.adversarial!.name} (`);
  }, 60_000);
});

describe('advtest attack --out', () => {
  it('refuses a folder that is not empty, and --force replaces only the files of the earlier manifest', async () => {
    const out = path.join(root, 'out-twice');
    const digits = (await readdir(IMAGES)).filter((f) => f.endsWith('.png')).slice(0, 3).map((f) => path.join(IMAGES, f));
    const first = await runCli('attack', '--model', MODEL, '--images', ...digits, '--eps', '0.1', '--out', out, '--quiet');
    expect(first.code, first.stderr).toBe(0);
    const firstFiles = (await readdir(out)).sort();
    await writeFile(path.join(out, 'my-notes.txt'), 'mine\n');
    const before = await readFile(path.join(out, 'manifest.json'), 'utf8');

    const again = await advtest('attack', '--model', MODEL, '--images', digits[0]!, '--eps', '0.2', '--out', out, '--quiet');
    expect(again.code).toBe(2);
    expect(again.stderr).toBe(
      `advtest: --out ${out} is not empty: it holds earlier results (manifest.json and ${firstFiles.length} more); choose a new folder, or pass --force to replace the results its manifest.json lists\n`,
    );
    expect(await readFile(path.join(out, 'manifest.json'), 'utf8')).toBe(before);

    const forced = await runCli('attack', '--model', MODEL, '--images', digits[0]!, '--eps', '0.2', '--out', out, '--force', '--quiet');
    expect(forced.code, forced.stderr).toBe(0);
    const manifest = JSON.parse(await readFile(path.join(out, 'manifest.json'), 'utf8')) as AttackManifest;
    const written = manifest.images.flatMap((e) => (e.output ? [e.output] : []));
    // The earlier PNGs are gone, the new one is there, and the user's own file is untouched.
    expect((await readdir(out)).sort()).toEqual(['manifest.json', 'my-notes.txt', ...written].sort());
    expect(await readFile(path.join(out, 'my-notes.txt'), 'utf8')).toBe('mine\n');
  }, 90_000);

  it('refuses, even with --force, to overwrite a file no manifest lists', async () => {
    const out = path.join(root, 'out-foreign');
    await mkdir(out);
    const digit = path.join(IMAGES, 'mnist-test-0-label0.png');
    await writeFile(path.join(out, 'mnist-test-0-label0-adv.png'), 'my own file');
    const r = await runCli('attack', '--model', MODEL, '--images', digit, '--out', out, '--force', '--quiet');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`advtest: --out ${out} already holds mnist-test-0-label0-adv.png, which no earlier manifest lists: move it away or choose another --out\n`);
    expect(await readFile(path.join(out, 'mnist-test-0-label0-adv.png'), 'utf8')).toBe('my own file');
    expect(await readdir(out)).toEqual(['mnist-test-0-label0-adv.png']);
  }, 60_000);
});
