import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { UserError } from '../errors.js';
import type { AttackBatch } from '../harness/adversarial-batch.js';
import type { BatchProgress } from '../harness/evaluate-batch.js';
import type { EvaluateOptions } from '../harness/evaluate.js';
import type { AttackImagesOptions } from '../harness/attack-images.js';
import type { BatchRecord } from '../harness/journal.js';
import type { FromWorker, ToWorker, WorkerInit } from './worker.js';

/** A worker's answer to one batch. */
type Result = Extract<FromWorker, { type: 'record' | 'adversarial' }>;

/** How long close() waits for a worker to free its models before terminating it anyway. */
const CLOSE_WAIT_MS = 2000;

interface Slot {
  worker: Worker;
  busy?: { resolve: (r: Result) => void; reject: (e: Error) => void; onProgress?: (p: BatchProgress) => void };
  /** Live tensors in the worker after each batch it computed. */
  tensors: number[];
  /** Set by close(): resolved with the worker's live tensors once it has freed its models. */
  closed?: (tensors: number) => void;
}

/**
 * A pool of min(`requested`, `batches`) workers, or none when that is 1 (or nothing was asked):
 * workers pay a start-up (backend, model, data), worth it only with several batches to share.
 */
export function startWorkerPool(requested: number | undefined, batches: number, init: WorkerInit): WorkerPool | undefined {
  const size = Math.min(requested ?? 1, batches);
  return size > 1 ? new WorkerPool(size, init) : undefined;
}

/**
 * Worker threads that each load the model, data and attacks of one evaluation (or the model and
 * attack of `advtest attack`) on their own backend and compute whole batches. A worker that
 * throws or dies fails the run with its reason; nothing waits forever.
 */
export class WorkerPool {
  private readonly slots: Slot[];
  private readonly idle: Slot[] = [];
  private readonly waiting: ((slot: Slot) => void)[] = [];
  private failure: Error | undefined;
  /** Settles (rejects) once any worker has failed, so that callers waiting for a slot do not hang. */
  private readonly failed: Promise<never>;
  private rejectFailed: (err: Error) => void = () => undefined;

  constructor(size: number, init: WorkerInit) {
    this.failed = new Promise<never>((_, reject) => {
      this.rejectFailed = reject;
    });
    this.failed.catch(() => undefined);
    const fromSources = import.meta.url.endsWith('.ts');
    const entry = new URL(`./worker.${fromSources ? 'ts' : 'js'}`, import.meta.url).href;
    // From TypeScript sources (tests, tsx) a bootstrap registers tsx inside the worker first.
    const file = fileURLToPath(fromSources ? new URL('./ts-worker.mjs', import.meta.url) : entry);
    this.slots = Array.from({ length: size }, (_, index) => this.spawn(file, entry, index, init));
  }

  get size(): number {
    return this.slots.length;
  }

  private spawn(file: string, entry: string, index: number, init: WorkerInit): Slot {
    const worker = new Worker(file, { workerData: { entry } });
    const slot: Slot = { worker, tensors: [] };
    worker.on('message', (msg: FromWorker) => {
      if (msg.type === 'ready') {
        this.release(slot);
      } else if (msg.type === 'progress') {
        slot.busy?.onProgress?.(msg.progress);
      } else if (msg.type === 'closed') {
        slot.closed?.(msg.tensors);
      } else if (msg.type === 'record' || msg.type === 'adversarial') {
        const busy = slot.busy;
        slot.busy = undefined;
        slot.tensors.push(msg.tensors);
        busy?.resolve(msg);
        this.release(slot);
      } else {
        this.fail(msg.user ? new UserError(msg.message) : new Error(`worker ${index} failed: ${msg.message}`));
      }
    });
    worker.on('error', (err) => this.fail(new Error(`worker ${index} crashed: ${err.message}`)));
    worker.on('exit', (code) => {
      if (this.failure === undefined && code !== 0) this.fail(new Error(`worker ${index} exited unexpectedly (code ${code})`));
    });
    worker.postMessage({ type: 'init', init } satisfies ToWorker);
    return slot;
  }

  private release(slot: Slot): void {
    const next = this.waiting.shift();
    if (next) next(slot);
    else this.idle.push(slot);
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    for (const slot of this.slots) {
      slot.busy?.reject(err);
      slot.busy = undefined;
    }
    this.waiting.length = 0;
    this.rejectFailed(err);
  }

  private acquire(): Promise<Slot> {
    const slot = this.idle.shift();
    if (slot) return Promise.resolve(slot);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Sends one batch message to the next free worker and waits for its answer. */
  private async send(msg: Extract<ToWorker, { type: 'batch' | 'attack' }>, onProgress?: (p: BatchProgress) => void): Promise<Result> {
    if (this.failure) throw this.failure;
    const slot = await Promise.race([this.acquire(), this.failed]);
    return new Promise<Result>((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      slot.busy = { resolve, reject, ...(onProgress ? { onProgress } : {}) };
      slot.worker.postMessage(msg);
    });
  }

  /** Evaluates batch number `batch` (an 'evaluate' pool). */
  async run(batch: number, onProgress?: (p: BatchProgress) => void): Promise<BatchRecord> {
    const r = await this.send({ type: 'batch', batch }, onProgress);
    if (r.type !== 'record') throw new Error(`worker answered an evaluation batch with ${r.type}`);
    return r.record;
  }

  /** Attacks one batch of images (an 'attack' pool): its 8-bit adversarial pixels. */
  async attack(batch: AttackBatch): Promise<Float32Array> {
    const r = await this.send({ type: 'attack', batch });
    if (r.type !== 'adversarial') throw new Error(`worker answered an attack batch with ${r.type}`);
    return r.pixels;
  }

  /** The `runner` option of evaluate(). */
  evaluationRunner(): NonNullable<EvaluateOptions['runner']> {
    return { concurrency: this.size, run: (batch, onProgress) => this.run(batch, onProgress) };
  }

  /** The `runner` option of attackImages(). */
  attackRunner(): NonNullable<AttackImagesOptions['runner']> {
    return { concurrency: this.size, run: (batch) => this.attack(batch) };
  }

  /** Per worker, its live tensors after each batch (constant when nothing leaks). */
  tensorCounts(): number[][] {
    return this.slots.map((s) => [...s.tensors]);
  }

  /** For tests: kill one worker as a crash would. */
  crash(index: number): Promise<number> {
    return this.slots[index]!.worker.terminate();
  }

  /**
   * Asks each idle worker to free its models (the target and any transfer source) and waits for
   * it (at most CLOSE_WAIT_MS), then terminates every worker. Returns, per worker, its live
   * tensors after freeing (null: busy, failed, or too slow to answer).
   */
  async close(): Promise<(number | null)[]> {
    const healthy = this.failure === undefined;
    this.failure ??= new Error('pool closed');
    const left = await Promise.all(
      this.slots.map(
        (slot) =>
          new Promise<number | null>((resolve) => {
            if (!healthy || slot.busy || !this.idle.includes(slot)) return resolve(null);
            const timer = setTimeout(() => resolve(null), CLOSE_WAIT_MS);
            slot.closed = (tensors) => {
              clearTimeout(timer);
              resolve(tensors);
            };
            slot.worker.postMessage({ type: 'close' } satisfies ToWorker);
          }),
      ),
    );
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    return left;
  }
}
