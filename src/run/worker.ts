import { parentPort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../errors.js';
import { adversarialBatch, type AttackBatch } from '../harness/adversarial-batch.js';
import { evaluateBatch, type BatchJob, type BatchProgress } from '../harness/evaluate-batch.js';
import type { Attack, Classifier } from '../types.js';
import { transferSources } from '../../attacks/transfer.js';
import { materialize, materializeAttack, type AttackImagesRequest, type EvaluationRequest, type Materialized } from './requests.js';

/** What every batch of one evaluation shares; the target and mode come from the materialized request. */
export interface WorkerJob extends Omit<BatchJob, 'batch' | 'target' | 'mode'> {
  epsilons: number[];
}

/** What a worker rebuilds on its own backend before its first batch. */
export type WorkerInit = { kind: 'evaluate'; request: EvaluationRequest; job: WorkerJob } | { kind: 'attack'; request: AttackImagesRequest };

/** Messages between the pool (main thread) and a worker. */
export type ToWorker = { type: 'init'; init: WorkerInit } | { type: 'batch'; batch: number } | { type: 'attack'; batch: AttackBatch } | { type: 'close' };
export type FromWorker =
  | { type: 'ready' }
  /** `tensors`: the worker's live tensors after the batch (a leak shows as growth). */
  | { type: 'record'; batch: number; record: Awaited<ReturnType<typeof evaluateBatch>>; tensors: number }
  | { type: 'adversarial'; pixels: Float32Array; tensors: number }
  /** Sent as each (attack, ε) of a batch starts and ends, for the progress bar. */
  | { type: 'progress'; progress: BatchProgress }
  /** After 'close': the models (target and any transfer source) are disposed; `tensors` = what is left. */
  | { type: 'closed'; tensors: number }
  | { type: 'error'; message: string; user: boolean };

const port = parentPort;
if (!port) throw new Error('worker.ts runs only as a worker thread');

type State = { kind: 'evaluate'; m: Materialized; job: WorkerJob } | { kind: 'attack'; model: Classifier; attack: Attack; request: AttackImagesRequest };
let state: State | undefined;

/** Frees what init loaded: the model and, for transfer attacks, their source models. */
function release(s: State | undefined): void {
  if (!s) return;
  const attacks = s.kind === 'evaluate' ? s.m.attacks : [s.attack];
  for (const source of transferSources(attacks)) source.dispose?.();
  (s.kind === 'evaluate' ? s.m.model : s.model).dispose?.();
}

async function init(w: WorkerInit): Promise<State> {
  if (w.kind === 'evaluate') return { kind: 'evaluate', m: await materialize(w.request), job: w.job };
  return { kind: 'attack', ...(await materializeAttack(w.request)), request: w.request };
}

port.on('message', (msg: ToWorker) => {
  void (async () => {
    try {
      if (msg.type === 'close') {
        release(state);
        state = undefined;
        port.postMessage({ type: 'closed', tensors: tf.memory().numTensors } satisfies FromWorker);
        return;
      }
      if (msg.type === 'init') {
        release(state);
        state = await init(msg.init);
        port.postMessage({ type: 'ready' } satisfies FromWorker);
        return;
      }
      if (msg.type === 'attack') {
        if (state?.kind !== 'attack') throw new Error('attack batch before an attack init');
        const pixels = await adversarialBatch(state.model, state.attack, state.request.eps, state.request.seed, msg.batch);
        port.postMessage({ type: 'adversarial', pixels, tensors: tf.memory().numTensors } satisfies FromWorker);
        return;
      }
      if (state?.kind !== 'evaluate') throw new Error('batch before an evaluation init');
      const { m, job } = state;
      const { epsilons, ...shared } = job;
      const batchJob: BatchJob = { ...shared, batch: msg.batch, target: m.target, mode: m.mode };
      const record = await evaluateBatch(m.model, m.data, m.attacks, epsilons, batchJob, (progress) => port.postMessage({ type: 'progress', progress } satisfies FromWorker));
      port.postMessage({ type: 'record', batch: msg.batch, record, tensors: tf.memory().numTensors } satisfies FromWorker);
    } catch (err) {
      port.postMessage({ type: 'error', message: (err as Error).message, user: err instanceof UserError } satisfies FromWorker);
    }
  })();
});
