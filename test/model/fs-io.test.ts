import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { buildArchitecture } from '../../src/model/architectures.js';
import { resolveWeightPath } from '../../src/model/fs-io.js';
import { loadModel, saveModel } from '../../src/model/store.js';
import { useTestBackend } from '../helpers/backend.js';

async function savedMlp(): Promise<string> {
  const dir = path.join(await mkdtemp(path.join(tmpdir(), 'advtest-io-')), 'model');
  const model = buildArchitecture('mlp', [4, 4, 1], 3, 7);
  await saveModel(model, dir, { arch: 'mlp', bounds: { lower: 0, upper: 1 } });
  model.dispose();
  return dir;
}

async function editModelJson(dir: string, edit: (json: { weightsManifest: { paths: string[] }[] }) => void): Promise<void> {
  const file = path.join(dir, 'model.json');
  const json = JSON.parse(await readFile(file, 'utf8'));
  edit(json);
  await writeFile(file, JSON.stringify(json));
}

describe('model folder IO', () => {
  beforeAll(useTestBackend);

  it('round-trips weights and metadata through our file-system handler', async () => {
    const dir = path.join(await mkdtemp(path.join(tmpdir(), 'advtest-io-')), 'model');
    const model = buildArchitecture('mlp', [4, 4, 1], 3, 7);
    await saveModel(model, dir, { arch: 'mlp', bounds: { lower: 0, upper: 1 } });
    const x = tf.randomUniform([2, 4, 4, 1], 0, 1, 'float32', 3) as tf.Tensor4D;
    const expected = (model.predict(x) as tf.Tensor).arraySync();
    const loaded = await loadModel(dir);
    expect(loaded.inputShape).toEqual([4, 4, 1]);
    expect(loaded.numClasses).toBe(3);
    expect(loaded.describe?.()).toMatchObject({ arch: 'mlp', logits: 'model output' });
    const got = loaded.logits(x);
    expect(got.arraySync()).toEqual(expected);
    tf.dispose([x, got]);
    model.dispose();
    loaded.dispose?.();
  });

  it.each([['../outside.bin'], ['/etc/passwd'], ['sub/../../x.bin']])('refuses the weight path %s escaping the folder', async (bad) => {
    const dir = await savedMlp();
    await editModelJson(dir, (json) => {
      json.weightsManifest[0]!.paths = [bad];
    });
    await expect(loadModel(dir)).rejects.toThrow(/points outside the model folder/);
  });

  it('accepts weight paths in sub-folders of the model folder', () => {
    expect(resolveWeightPath('/m', 'shards/w1.bin')).toBe('/m/shards/w1.bin');
    expect(() => resolveWeightPath('/m', '../m2/w.bin')).toThrow(UserError);
  });

  it('refuses weights of the wrong size, naming both sizes', async () => {
    const dir = await savedMlp();
    await writeFile(path.join(dir, 'weights.bin'), Buffer.alloc(12));
    await expect(loadModel(dir)).rejects.toThrow(/hold 12 bytes but the manifest describes/);
  });

  it('refuses model.json that is not JSON or has no weightsManifest', async () => {
    const dir = await savedMlp();
    await writeFile(path.join(dir, 'model.json'), '{ not json');
    await expect(loadModel(dir)).rejects.toThrow(/is not valid JSON/);
    await writeFile(path.join(dir, 'model.json'), JSON.stringify({ modelTopology: {} }));
    await expect(loadModel(dir)).rejects.toThrow(/no "weightsManifest"/);
  });

  it('names the folder when model.json is missing', async () => {
    await expect(loadModel('/nonexistent/model')).rejects.toThrow(/cannot read \/nonexistent\/model\/model.json/);
  });
});
