/**
 * Measurement for issue 13 (not a CI test): the resident memory of `advtest attack` over 100 photos
 * at 224×224, run as a person runs it (a child process on the default backend), sampled from
 * /proc/<pid>/status (VmRSS) every second.
 *
 * The model is a 224×224×3 MobileNetV2 (test/helpers/mobilenet.ts, seeded weights, 1000 classes)
 * saved to a temporary folder; the 100 photos are the committed ones (fixtures/photos) as crops of
 * several sizes and offsets, some flipped, written as JPEGs of 240–480 px, so that every one is
 * decoded and resized like a real photo.
 *
 *   npx tsx test/bench/attack-rss-224.ts [--attack pgd] [--steps 3] [--photos 100] [--batch-size auto]
 *
 * Prints the samples, the peak, and how RSS moved from the first to the last quarter of the
 * attack phase (after the model has loaded and the first batch has run).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { initBackend } from '../../src/backend/select.js';
import { saveModel } from '../../src/model/store.js';
import { packageRoot } from '../../src/package-info.js';
import { mobileNetV2 } from '../helpers/mobilenet.js';

const { values } = parseArgs({
  options: {
    attack: { type: 'string', default: 'pgd' },
    steps: { type: 'string', default: '3' },
    photos: { type: 'string', default: '100' },
    'batch-size': { type: 'string', default: 'auto' },
    keep: { type: 'boolean', default: false },
  },
});
const PHOTOS = Number(values.photos);

function rssMiB(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

async function sourcePhotos(): Promise<string[]> {
  const root = path.join(packageRoot(), 'fixtures', 'photos');
  const files: string[] = [];
  for (const d of (await readdir(root, { withFileTypes: true })).filter((e) => e.isDirectory())) {
    for (const f of await readdir(path.join(root, d.name))) files.push(path.join(root, d.name, f));
  }
  return files.sort();
}

/** Photo k: a crop of one committed photo (size and offset vary with k), resized, maybe mirrored. */
async function writePhotos(dir: string): Promise<string[]> {
  const sources = await sourcePhotos();
  const out: string[] = [];
  for (let k = 0; k < PHOTOS; k++) {
    const src = sources[k % sources.length]!;
    const meta = await sharp(src).metadata();
    const w = meta.width!;
    const h = meta.height!;
    const frac = 0.6 + 0.4 * (((k * 7) % 10) / 10);
    const cw = Math.max(32, Math.floor(w * frac));
    const ch = Math.max(32, Math.floor(h * (0.55 + 0.45 * (((k * 3) % 10) / 10))));
    const left = Math.floor(((w - cw) * ((k * 5) % 11)) / 10);
    const top = Math.floor(((h - ch) * ((k * 13) % 11)) / 10);
    const side = 240 + ((k * 37) % 241);
    let img = sharp(src).extract({ left: Math.min(left, w - cw), top: Math.min(top, h - ch), width: cw, height: ch }).resize(side, Math.round((side * ch) / cw));
    if (k % 3 === 1) img = img.flop();
    const file = path.join(dir, `photo-${String(k).padStart(3, '0')}.jpg`);
    await img.jpeg({ quality: 85 }).toFile(file);
    out.push(file);
  }
  return out;
}

async function main(): Promise<void> {
  const root = await mkdtemp(path.join(tmpdir(), 'advtest-rss224-'));
  const modelDir = path.join(root, 'mobilenet-v2');
  const photoDir = path.join(root, 'photos');
  await mkdir(photoDir);
  await initBackend('wasm');
  const net = mobileNetV2({ inputShape: [224, 224, 3], classes: 1000 });
  await saveModel(net, modelDir, { arch: 'mobilenet-v2', bounds: { lower: 0, upper: 1 } });
  net.dispose();
  const photos = await writePhotos(photoDir);
  console.log(`model: MobileNetV2 224×224×3, 1000 classes (${modelDir}); ${photos.length} photos (${photoDir})`);

  const cli = path.join(packageRoot(), 'src', 'cli', 'index.ts');
  const args = ['--import', 'tsx', cli, 'attack', '--model', modelDir, '--images', ...photos, '--attack', values.attack!, '--eps', '8/255', '--out', path.join(root, 'adv'), '--workers', '1', '--batch-size', values['batch-size']!];
  if (values.attack !== 'fgsm') args.push('--steps', values.steps!);
  const started = Date.now();
  const child = spawn(process.execPath, args, { cwd: packageRoot(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let firstImageAt: number | undefined;
  child.stdout.on('data', (d: Buffer) => {
    stdout += String(d);
    firstImageAt ??= (Date.now() - started) / 1000;
  });
  child.stderr.on('data', (d: Buffer) => (stderr += String(d)));
  const samples: { t: number; rss: number }[] = [];
  const timer = setInterval(() => {
    const rss = rssMiB(child.pid!);
    if (rss !== undefined) samples.push({ t: (Date.now() - started) / 1000, rss });
  }, 1000);
  const code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? -1)));
  clearInterval(timer);
  const seconds = (Date.now() - started) / 1000;
  if (code !== 0) {
    console.log(stderr);
    throw new Error(`advtest attack exited with ${code}`);
  }
  const peak = Math.max(...samples.map((s) => s.rss));
  console.log(`advtest ${values.attack}${values.attack === 'fgsm' ? '' : ` --steps ${values.steps}`} on ${photos.length} photos: exit ${code}, ${seconds.toFixed(1)} s`);
  console.log(stderr.trim().split('\n').filter((l) => /fooled|manifest|batch/.test(l)).join('\n'));
  console.log('RSS samples (s: MiB):', samples.map((s) => `${s.t.toFixed(0)}:${s.rss.toFixed(0)}`).join(' '));
  console.log(`peak RSS: ${peak.toFixed(0)} MiB`);
  // The attack phase: from a quarter of the run (model loaded, photos decoded, the first batches
  // done) to the end; its first and last quarter compared.
  // The last seconds (the manifest written, the process exiting) are left out.
  const phase = samples.filter((s) => s.t >= seconds * 0.25 && s.t <= seconds - 5);
  const quarter = Math.max(1, Math.floor(phase.length / 4));
  const mean = (xs: { rss: number }[]) => xs.reduce((a, s) => a + s.rss, 0) / xs.length;
  const first = phase.slice(0, quarter);
  const last = phase.slice(-quarter);
  console.log(
    `attack phase (t ≥ ${(seconds * 0.25).toFixed(0)} s, ${phase.length} samples): first quarter mean ${mean(first).toFixed(0)} MiB, last quarter mean ${mean(last).toFixed(0)} MiB, ` +
      `min ${Math.min(...phase.map((s) => s.rss)).toFixed(0)}, max ${Math.max(...phase.map((s) => s.rss)).toFixed(0)} MiB`,
  );
  if (firstImageAt !== undefined) console.log(`first terminal line at ${firstImageAt.toFixed(1)} s (lines are printed once all images are done)`);
  console.log(`${stdout.trim().split('\n').length} image lines`);
  if (!values.keep) await rm(root, { recursive: true, force: true });
}

await main();
