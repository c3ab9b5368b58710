import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { EpochProgress } from './loop.js';

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
  };
  await writeFile(path.join(tmp, 'model.bin'), await bytesOf(state.model));
  await writeFile(path.join(tmp, 'optimizer.bin'), await bytesOf(state.optimizer.map((n) => n.tensor)));
  await writeFile(path.join(tmp, 'checkpoint.json'), JSON.stringify(manifest));
  await rm(dir, { recursive: true, force: true });
  await rename(tmp, dir);
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
  const manifest = JSON.parse(await readFile(file, 'utf8')) as Manifest;
  if (manifest.format !== CHECKPOINT_FORMAT || manifest.key !== key) return undefined;
  const model = tensorsFrom(await readFile(path.join(dir, 'model.bin')), manifest.model);
  const opt = tensorsFrom(await readFile(path.join(dir, 'optimizer.bin')), manifest.optimizer);
  return {
    key,
    epoch: manifest.epoch,
    globalStep: manifest.globalStep,
    rngState: manifest.rngState,
    history: manifest.history,
    model,
    optimizer: manifest.optimizer.map((s, i) => ({ name: s.name, tensor: opt[i]! })),
  };
}
