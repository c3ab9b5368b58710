import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { readExportMetadata, readLabelsFile } from '../../src/model/labels.js';
import { loadModel, saveModel } from '../../src/model/store.js';
import { useTestBackend } from '../helpers/backend.js';

let dir: string;
beforeAll(async () => {
  await useTestBackend();
  dir = await mkdtemp(path.join(tmpdir(), 'advtest-labels-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function file(name: string, text: string): Promise<string> {
  const f = path.join(dir, name);
  await writeFile(f, text);
  return f;
}

/** A 3-class model on 2×2×3 images, saved with the given advtest metadata. */
async function savedModel(name: string, metadata: Parameters<typeof saveModel>[2]): Promise<{ dir: string; model: tf.LayersModel }> {
  const model = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [2, 2, 3] }), tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }), biasInitializer: 'ones' })] });
  const out = path.join(dir, name);
  await saveModel(model, out, metadata);
  return { dir: out, model };
}

const PIXELS = Array.from({ length: 12 }, (_, i) => i / 11);

describe('labels files', () => {
  it('reads text (one per line, CRLF, trailing blank lines, BOM), JSON arrays and {"labels": [...]}', async () => {
    expect(await readLabelsFile(await file('a.txt', '\uFEFFcat\r\ndog\r\n tabby cat \n\n'))).toEqual(['cat', 'dog', 'tabby cat']);
    expect(await readLabelsFile(await file('b.json', '["cat", "dog"]'))).toEqual(['cat', 'dog']);
    expect(await readLabelsFile(await file('c.json', '{"labels": ["a", "b", "c"], "imageSize": 224}'))).toEqual(['a', 'b', 'c']);
  });

  it('refuses a blank line in the middle, an empty file, JSON without names, a missing file', async () => {
    await expect(readLabelsFile(await file('d.txt', 'cat\n\ndog\n'))).rejects.toThrow(/line 2 is blank/);
    await expect(readLabelsFile(await file('e.txt', '\n\n'))).rejects.toThrow(/is empty/);
    await expect(readLabelsFile(await file('f.json', '{"names": ["a"]}'))).rejects.toThrow(UserError);
    await expect(readLabelsFile(path.join(dir, 'missing.txt'))).rejects.toThrow(/cannot read labels file .*missing\.txt \(ENOENT\)/);
  });
});

describe('class names and preprocessing from metadata', () => {
  it('reads labels and imageSize from a metadata.json next to model.json; --labels wins; a wrong count is refused', async () => {
    const { dir: m, model } = await savedModel('export', { bounds: { lower: 0, upper: 1 } });
    await writeFile(path.join(m, 'metadata.json'), JSON.stringify({ tfjsVersion: '4.22.0', labels: ['red', 'green', 'blue'], imageSize: 2 }));
    const clf = await loadModel(m);
    expect(clf.classNames).toEqual(['red', 'green', 'blue']);
    expect(clf.describe?.()).toMatchObject({ classNamesFrom: path.join(m, 'metadata.json'), preprocessing: expect.stringMatching(/^none/) });
    clf.dispose?.();
    const over = await loadModel(m, { labels: ['x', 'y', 'z'], source: 'cli' });
    expect(over.classNames).toEqual(['x', 'y', 'z']);
    over.dispose?.();
    await expect(loadModel(m, { labels: ['x', 'y'], source: 'cli' })).rejects.toThrow('--labels names 2 classes but the model has 3: give exactly one name per class, in the model\'s output order');
    await writeFile(path.join(m, 'metadata.json'), JSON.stringify({ labels: ['a', 'b'] }));
    await expect(loadModel(m)).rejects.toThrow(/metadata\.json names 2 classes but the model has 3/);
    model.dispose();
  });

  it('reads a Teachable Machine image export as taking pixels·255/127 − 1', async () => {
    const { dir: m, model } = await savedModel('tm', { bounds: { lower: 0, upper: 1 } });
    // What @teachablemachine/image writes: no advtest metadata about the range.
    const json = JSON.parse(await (await import('node:fs/promises')).readFile(path.join(m, 'model.json'), 'utf8'));
    delete json.userDefinedMetadata;
    await writeFile(path.join(m, 'model.json'), JSON.stringify(json));
    await writeFile(path.join(m, 'metadata.json'), JSON.stringify({ packageName: '@teachablemachine/image', labels: ['a', 'b', 'c'], imageSize: 224 }));
    const meta = await readExportMetadata(m);
    expect(meta?.preprocessing?.range).toEqual({ lower: -1, upper: 255 / 127 - 1 });
    const clf = await loadModel(m);
    const x = tf.tensor4d(PIXELS, [1, 2, 2, 3]);
    const want = model.predict(tf.tensor4d(PIXELS.map((v) => (v * 255) / 127 - 1), [1, 2, 2, 3])) as tf.Tensor;
    expect(Array.from(clf.logits(x).dataSync())).toEqual(Array.from(want.dataSync()).map((v) => expect.closeTo(v, 5)));
    expect(clf.describe?.()).toMatchObject({ imageSize: expect.stringContaining('imageSize 224; the model takes 2×2') });
    clf.dispose?.();
    model.dispose();
  });

  it('keeps models saved with advtest bounds [-1, 1] working: pixels stay [0, 1], the range becomes preprocessing', async () => {
    const { dir: m, model } = await savedModel('pm1', { bounds: { lower: -1, upper: 1 }, classNames: ['a', 'b', 'c'] });
    const clf = await loadModel(m);
    expect(clf.bounds).toEqual({ lower: 0, upper: 1 });
    expect(clf.classNames).toEqual(['a', 'b', 'c']);
    expect(clf.describe?.()).toMatchObject({ preprocessing: '[0, 1]→[-1, 1]', preprocessingFrom: expect.stringContaining('userDefinedMetadata.advtest') });
    const x = tf.tensor4d(PIXELS, [1, 2, 2, 3]);
    const want = model.predict(tf.tensor4d(PIXELS.map((v) => 2 * v - 1), [1, 2, 2, 3])) as tf.Tensor;
    expect(Array.from(clf.logits(x).dataSync())).toEqual(Array.from(want.dataSync()).map((v) => expect.closeTo(v, 5)));
    // Options win over the metadata, field by field.
    const asIs = await loadModel(m, { preprocessing: { range: { lower: 0, upper: 1 } } });
    const raw = model.predict(x) as tf.Tensor;
    expect(Array.from(asIs.logits(x).dataSync())).toEqual(Array.from(raw.dataSync()).map((v) => expect.closeTo(v, 5)));
    clf.dispose?.();
    asIs.dispose?.();
    model.dispose();
  });

  it('reads mean/std/channel order saved in advtest metadata, and refuses metadata of the wrong channel count', async () => {
    const pre = { mean: [0.1, 0.2, 0.3], std: [0.5, 0.25, 2], channelOrder: 'bgr' as const };
    const { dir: m, model } = await savedModel('meanstd', { bounds: { lower: 0, upper: 1 }, preprocessing: pre });
    const clf = await loadModel(m);
    const hand: number[] = [];
    for (let i = 0; i < 12; i += 3) [2, 1, 0].forEach((src, c) => hand.push((PIXELS[i + src]! - pre.mean[c]!) / pre.std[c]!));
    const x = tf.tensor4d(PIXELS, [1, 2, 2, 3]);
    const want = model.predict(tf.tensor4d(hand, [1, 2, 2, 3])) as tf.Tensor;
    expect(Array.from(clf.logits(x).dataSync())).toEqual(Array.from(want.dataSync()).map((v) => expect.closeTo(v, 4)));
    clf.dispose?.();
    const { dir: bad, model: m2 } = await savedModel('meanstd-bad', { bounds: { lower: 0, upper: 1 }, preprocessing: { mean: [0.5] } });
    await expect(loadModel(bad)).rejects.toThrow(/userDefinedMetadata\.advtest\): mean 0\.5 has 1 value but the model takes 3 channels/);
    model.dispose();
    m2.dispose();
  });
});
