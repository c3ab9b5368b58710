import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../errors.js';
import { writeFailure } from '../report/write-file.js';
import type { EpochProgress } from './monitor.js';

export const CHECKPOINT_FORMAT = 'advtest-checkpoint/1';

/** An optimizer's state variable (Adam's moments, momentum's accumulators, the step count). */
export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

/** Everything a resumed run needs to continue exactly where the killed one stood. */
export interface CheckpointState {
  /** Identifies the training configuration; a checkpoint of another one is not resumed. */
  key: string;
  /** Epochs completed. */
  epoch: number;
  globalStep: number;
  rngState: object;
  history: EpochProgress[];
  model: tf.Tensor[];
  optimizer: NamedTensor[];
  /** State of the training hooks (weight averaging's running average), when they keep any. */
  hooks?: NamedTensor[];
}

interface Manifest {
  format: typeof CHECKPOINT_FORMAT;
  key: string;
  epoch: number;
  globalStep: number;
  rngState: object;
  history: EpochProgress[];
  model: { shape: number[]; dtype: tf.DataType }[];
  optimizer: { name: string; shape: number[]; dtype: tf.DataType }[];
  hooks?: { name: string; shape: number[]; dtype: tf.DataType }[];
}

/** Raw bytes of each tensor in its own dtype (Adam's step counter is int32). */
async function bytesOf(tensors: tf.Tensor[]): Promise<Buffer> {
  const parts = await Promise.all(
    tensors.map(async (t) => {
      if (t.dtype !== 'float32' && t.dtype !== 'int32') throw new Error(`checkpoint: cannot store a ${t.dtype} tensor`);
      const data = (await t.data()) as Float32Array | Int32Array;
      return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    }),
  );
  return Buffer.concat(parts);
}

/** Writes the state after an epoch into a fresh folder and renames it over the old one. */
export async function saveCheckpoint(dir: string, state: CheckpointState): Promise<void> {
  const tmp = `${dir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  const manifest: Manifest = {
    format: CHECKPOINT_FORMAT,
    key: state.key,
    epoch: state.epoch,
    globalStep: state.globalStep,
    rngState: state.rngState,
    history: state.history,
    model: state.model.map((t) => ({ shape: t.shape, dtype: t.dtype })),
    optimizer: state.optimizer.map((n) => ({ name: n.name, shape: n.tensor.shape, dtype: n.tensor.dtype })),
    ...(state.hooks ? { hooks: state.hooks.map((n) => ({ name: n.name, shape: n.tensor.shape, dtype: n.tensor.dtype })) } : {}),
  };
  const model = await bytesOf(state.model);
  const optimizer = await bytesOf(state.optimizer.map((n) => n.tensor));
  const hooks = state.hooks ? await bytesOf(state.hooks.map((n) => n.tensor)) : undefined;
  try {
    await writeFile(path.join(tmp, 'model.bin'), model);
    await writeFile(path.join(tmp, 'optimizer.bin'), optimizer);
    if (hooks) await writeFile(path.join(tmp, 'hooks.bin'), hooks);
    await writeFile(path.join(tmp, 'checkpoint.json'), JSON.stringify(manifest));
  } catch (err) {
    // A full disk: the previous checkpoint stays, the half-written one goes.
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw writeFailure(dir, err, 'the previous checkpoint was kept');
  }
  await rm(dir, { recursive: true, force: true });
  await rename(tmp, dir);
}

function damaged(dir: string, why: string): UserError {
  return new UserError(`checkpoint ${dir} is damaged (${why}): delete ${dir} to start this training afresh`);
}

function bytesNeeded(specs: { shape: number[] }[]): number {
  return specs.reduce((sum, s) => sum + s.shape.reduce((a, b) => a * b, 1) * 4, 0);
}

function validSpecs(specs: unknown): specs is { shape: number[]; dtype: tf.DataType }[] {
  return Array.isArray(specs) && specs.every((s: { shape?: unknown; dtype?: unknown }) => Array.isArray(s?.shape) && s.shape.every((d) => Number.isInteger(d) && d >= 0) && (s.dtype === 'float32' || s.dtype === 'int32'));
}

function tensorsFrom(buf: Buffer, specs: { shape: number[]; dtype: tf.DataType }[]): tf.Tensor[] {
  let offset = 0;
  return specs.map((s) => {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const bytes = buf.buffer.slice(buf.byteOffset + offset, buf.byteOffset + offset + n * 4);
    offset += n * 4;
    return tf.tensor(s.dtype === 'int32' ? new Int32Array(bytes) : new Float32Array(bytes), s.shape, s.dtype);
  });
}

/** The checkpoint in dir, if there is one of this configuration (key); anything else is ignored. */
export async function loadCheckpoint(dir: string, key: string): Promise<CheckpointState | undefined> {
  const file = path.join(dir, 'checkpoint.json');
  if (!existsSync(file)) return undefined;
  let manifest: Manifest;
  try {
    manifest = JSON.parse(await readFile(file, 'utf8')) as Manifest;
  } catch (err) {
    throw damaged(dir, `checkpoint.json: ${(err as Error).message}`);
  }
  if (typeof manifest !== 'object' || manifest === null) throw damaged(dir, 'checkpoint.json holds no object');
  if (manifest.format !== CHECKPOINT_FORMAT || manifest.key !== key) return undefined;
  if (!validSpecs(manifest.model) || !Array.isArray(manifest.optimizer) || !validSpecs(manifest.optimizer) || !Array.isArray(manifest.history) || !Number.isInteger(manifest.epoch)) {
    throw damaged(dir, 'checkpoint.json lacks the shapes, history or epoch of the saved state');
  }
  const read = async (name: string, specs: { shape: number[] }[]): Promise<Buffer> => {
    let buf: Buffer;
    try {
      buf = await readFile(path.join(dir, name));
    } catch (err) {
      throw damaged(dir, `${name}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    if (buf.length !== bytesNeeded(specs)) throw damaged(dir, `${name} holds ${buf.length} bytes, its manifest describes ${bytesNeeded(specs)}`);
    return buf;
  };
  const modelBytes = await read('model.bin', manifest.model);
  const optBytes = await read('optimizer.bin', manifest.optimizer);
  if (manifest.hooks !== undefined && !validSpecs(manifest.hooks)) throw damaged(dir, 'checkpoint.json lacks the shapes of the hooks\' state');
  const hookBytes = manifest.hooks ? await read('hooks.bin', manifest.hooks) : undefined;
  const model = tensorsFrom(modelBytes, manifest.model);
  const opt = tensorsFrom(optBytes, manifest.optimizer);
  const hookTensors = manifest.hooks && hookBytes ? tensorsFrom(hookBytes, manifest.hooks) : undefined;
  return {
    key,
    epoch: manifest.epoch,
    globalStep: manifest.globalStep,
    rngState: manifest.rngState,
    history: manifest.history,
    model,
    optimizer: manifest.optimizer.map((s, i) => ({ name: s.name, tensor: opt[i]! })),
    ...(manifest.hooks && hookTensors ? { hooks: manifest.hooks.map((s, i) => ({ name: s.name, tensor: hookTensors[i]! })) } : {}),
  };
}
