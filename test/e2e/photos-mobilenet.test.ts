/**
 * Issue 13's end-to-end must-show: a MobileNet-class LayersModel and a converter-style GraphModel,
 * each attacked from the committed photos with FGSM and PGD on the default backend, through the
 * CLI in a child process as a person runs it: flips recorded with class names (manifest and
 * terminal), every PNG within ε of the decoded source on the 8-bit grid, the original size
 * recorded; and `eval --data folder:` on the same photos, classes matched by folder name.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeImageDetailed } from '../../src/data/image-codec.js';
import type { AttackManifest } from '../../src/harness/attack-images.js';
import type { Report } from '../../src/harness/report-types.js';
import { fixtureModelPath, packageRoot } from '../../src/package-info.js';

const CLI = path.join(packageRoot(), 'src', 'cli', 'index.ts');
const PHOTOS = path.join(packageRoot(), 'fixtures', 'photos');
const EPS_LEVELS = 8;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `advtest …` in a child process on its default backend (no --backend). */
function advtest(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', CLI, ...args, '--workers', '1'], { cwd: packageRoot(), timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

async function photoFiles(): Promise<string[]> {
  const files: string[] = [];
  for (const c of (await readdir(PHOTOS, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort()) {
    for (const f of (await readdir(path.join(PHOTOS, c))).sort()) files.push(path.join(PHOTOS, c, f));
  }
  return files;
}

/** Checks one `advtest attack` run: names, flips, sizes, and every PNG against its decoded source. */
async function checkAttackRun(run: Run, out: string, labels: string[], images: string[], shape: [number, number, number]): Promise<number> {
  expect(run.code, run.stderr).toBe(0);
  expect(run.stderr).not.toMatch(/internal error/);
  const manifest = JSON.parse(await readFile(path.join(out, 'manifest.json'), 'utf8')) as AttackManifest;
  expect(manifest.backend).toMatch(/^wasm/);
  expect(manifest.images.map((e) => path.resolve(packageRoot(), e.source))).toEqual(images);
  let fooled = 0;
  for (const e of manifest.images) {
    // The original size as a viewer shows it, and how it was brought to the model's size.
    const meta = await sharp(path.resolve(packageRoot(), e.source)).metadata();
    expect(e.decoded?.original.width).toBe(meta.width);
    expect(e.decoded?.original.height).toBe(meta.height);
    expect(e.decoded?.resize).toBe('cover');
    expect(e.decoded?.resample).toBe('bilinear');
    // Class names: the model's own, for the clean prediction and its top-k.
    expect(e.original.name).toBe(labels[e.original.prediction]);
    for (const t of e.original.top) expect(t.name).toBe(labels[t.class]);
    expect(e.status).not.toBe('misclassified'); // no label in the file names: the clean prediction is the label
    expect(e.adversarial).toBeDefined();
    expect(e.adversarial!.name).toBe(labels[e.adversarial!.prediction]);
    expect(e.success).toBe(e.adversarial!.prediction !== e.label);
    // The PNG written, decoded again, against the source decoded (resized) as the attack saw it.
    const png = await sharp(path.join(out, e.output!)).raw().toBuffer({ resolveWithObject: true });
    expect([png.info.height, png.info.width, png.info.channels]).toEqual(shape);
    const { pixels } = await decodeImageDetailed(path.resolve(packageRoot(), e.source), shape);
    let maxLevels = 0;
    for (let i = 0; i < pixels.length; i++) maxLevels = Math.max(maxLevels, Math.abs(png.data[i]! - Math.round(pixels[i]! * 255)));
    expect(maxLevels).toBeLessThanOrEqual(EPS_LEVELS);
    expect(e.linf).toBeCloseTo(maxLevels / 255, 5);
    // What the terminal says for this image.
    const line = run.stdout.split('\n').find((l) => l.startsWith(`${path.basename(e.source)}:`));
    expect(line).toBeDefined();
    expect(line).toContain(`${e.original.name} (`);
    expect(line).toContain(`→ ${e.adversarial!.name} (`);
    expect(line!.includes('fooled')).toBe(e.success);
    if (e.success) fooled++;
  }
  expect(manifest.summary[0]!.fooled).toBe(fooled);
  expect(run.stderr).toContain(`${fooled}/${images.length} fooled`);
  return fooled;
}

describe('MobileNet-class models attacked from the committed photos (child processes, default backend)', () => {
  for (const name of ['mobilenet-tiny', 'mobilenet-tiny-graph']) {
    it(`${name}: attack with FGSM and PGD, and eval --data folder:`, async () => {
      const model = fixtureModelPath(name);
      const labels = (JSON.parse(await readFile(path.join(model, 'metadata.json'), 'utf8')) as { labels: string[] }).labels;
      const shape: [number, number, number] = [96, 96, 3];
      const images = await photoFiles();
      const root = await mkdtemp(path.join(tmpdir(), `advtest-e2e-${name}-`));
      const common = ['--model', model, '--eps', '8/255', '--seed', '1'];
      // Three processes at once: start-up (tsx, wasm) is most of each one's time.
      const [fgsm, pgd, evaluation] = await Promise.all([
        advtest('attack', ...common, '--images', ...images, '--attack', 'fgsm', '--out', path.join(root, 'fgsm')),
        advtest('attack', ...common, '--images', ...images, '--attack', 'pgd', '--steps', '3', '--out', path.join(root, 'pgd')),
        advtest('eval', ...common, '--data', `folder:${PHOTOS}`, '--attack', 'fgsm,pgd', '--steps', '3', '--json', path.join(root, 'eval.json')),
      ]);
      const fgsmFooled = await checkAttackRun(fgsm, path.join(root, 'fgsm'), labels, images, shape);
      const pgdFooled = await checkAttackRun(pgd, path.join(root, 'pgd'), labels, images, shape);
      // Flips happen (these small models are far from robust at 8/255).
      expect(fgsmFooled).toBeGreaterThan(0);
      expect(pgdFooled).toBeGreaterThan(0);

      // eval: every sub-folder matched to the model's class of that name.
      expect(evaluation.code, evaluation.stderr).toBe(0);
      const report = JSON.parse(await readFile(path.join(root, 'eval.json'), 'utf8')) as Report;
      expect(report.data.notes).toContain("class folders matched to the model's class names: 6 of 6 classes");
      expect(evaluation.stdout).toContain('class folders matched to the model');
      const { ids, labels: truth, cleanPredictions } = report.examples;
      expect(ids.map((id) => labels[truth[ids.indexOf(id)]!])).toEqual(ids.map((id) => id.split('/')[0]));
      // The clean predictions are those the attack runs recorded for the same files (same decoding).
      const manifest = JSON.parse(await readFile(path.join(root, 'fgsm', 'manifest.json'), 'utf8')) as AttackManifest;
      const attacked = new Map(manifest.images.map((e) => [path.relative(PHOTOS, path.resolve(packageRoot(), e.source)), e.original.prediction]));
      expect(cleanPredictions).toEqual(ids.map((id) => attacked.get(id)));
      const correct = cleanPredictions.filter((p, i) => p === truth[i]).length;
      expect(report.clean.correct).toBe(correct);
      expect(correct).toBeGreaterThanOrEqual(8);
      expect(evaluation.stdout).toContain(`(${correct}/12)`);
    }, 120_000);
  }
});
