import { parentPort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../errors.js';
import { evaluateBatch, type BatchJob } from '../harness/evaluate.js';
import { materialize, type EvaluationRequest, type Materialized } from './evaluation-request.js';

/** What every batch of one evaluation shares. */
export interface WorkerJob {
  batchSize: number;
  seed: number;
  probes: boolean;
  epsilons: number[];
}

/** Messages between the pool (main thread) and a worker. */
export type ToWorker = { type: 'init'; request: EvaluationRequest; job: WorkerJob } | { type: 'batch'; batch: number };
export type FromWorker =
  | { type: 'ready' }
  /** `tensors`: the worker's live tensors after the batch (a leak shows as growth). */
  | { type: 'record'; batch: number; record: Awaited<ReturnType<typeof evaluateBatch>>; tensors: number }
  | { type: 'error'; message: string; user: boolean };

const port = parentPort;
if (!port) throw new Error('eval-worker.ts runs only as a worker thread');

let state: { m: Materialized; job: WorkerJob } | undefined;

function fail(err: unknown): void {
  port!.postMessage({ type: 'error', message: (err as Error).message, user: err instanceof UserError } satisfies FromWorker);
}

port.on('message', (msg: ToWorker) => {
  void (async () => {
    try {
      if (msg.type === 'init') {
        state = { m: await materialize(msg.request), job: msg.job };
        port.postMessage({ type: 'ready' } satisfies FromWorker);
        return;
      }
      if (!state) throw new Error('batch before init');
      const { m, job } = state;
      const batchJob: BatchJob = { batch: msg.batch, batchSize: job.batchSize, seed: job.seed, probes: job.probes, target: m.target, mode: m.mode };
      const record = await evaluateBatch(m.model, m.data, m.attacks, job.epsilons, batchJob);
      port.postMessage({ type: 'record', batch: msg.batch, record, tensors: tf.memory().numTensors } satisfies FromWorker);
    } catch (err) {
      fail(err);
    }
  })();
});
