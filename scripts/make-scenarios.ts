/**
 * Writes fixtures/scenarios/<name>/: one folder per bad input, each with the input itself and a
 * scenario.json saying how to run it through the CLI and the library and what must come out
 * (exit code, the one stderr line, the error class). test/scenarios/scenarios.test.ts runs them.
 *
 * Deterministic: images come from a fixed pseudo-random sequence and are encoded by the small PNG
 * writer below (JPEGs by sharp with fixed options), models have explicitly set weights. Old
 * scenario folders are removed first, so a renamed scenario leaves nothing behind.
 *
 *   npx tsx scripts/make-scenarios.ts            # all of them, old folders removed
 *   npx tsx scripts/make-scenarios.ts a b        # only scenarios a and b, the others untouched
 *
 * Placeholders in scenario.json, filled in by the test: {dir} the scenario's folder, {fixtures}
 * the repository's fixtures/ folder, {out} a path in a fresh empty temporary folder (which must
 * still be empty after the run: no partial output, no temporary file).
 */
import { mkdir, readFile, rename, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32, deflateSync } from 'node:zlib';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { initBackend } from '../src/backend/select.js';
import { saveModel } from '../src/model/store.js';
import type { Scenario } from '../test/scenarios/scenario-types.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'scenarios');

// ---------------------------------------------------------------------------------------------
// Bytes

/** A fixed pseudo-random byte sequence (a 32-bit LCG), so that images do not compress away. */
function noise(count: number, seed: number): Uint8Array {
  const out = new Uint8Array(count);
  let s = seed >>> 0;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

function pngChunk(type: string, data: Uint8Array): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const head = Buffer.alloc(4);
  head.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body) >>> 0);
  return Buffer.concat([head, body, crc]);
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function ihdr(width: number, height: number, bitDepth: number): Buffer {
  const b = Buffer.alloc(13);
  b.writeUInt32BE(width, 0);
  b.writeUInt32BE(height, 4);
  b[8] = bitDepth;
  // colour type 0 (grey), compression 0, filter 0, interlace 0
  return b;
}

/** An 8-bit greyscale PNG of the given bytes (row filter 0). */
function greyPng(pixels: Uint8Array, width: number, height: number): Buffer {
  const raw = Buffer.alloc(height * (width + 1));
  for (let y = 0; y < height; y++) raw.set(pixels.subarray(y * width, (y + 1) * width), y * (width + 1) + 1);
  return Buffer.concat([PNG_SIGNATURE, pngChunk('IHDR', ihdr(width, height, 8)), pngChunk('IDAT', deflateSync(raw, { level: 9 })), pngChunk('IEND', new Uint8Array(0))]);
}

/**
 * A decompression bomb: a 65-byte PNG whose header declares width × height 1-bit pixels (valid
 * CRCs) followed by an IDAT holding an empty zlib stream. Decoding it would need
 * width·height·4 bytes of RGBA; a safe decoder refuses from the header alone.
 */
function bombPng(width: number, height: number): Buffer {
  return Buffer.concat([PNG_SIGNATURE, pngChunk('IHDR', ihdr(width, height, 1)), pngChunk('IDAT', deflateSync(Buffer.alloc(0))), pngChunk('IEND', new Uint8Array(0))]);
}

/** The PNG with bytes in the middle of its IDAT data flipped and the chunk's CRC made valid again, so that only inflating fails. */
function corruptPng(png: Buffer): Buffer {
  const out = Buffer.from(png);
  const idat = out.indexOf('IDAT', 8, 'latin1');
  const length = out.readUInt32BE(idat - 4);
  const start = idat + 4;
  for (let i = start + Math.floor(length / 3); i < start + Math.floor(length / 3) + 64; i++) out[i]! ^= 0xa5;
  out.writeUInt32BE(crc32(out.subarray(idat, start + length)) >>> 0, start + length);
  return out;
}

/**
 * The JPEG with its first Huffman table (DHT) garbled: code counts summing past 256. Flipped bits
 * in the entropy-coded data would not do: libjpeg decodes many such files without a warning.
 */
function corruptJpeg(jpeg: Buffer): Buffer {
  const out = Buffer.from(jpeg);
  const dht = out.indexOf(Buffer.from([0xff, 0xc4]));
  // FF C4, 2 length bytes, 1 class/id byte, then the 16 counts of codes per length.
  out.fill(0xff, dht + 5, dht + 5 + 16);
  return out;
}

async function greyJpeg(pixels: Uint8Array, width: number, height: number): Promise<Buffer> {
  return sharp(Buffer.from(pixels), { raw: { width, height, channels: 1 } }).jpeg({ quality: 90, mozjpeg: false, chromaSubsampling: '4:4:4' }).toBuffer();
}

/** A tiny 8×8 grey image for dataset folders (resized to the model's input when loaded). */
function smallPng(seed: number): Buffer {
  return greyPng(noise(64, seed), 8, 8);
}

// ---------------------------------------------------------------------------------------------
// Models

/** GlobalAveragePooling → Dense: the smallest LayersModel that takes images; weights given. */
async function tinyModel(dir: string, inputShape: [number, number, number], kernel: number[][], bias: number[]): Promise<void> {
  const model = tf.sequential({
    name: 'tiny',
    layers: [tf.layers.globalAveragePooling2d({ inputShape, name: 'pool' }), tf.layers.dense({ units: bias.length, name: 'logits' })],
  });
  model.setWeights([tf.tensor2d(kernel), tf.tensor1d(bias)]);
  await saveModel(model, dir, { arch: 'tiny (scenario fixture)', bounds: { lower: 0, upper: 1 } });
  model.dispose();
}

// ---------------------------------------------------------------------------------------------
// Scenarios

const MNIST_CNN = '{fixtures}/models/mnist-cnn';
const DIGIT = '{fixtures}/images/mnist-test-0-label0.png';

/** `advtest attack` on one image file: the image is the bad input. */
function attackImage(file: string, stderr: string, names: string, description: string): Scenario {
  return {
    description,
    cli: ['attack', '--model', MNIST_CNN, '--images', `{dir}/${file}`, '--eps', '0.1', '--out', '{out}', '--quiet'],
    exitCode: 2,
    stderr,
    names,
    api: { call: 'decodeImage', file: `{dir}/${file}`, shape: [28, 28, 1] },
    error: 'UserError',
  };
}

/** `advtest eval` writing its report to {out}. */
function evalArgs(model: string, data: string, extra: string[] = []): string[] {
  return ['eval', '--model', model, '--data', data, '--attack', 'fgsm', '--eps', '0.1', ...extra, '--json', '{out}', '--quiet'];
}

function modelScenario(description: string, stderr: string, names: string): Scenario {
  return { description, cli: evalArgs('{dir}/model', 'mnist', ['--limit', '10']), exitCode: 2, stderr, names, api: { call: 'loadModel', model: '{dir}/model' }, error: 'UserError' };
}

function epsScenario(value: string, stderr: string, description: string): Scenario {
  return {
    description,
    cli: ['eval', '--model', MNIST_CNN, '--data', 'mnist', '--limit', '10', '--eps', value, '--json', '{out}', '--quiet'],
    exitCode: 2,
    stderr,
    names: value,
    api: { call: 'parseEpsList', text: value },
    error: 'UserError',
  };
}

/** Scenario names given on the command line: only these are written (none given: all). */
const only = new Set(process.argv.slice(2));

async function write(name: string, scenario: Scenario, files: Record<string, Uint8Array | string> = {}): Promise<string> {
  // A scenario not asked for is written to a scratch folder, so that code which adds files to the
  // returned folder still runs, and the committed folder stays as it is.
  const dir = only.size > 0 && !only.has(name) ? join(tmpdir(), 'advtest-scenarios-skipped', name) : join(root, name);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  for (const [file, bytes] of Object.entries(files)) {
    await mkdir(dirname(join(dir, file)), { recursive: true });
    await writeFile(join(dir, file), bytes);
  }
  await writeFile(join(dir, 'scenario.json'), JSON.stringify(scenario, null, 2) + '\n');
  return dir;
}

async function main(): Promise<void> {
  await initBackend('cpu');
  if (only.size === 0) await rm(root, { recursive: true, force: true });
  await mkdir(root, { recursive: true });

  // --- images -------------------------------------------------------------------------------
  const png = greyPng(noise(64 * 64, 1), 64, 64);
  const jpeg = await greyJpeg(noise(64 * 64, 2), 64, 64);
  await write(
    'png-truncated',
    attackImage('truncated.png', String.raw`^advtest: cannot decode image \S*truncated\.png with (sharp|jimp): .+; the file is damaged or not an image: replace it with a PNG or JPEG, or remove it$`, 'truncated.png', 'a PNG cut off in the middle of its IDAT chunk'),
    { 'truncated.png': png.subarray(0, Math.floor(png.length / 2)) },
  );
  await write(
    'png-corrupt',
    attackImage('corrupt.png', String.raw`^advtest: cannot decode image \S*corrupt\.png with (sharp|jimp): .+; the file is damaged or not an image: replace it with a PNG or JPEG, or remove it$`, 'corrupt.png', 'a PNG whose compressed pixel data is garbled (chunk CRCs valid)'),
    { 'corrupt.png': corruptPng(png) },
  );
  await write(
    'jpeg-truncated',
    attackImage('truncated.jpg', String.raw`^advtest: cannot decode image \S*truncated\.jpg with (sharp|jimp): .+; the file is damaged or not an image: replace it with a PNG or JPEG, or remove it$`, 'truncated.jpg', 'a JPEG cut off in the middle of its scan data'),
    { 'truncated.jpg': jpeg.subarray(0, Math.floor(jpeg.length / 2)) },
  );
  await write(
    'jpeg-corrupt',
    attackImage('corrupt.jpg', String.raw`^advtest: cannot decode image \S*corrupt\.jpg with (sharp|jimp): .+; the file is damaged or not an image: replace it with a PNG or JPEG, or remove it$`, 'corrupt.jpg', 'a JPEG whose Huffman table is garbled'),
    { 'corrupt.jpg': corruptJpeg(jpeg) },
  );
  await write(
    'png-decompression-bomb',
    attackImage(
      'bomb-20000x20000.png',
      String.raw`^advtest: image \S*bomb-20000x20000\.png is 20000×20000 pixels, more than the [\d,]+ advtest decodes \(a decompression bomb\?\): downscale it.*$`,
      'bomb-20000x20000.png',
      'a 65-byte PNG declaring 20,000×20,000 pixels: must be refused from its header, before decoding (sharp: limitInputPixels; jimp: header check)',
    ),
    { 'bomb-20000x20000.png': bombPng(20000, 20000) },
  );
  await write('empty-file', attackImage('empty.png', String.raw`^advtest: image \S*empty\.png is empty \(0 bytes\): .+$`, 'empty.png', 'a zero-byte file with a .png name'), { 'empty.png': new Uint8Array(0) });
  await write(
    'not-an-image',
    attackImage('notes.png', String.raw`^advtest: cannot decode image \S*notes\.png with (sharp|jimp): .+; the file is damaged or not an image: replace it with a PNG or JPEG, or remove it$`, 'notes.png', 'a text file with a .png name'),
    { 'notes.png': 'These are my notes, not a picture.\n' },
  );

  // --- models -------------------------------------------------------------------------------
  await write(
    'model-not-json',
    modelScenario('model.json that is not JSON', String.raw`^advtest: \S*model\.json is not valid JSON \(.+\): re-export the model.*$`, 'model.json'),
    { 'model/model.json': '{ "modelTopology": { this is not JSON\n', 'model/weights.bin': new Uint8Array(16) },
  );
  {
    const dir = await write('model-no-weights-manifest', modelScenario('model.json without "weightsManifest"', String.raw`^advtest: \S*model\.json has no "weightsManifest": .+$`, 'weightsManifest'));
    await tinyModel(join(dir, 'model'), [28, 28, 1], [Array.from({ length: 10 }, (_, k) => k / 10)], new Array<number>(10).fill(0));
    const json = JSON.parse(await readFile(join(dir, 'model', 'model.json'), 'utf8')) as Record<string, unknown>;
    delete json.weightsManifest;
    await writeFile(join(dir, 'model', 'model.json'), JSON.stringify(json));
  }
  {
    const dir = await write(
      'model-weights-wrong-size',
      modelScenario('weights.bin 4 bytes shorter than the manifest says', String.raw`^advtest: \S*model\.json: weight files hold 76 bytes but the manifest describes 80: the weight files are truncated or belong to another model; .+$`, 'model.json'),
    );
    await tinyModel(join(dir, 'model'), [28, 28, 1], [Array.from({ length: 10 }, (_, k) => k / 10)], new Array<number>(10).fill(0));
    await truncate(join(dir, 'model', 'weights.bin'), 76);
  }
  {
    const dir = await write(
      'model-weight-path-outside',
      modelScenario('a weight path leaving the model folder (../outside.bin)', String.raw`^advtest: \S*model\.json: weight path "\.\./outside\.bin" points outside the model folder; .+$`, '../outside.bin'),
    );
    await tinyModel(join(dir, 'model'), [28, 28, 1], [Array.from({ length: 10 }, (_, k) => k / 10)], new Array<number>(10).fill(0));
    const json = JSON.parse(await readFile(join(dir, 'model', 'model.json'), 'utf8')) as { weightsManifest: { paths: string[] }[] };
    json.weightsManifest[0]!.paths = ['../outside.bin'];
    await writeFile(join(dir, 'model', 'model.json'), JSON.stringify(json));
    // A real file: the loader must refuse the path, not merely fail to find it.
    await writeFile(join(dir, 'outside.bin'), await readFile(join(dir, 'model', 'weights.bin')));
    await rm(join(dir, 'model', 'weights.bin'));
  }
  {
    const dir = await write('model-input-shape-mismatch', {
      description: 'a model taking 32×32×3 images evaluated on MNIST (28×28×1)',
      cli: evalArgs('{dir}/model', 'mnist', ['--limit', '10']),
      exitCode: 2,
      stderr: String.raw`^advtest: mnist images are 28×28×1 but shape 32×32×3 was asked for: use a model with input 28×28×1 or folder:PATH$`,
      names: '32×32×3',
      api: { call: 'evaluate', model: '{dir}/model', data: 'mnist', eps: [0.1] },
      error: 'UserError',
    });
    await tinyModel(join(dir, 'model'), [32, 32, 3], [[0, 1], [1, 0], [0.5, 0.5]], [0, 0]);
  }
  {
    const nanStderr = String.raw`^advtest: model \S*model produced NaN logits on example a/0\.png: check the weights.*$`;
    const dir = await write(
      'model-nan',
      {
        description: 'a LayersModel whose weights are NaN, so that every logit is NaN',
        cli: evalArgs('{dir}/model', 'folder:{dir}/data'),
        exitCode: 2,
        stderr: nanStderr,
        names: 'NaN',
        api: { call: 'evaluate', model: '{dir}/model', data: 'folder:{dir}/data', eps: [0.1] },
        error: 'UserError',
      },
      { 'data/a/0.png': smallPng(3), 'data/b/0.png': smallPng(4) },
    );
    await tinyModel(join(dir, 'model'), [8, 8, 1], [[NaN, NaN]], [0, 0]);
    const attackDir = await write(
      'model-nan-attack',
      {
        description: 'the NaN model of model-nan through `advtest attack`: refused before anything is written',
        cli: ['attack', '--model', '{dir}/model', '--images', '{dir}/a/0.png', '--eps', '0.1', '--out', '{out}', '--quiet'],
        exitCode: 2,
        stderr: nanStderr.replace('a/0\\.png', '\\S*a/0\\.png'),
        names: 'NaN',
        api: { call: 'attackImages', model: '{dir}/model', image: '{dir}/a/0.png', eps: 0.1, out: '{out}' },
        error: 'UserError',
      },
      { 'a/0.png': smallPng(3) },
    );
    await tinyModel(join(attackDir, 'model'), [8, 8, 1], [[NaN, NaN]], [0, 0]);
  }
  {
    // A model without class names labels folders by position, so a third folder is label 2.
    const dir = await write(
      'labels-out-of-range',
      {
        description: 'an image folder with 3 classes (c0…c2) for a 2-class model without class names (folders labelled by position)',
        cli: evalArgs('{dir}/model', 'folder:{dir}/data'),
        exitCode: 2,
        stderr: String.raw`^advtest: data "folder:\S*data" example c2/0\.png has label 2, outside the model's 0\.\.1: .+$`,
        names: 'c2/0.png',
        api: { call: 'evaluate', model: '{dir}/model', data: 'folder:{dir}/data', eps: [0.1] },
        error: 'UserError',
      },
      Object.fromEntries(Array.from({ length: 3 }, (_, k) => [`data/c${k}/0.png`, smallPng(10 + k)])),
    );
    await tinyModel(join(dir, 'model'), [8, 8, 1], [[1, -1]], [0, 0]);
  }

  // --- ε ------------------------------------------------------------------------------------
  await write('eps-negative', epsScenario('-0.1', String.raw`^advtest: --eps -0\.1 is negative: a perturbation budget must be ≥ 0$`, 'a negative budget'));
  await write('eps-nan', epsScenario('NaN', String.raw`^advtest: --eps "NaN" is not a number: write values like 0\.3 or 8/255$`, 'ε = NaN'));
  await write('eps-abc', epsScenario('abc', String.raw`^advtest: --eps "abc" is not a number: write values like 0\.3 or 8/255$`, 'ε = abc'));
  await write('eps-larger-than-range', {
    description: 'ε = 8 for a model whose inputs are in [0, 1] (8/255 was meant)',
    cli: ['eval', '--model', MNIST_CNN, '--data', 'mnist', '--limit', '10', '--eps', '8', '--json', '{out}', '--quiet'],
    exitCode: 2,
    stderr: String.raw`^advtest: --eps 8 exceeds the model's input range \(1\): for images in \[0, 1\] write 8/255, not 8$`,
    names: '8',
    api: { call: 'checkEpsAgainstRange', eps: [8], range: 1 },
    error: 'UserError',
  });

  await write('threads-too-many', {
    description: '--threads 9: the wasm build preallocates 8 pthreads',
    cli: ['eval', '--model', MNIST_CNN, '--data', 'mnist', '--limit', '10', '--threads', '9', '--json', '{out}', '--quiet'],
    exitCode: 2,
    stderr: String.raw`^advtest: --threads 9: give a whole number from 1 to 8$`,
    names: '9',
    api: { call: 'initBackend', backend: 'wasm', threads: 9 },
    error: 'UserError',
  });

  // --- datasets -----------------------------------------------------------------------------
  await write(
    'dataset-no-classes',
    {
      description: 'an image folder with a file but no class sub-folders',
      cli: evalArgs(MNIST_CNN, 'folder:{dir}/data'),
      exitCode: 2,
      stderr: String.raw`^advtest: image folder \S*data has no class sub-folders: put each class's images in \S*data/<class name>/$`,
      names: 'data',
      api: { call: 'loadDataset', spec: 'folder:{dir}/data', shape: [28, 28, 1] },
      error: 'UserError',
    },
    { 'data/README.txt': 'Images go in one sub-folder per class.\n' },
  );
  await write(
    'dataset-empty-class',
    {
      description: 'an image folder whose class folders 0 and 1 hold no image (only hidden files); one empty class folder among others is allowed',
      cli: evalArgs(MNIST_CNN, 'folder:{dir}/data'),
      exitCode: 2,
      stderr: String.raw`^advtest: image folder \S*data has no image files in its class folders: put each class's images in \S*data/<class name>/$`,
      names: 'data',
      api: { call: 'loadDataset', spec: 'folder:{dir}/data', shape: [28, 28, 1] },
      error: 'UserError',
    },
    { 'data/0/.gitkeep': '', 'data/1/.gitkeep': '' },
  );
  {
    // Fashion-MNIST IDX files of 4 images whose image file stops short of its declared data.
    const idx = (dims: number[], data: Uint8Array): Buffer => {
      const head = Buffer.alloc(4 + 4 * dims.length);
      head[2] = 0x08;
      head[3] = dims.length;
      dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
      return Buffer.concat([head, data]);
    };
    const images = idx([4, 28, 28], noise(4 * 28 * 28, 6));
    await write(
      'idx-truncated',
      {
        description: 'Fashion-MNIST test images (IDX) cut short of the 4×28×28 bytes their header declares',
        cli: evalArgs(MNIST_CNN, 'fashion-mnist', ['--data-dir', '{dir}']),
        exitCode: 2,
        stderr: String.raw`^advtest: IDX file \S*t10k-images-idx3-ubyte is truncated: its header declares 4×28×28 = 3136 bytes of data but only 2000 follow; .+$`,
        names: 't10k-images-idx3-ubyte',
        api: { call: 'loadDataset', spec: 'fashion-mnist', shape: [28, 28, 1], dataDir: '{dir}' },
        error: 'UserError',
      },
      { 't10k-images-idx3-ubyte': images.subarray(0, 16 + 2000), 't10k-labels-idx1-ubyte': idx([4], Uint8Array.from([0, 1, 2, 3])) },
    );
  }

  // --- outputs ------------------------------------------------------------------------------
  // Tests run as root, where a 0o555 folder does not stop writes; a path under a regular file
  // cannot be written by anyone, so it stands for "not writable" (ENOTDIR). The test adds a
  // 0o555 case when it does not run as root.
  const notAFolder = { 'file.txt': 'A regular file where a folder is expected.\n' };
  await write(
    'out-not-writable',
    {
      description: '`advtest attack --out` under a regular file: the folder cannot be created',
      cli: ['attack', '--model', MNIST_CNN, '--images', DIGIT, '--eps', '0.1', '--out', '{dir}/file.txt/adv', '--quiet'],
      exitCode: 2,
      stderr: String.raw`^advtest: cannot create output folder \S*file\.txt/adv \(ENOTDIR: part of the path is a file\): choose a writable --out$`,
      names: 'file.txt/adv',
      api: { call: 'attackImages', model: MNIST_CNN, image: DIGIT, eps: 0.1, out: '{dir}/file.txt/adv' },
      error: 'UserError',
    },
    notAFolder,
  );
  await write(
    'out-is-file',
    {
      description: '`advtest attack --out` naming an existing regular file',
      cli: ['attack', '--model', MNIST_CNN, '--images', DIGIT, '--eps', '0.1', '--out', '{dir}/file.txt', '--quiet'],
      exitCode: 2,
      stderr: String.raw`^advtest: --out \S*file\.txt is a file, not a folder: choose a folder name$`,
      names: 'file.txt',
      api: { call: 'attackImages', model: MNIST_CNN, image: DIGIT, eps: 0.1, out: '{dir}/file.txt' },
      error: 'UserError',
    },
    notAFolder,
  );
  await write(
    'json-out-not-writable',
    {
      description: '`advtest eval --json` under a regular file: refused before evaluating, not after',
      cli: ['eval', '--model', MNIST_CNN, '--data', 'mnist', '--limit', '10', '--attack', 'fgsm', '--eps', '0.1', '--json', '{dir}/file.txt/report.json', '--quiet'],
      exitCode: 2,
      stderr: String.raw`^advtest: --json \S*file\.txt/report\.json: \S*file\.txt is a file, not a folder: .+$`,
      names: 'file.txt',
      api: { call: 'checkOutputFile', file: '{dir}/file.txt/report.json', option: '--json' },
      error: 'UserError',
    },
    notAFolder,
  );
  await write(
    'baseline-out-not-writable',
    {
      description: '`advtest baseline --out` under a regular file: refused before evaluating, not after',
      cli: ['baseline', '--model', MNIST_CNN, '--data', 'mnist', '--limit', '10', '--attack', 'fgsm', '--eps', '0.1', '--out', '{dir}/file.txt/ci/robustness.json', '--quiet'],
      exitCode: 2,
      stderr: String.raw`^advtest: --out \S*file\.txt/ci/robustness\.json: \S*file\.txt is a file, not a folder: .+$`,
      names: 'file.txt',
      api: { call: 'checkOutputFile', file: '{dir}/file.txt/ci/robustness.json', option: '--out', createFolders: true },
      error: 'UserError',
    },
    notAFolder,
  );

  // `advtest train` trains first (a second on two images) and is refused when saving; the file
  // in the way must survive (the saver used to delete it to make room for the model folder).
  const trainArgs = (out: string) => ['train', '--arch', 'mlp', '--data', 'folder:{dir}/data', '--epochs', '1', '--holdout', '0', '--out', out, '--quiet'];
  const trainData = { 'data/a/0.png': smallPng(7), 'data/b/0.png': smallPng(8) };
  await write(
    'train-out-is-file',
    {
      description: '`advtest train --out` naming an existing regular file, which must be left as it is',
      cli: trainArgs('{dir}/file.txt'),
      exitCode: 2,
      stderr: String.raw`^advtest: cannot save the model to \S*file\.txt: it is a file, not a folder; choose another folder \(the file was left untouched\)$`,
      names: 'file.txt',
      api: { call: 'saveModel', dir: '{dir}/file.txt' },
      error: 'UserError',
    },
    { ...notAFolder, ...trainData },
  );
  await write(
    'train-out-not-writable',
    {
      description: '`advtest train --out` under a regular file: no model folder, no temporary folder left',
      cli: trainArgs('{dir}/file.txt/model'),
      exitCode: 2,
      stderr: String.raw`^advtest: cannot save the model to \S*file\.txt/model: part of the path is a file, not a folder \(ENOTDIR\); choose another path$`,
      names: 'file.txt/model',
      api: { call: 'saveModel', dir: '{dir}/file.txt/model' },
      error: 'UserError',
    },
    { ...notAFolder, ...trainData },
  );

  // --- baselines ----------------------------------------------------------------------------
  await write(
    'baseline-old-format',
    {
      description: 'a baseline written in an older format (advtest-baseline/0)',
      cli: ['check', '--baseline', '{dir}/robustness.json', '--json', '{out}', '--quiet'],
      exitCode: 2,
      stderr: String.raw`^advtest: \S*robustness\.json has format advtest-baseline/0, which this advtest cannot read \(it reads advtest-baseline/1\): re-create it with .+$`,
      names: 'advtest-baseline/0',
      api: { call: 'readBaseline', file: '{dir}/robustness.json' },
      error: 'UserError',
    },
    {
      'robustness.json':
        JSON.stringify(
          {
            format: 'advtest-baseline/0',
            tool: { name: 'advtest', version: '0.0.9' },
            model: '../../models/mnist-cnn',
            data: 'mnist',
            attacks: ['fgsm'],
            epsilons: [0.1],
            clean: { correct: 9, n: 10 },
            results: [{ attack: 'fgsm', eps: 0.1, correct: 7, n: 10 }],
          },
          null,
          2,
        ) + '\n',
    },
  );
  // --- faults (issue 18): outputs that are inputs, integer options, merge, symlinked weights --
  await write('limit-hex', {
    description: '--limit 0x10: Number() reads it as 16; only decimal digits are a count',
    cli: ['eval', '--model', MNIST_CNN, '--data', 'mnist', '--limit', '0x10', '--eps', '0.1', '--json', '{out}', '--quiet'],
    exitCode: 2,
    stderr: String.raw`^advtest: --limit "0x10" must be a positive integer in decimal digits, e\.g\. 100$`,
    names: '0x10',
    api: { call: 'parsePositiveInt', text: '0x10', option: '--limit' },
    error: 'UserError',
  });
  {
    const dir = await write('output-is-model-file', {
      description: '`advtest eval --json` naming the model.json of the model it evaluates: refused, the model left as it is',
      cli: ['eval', '--model', '{dir}/model', '--data', 'mnist', '--limit', '10', '--eps', '0.1', '--json', '{dir}/model/model.json', '--quiet'],
      exitCode: 2,
      stderr: String.raw`^advtest: --json \S*model/model\.json is the model file \S*model/model\.json, which this run reads: writing it would destroy it; choose another output path$`,
      names: 'model/model.json',
      api: { call: 'checkRunPaths', run: { models: ['{dir}/model'], data: 'mnist', outputs: [{ option: '--json', path: '{dir}/model/model.json' }] } },
      error: 'UserError',
    });
    await tinyModel(join(dir, 'model'), [28, 28, 1], [Array.from({ length: 10 }, (_, k) => k / 10)], new Array<number>(10).fill(0));
  }
  {
    const dir = await write(
      'model-weights-symlink-outside',
      modelScenario(
        'weights.bin is a symbolic link to ../outside.bin: the same escape from the model folder as a ../ path',
        String.raw`^advtest: \S*model\.json: weight file "\./weights\.bin" is a symbolic link to \S*outside\.bin, outside the model folder; copy the weight file into \S*model instead of linking it$`,
        'weights.bin',
      ),
    );
    await tinyModel(join(dir, 'model'), [28, 28, 1], [Array.from({ length: 10 }, (_, k) => k / 10)], new Array<number>(10).fill(0));
    await rename(join(dir, 'model', 'weights.bin'), join(dir, 'outside.bin'));
    await symlink('../outside.bin', join(dir, 'model', 'weights.bin'));
  }
  await write(
    'merge-null',
    {
      description: '`advtest merge` given a file holding JSON null',
      cli: ['merge', '{dir}/null.json', '--json', '{out}'],
      exitCode: 2,
      stderr: String.raw`^advtest: \S*null\.json is not a valid shard report \(the top level must be object\): re-run that shard \(eval --shard i/n --json FILE\)$`,
      names: 'null.json',
      api: { call: 'mergeFiles', files: ['{dir}/null.json'] },
      error: 'UserError',
    },
    { 'null.json': 'null\n' },
  );

  // --- images and `advtest attack` (issues 13 and 18): class names, labels, --out, memory ------
  await write(
    'dataset-unknown-class',
    {
      description: 'an image folder with a class folder "Drawing" that is not one of the fixture model\'s class names (0…9)',
      cli: evalArgs(MNIST_CNN, 'folder:{dir}/data'),
      exitCode: 2,
      stderr: String.raw`^advtest: class folder "Drawing" in \S*data is not one of the model's 10 class names \("0", "1", "2", "3", "4", "5", …\): rename the folder to the model's name for that class, or remove it$`,
      names: '"Drawing"',
      api: { call: 'evaluate', model: MNIST_CNN, data: 'folder:{dir}/data', eps: [0.1] },
      error: 'UserError',
    },
    { 'data/7/0.png': smallPng(30), 'data/Drawing/0.png': smallPng(31) },
  );
  {
    const dir = await write(
      'attack-label-out-of-range',
      {
        description: '`advtest attack` on shoe-label7.png with a 2-class model: the label in the file name is not a class of the model',
        cli: ['attack', '--model', '{dir}/model', '--images', '{dir}/shoe-label7.png', '--eps', '0.1', '--out', '{out}', '--quiet'],
        exitCode: 2,
        stderr: String.raw`^advtest: image \S*shoe-label7\.png has label 7 \(from its name\), outside the model's classes 0\.\.1: rename the file \(label<k> with k < 2\) or use the model it was labelled for$`,
        names: 'shoe-label7.png',
        api: { call: 'attackImages', model: '{dir}/model', image: '{dir}/shoe-label7.png', eps: 0.1, out: '{out}' },
        error: 'UserError',
      },
      { 'shoe-label7.png': smallPng(32) },
    );
    await tinyModel(join(dir, 'model'), [8, 8, 1], [[1, -1]], [0, 0]);
  }
  await write(
    'attack-out-not-empty',
    {
      description: '`advtest attack --out` naming a folder that already holds a file (without --force)',
      cli: ['attack', '--model', MNIST_CNN, '--images', DIGIT, '--eps', '0.1', '--out', '{dir}/previous', '--quiet'],
      exitCode: 2,
      stderr: String.raw`^advtest: --out \S*previous is not empty: it holds 1 file; choose a new folder, or pass --force to replace the results its manifest\.json lists$`,
      names: 'previous',
      api: { call: 'attackImages', model: MNIST_CNN, image: DIGIT, eps: 0.1, out: '{dir}/previous', existing: 'refuse' },
      error: 'UserError',
    },
    { 'previous/old-adv.png': smallPng(33) },
  );
  {
    // 2048×2048×3 inputs: the floor (16 B per value) of 32 images is 6.4 GB, more than the 4 GiB heap.
    const copies = Array.from({ length: 32 }, () => '{dir}/a.png');
    const dir = await write(
      'attack-batch-too-large',
      {
        description: '32 images for a model taking 2048×2048×3 inputs at --batch-size 32: more than the 4 GiB wasm heap can hold, refused before decoding',
        cli: ['attack', '--model', '{dir}/model', '--images', ...copies, '--eps', '0.1', '--batch-size', '32', '--out', '{out}', '--quiet'],
        exitCode: 2,
        stderr: String.raw`^advtest: --batch-size 32: a batch of 32 images of 2048×2048×3 needs more than 6\.4 GB, more than the 4 GiB wasm heap: use --batch-size 1 or smaller \(or --batch-size auto\)$`,
        names: '--batch-size 32',
        api: { call: 'checkBatchFits', batchSize: 32, images: 32, shape: [2048, 2048, 3] },
        error: 'UserError',
      },
      { 'a.png': smallPng(34) },
    );
    await tinyModel(join(dir, 'model'), [2048, 2048, 3], [[1, -1], [0, 1], [1, 0]], [0, 0]);
  }

  // --- the model's input contract (issue 13, model side): --labels, --mean / --std ------------
  await write(
    'labels-wrong-count',
    {
      description: '--labels with a file naming 3 classes for the 10-class fixture model',
      cli: evalArgs(MNIST_CNN, 'mnist', ['--limit', '10', '--labels', '{dir}/labels.txt']),
      exitCode: 2,
      stderr: String.raw`^advtest: --labels names 3 classes but the model has 10: give exactly one name per class, in the model's output order$`,
      names: '--labels',
      api: { call: 'loadModel', model: MNIST_CNN, labels: '{dir}/labels.txt' },
      error: 'UserError',
    },
    { 'labels.txt': 'cat\ndog\nbird\n' },
  );
  await write(
    'mean-wrong-channels',
    {
      description: '--mean with three values (RGB) for the 1-channel (grey) fixture model',
      cli: evalArgs(MNIST_CNN, 'mnist', ['--limit', '10', '--mean', '0.485,0.456,0.406']),
      exitCode: 2,
      stderr: String.raw`^advtest: --mean 0\.485,0\.456,0\.406 has 3 values but the model takes 1 channel: give one mean per channel$`,
      names: '--mean 0.485,0.456,0.406',
      api: { call: 'loadModel', model: MNIST_CNN, preprocessing: { mean: [0.485, 0.456, 0.406] } },
      error: 'UserError',
    },
  );
  await write(
    'std-wrong-channels',
    {
      description: '--std with two values for the 1-channel (grey) fixture model',
      cli: evalArgs(MNIST_CNN, 'mnist', ['--limit', '10', '--std', '0.2,0.3']),
      exitCode: 2,
      stderr: String.raw`^advtest: --std 0\.2,0\.3 has 2 values but the model takes 1 channel: give one std per channel$`,
      names: '--std 0.2,0.3',
      api: { call: 'loadModel', model: MNIST_CNN, preprocessing: { std: [0.2, 0.3] } },
      error: 'UserError',
    },
  );

  // --- bench configs (issue 18, items 7, 12, 14): refused whole, before anything trains ------
  {
    const bench = (entries: unknown[], evalPart: Record<string, unknown> = {}) =>
      JSON.stringify({ data: 'mnist', train: { arch: 'mlp', epochs: 1 }, eval: { attack: 'fgsm', eps: [0.1], limit: 20, ...evalPart }, entries }, null, 2) + '\n';
    const benchScenario = (description: string, stderr: string, names: string): Scenario => ({
      description,
      cli: ['bench', '--config', '{dir}/bench.json', '--out', '{out}', '--workers', '1', '--quiet'],
      exitCode: 2,
      stderr,
      names,
      api: { call: 'runBench', config: '{dir}/bench.json', out: '{out}' },
      error: 'UserError',
    });
    await write(
      'bench-entry-dotdot',
      benchScenario('a bench entry named "..": its result file would be written outside out/entries', String.raw`^advtest: \S*bench\.json: entry name "\.\." is not a file name \(it names a folder\): .+$`, '".."'),
      { 'bench.json': bench([{ name: 'standard' }, { name: '..' }]) },
    );
    await write(
      'bench-eps-above-range',
      benchScenario('a bench config with ε = 8 for images in [0, 1]', String.raw`^advtest: \S*bench\.json: /eval/eps 8 exceeds the input range of the images \(1\): .+$`, '/eval/eps 8'),
      { 'bench.json': bench([{ name: 'standard' }], { eps: [0.1, 8] }) },
    );
    await write(
      'bench-late-bad-defense',
      benchScenario('the last of three bench entries names a defense that does not exist (found before the first one trains)', String.raw`^advtest: \S*bench\.json: entry "third": unknown defense "fgsm-att": .+$`, 'fgsm-att'),
      { 'bench.json': bench([{ name: 'first' }, { name: 'second', defense: 'label-smoothing' }, { name: 'third', defense: 'fgsm-att' }]) },
    );
  }

  console.log(`scenarios written to ${root}`);
}

await main();
