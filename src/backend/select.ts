import { availableParallelism } from 'node:os';
import { isMainThread } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../errors.js';
import { describeProbe, parseParallelism, probeParallelism } from './parallelism.js';
import { MAX_WASM_THREADS, threadsUnavailable, settlePthreads, withThreadedWasm } from './wasm-threads.js';

export type BackendChoice = 'auto' | 'tensorflow' | 'wasm' | 'cpu';
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'tensorflow', 'wasm', 'cpu'];

/** What the report records about where the numbers were computed. */
export interface BackendInfo {
  name: string;
  requested: BackendChoice;
  tfjsVersion: string;
  /** Our replacement gradient kernels were registered (wasm only). */
  fastKernels: boolean;
  /** Threads the wasm kernels use (XNNPACK's pool); absent on other backends. */
  threads?: number;
  /** Why auto fell back, when it did. */
  note?: string;
  /**
   * How `--threads auto` / `--workers auto` chose their counts (the start-up probe's
   * measurement, parallelism.ts), one line each, when they did.
   */
  parallelism?: string[];
}

export interface BackendOptions {
  /**
   * Threads for the wasm backend's kernels. Default: every core in the main thread, 1 in a
   * worker thread (evaluation workers already use the cores). Fixed once wasm has started.
   * 'auto': as many as a short start-up measurement finds worth it (parallelism.ts).
   */
  threads?: number | 'auto';
}

/** The wasm thread count used when none is asked for. */
export function defaultThreads(): number {
  return isMainThread ? Math.min(availableParallelism(), MAX_WASM_THREADS) : 1;
}

let current: BackendInfo | undefined;
/** The thread count wasm was started with (it cannot change afterwards). */
let wasmThreadsAsked: number | undefined;

/** tfjs-node is an optional peer: present only when the user installed it. */
async function tryTensorflow(): Promise<string | undefined> {
  try {
    // A variable specifier keeps TypeScript from requiring the optional package at build time.
    const specifier = '@tensorflow/tfjs-node';
    await import(specifier);
  } catch (err) {
    // Absent is the normal case on machines where libtensorflow cannot be downloaded;
    // anything else (a broken native binary) is worth naming.
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return 'tfjs-node not installed';
    return `@tensorflow/tfjs-node failed to load: ${(err as Error).message.split('\n')[0]}`;
  }
  // tfjs-node registers its backend on the tfjs-core it resolves; it must be ours.
  if (tf.findBackendFactory('tensorflow') === null) {
    return '@tensorflow/tfjs-node is installed but registered its backend on another copy of @tensorflow/tfjs-core (align the versions)';
  }
  return undefined;
}

/** Starts wasm with `threads` kernel threads; returns the count XNNPACK reports, undefined on failure. */
async function useWasm(threads: number, notes: string[]): Promise<number | undefined> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const unavailable = threads > 1 ? threadsUnavailable() : undefined;
  if (unavailable !== undefined) {
    notes.push(`wasm runs 1 thread: ${unavailable}`);
    threads = 1;
  }
  wasm.setThreadsCount(threads);
  const start = async (): Promise<boolean> => {
    if (!(await tf.setBackend('wasm'))) return false;
    await tf.ready();
    return true;
  };
  const ok = await keepingProcessHandlers(() => (threads > 1 ? withThreadedWasm(start) : start()));
  if (!ok) return undefined;
  settlePthreads();
  const { registerWasmGradKernels } = await import('./wasm-kernels.js');
  registerWasmGradKernels();
  return Math.max(1, wasm.getThreadsCount());
}

const PROCESS_EVENTS = ['uncaughtException', 'unhandledRejection'] as const;

/**
 * Runs `init` and then removes the process-wide `uncaughtException` / `unhandledRejection`
 * handlers it added. The emscripten glue of tfjs's wasm build installs handlers that rethrow from
 * inside the glue: any later crash of the host program printed ~57 KB of minified glue and exited
 * 7 instead of Node's own trace and exit 1. A library must not change how its host crashes.
 */
async function keepingProcessHandlers<T>(init: () => Promise<T>): Promise<T> {
  type Listener = (...args: unknown[]) => void;
  const listeners = (event: (typeof PROCESS_EVENTS)[number]) => process.listeners(event as 'uncaughtException') as Listener[];
  const before = new Map(PROCESS_EVENTS.map((e) => [e, new Set(listeners(e))]));
  try {
    return await init();
  } finally {
    for (const event of PROCESS_EVENTS) {
      for (const listener of listeners(event)) {
        if (!before.get(event)!.has(listener)) process.removeListener(event, listener);
      }
    }
  }
}

function checkThreads(threads: number): void {
  if (!(Number.isInteger(threads) && threads >= 1 && threads <= MAX_WASM_THREADS)) {
    throw new UserError(`--threads ${String(threads)}: give a whole number from 1 to ${MAX_WASM_THREADS}`);
  }
}

/**
 * Selects and initialises a backend: tfjs-node when installed, else wasm (with our gradient
 * kernels), else the pure-JS cpu backend. Idempotent for the same choice.
 */
export async function initBackend(requested: BackendChoice = 'auto', options: BackendOptions = {}): Promise<BackendInfo> {
  if (!BACKEND_CHOICES.includes(requested)) {
    throw new UserError(`unknown backend "${String(requested)}": use one of ${BACKEND_CHOICES.join(', ')}`);
  }
  let threadsChoice: string | undefined;
  let asked: number | undefined;
  if (options.threads === 'auto') {
    // Only wasm has kernel threads; and once wasm runs, its count is fixed whatever a probe says.
    if ((requested === 'wasm' || requested === 'auto') && wasmThreadsAsked === undefined) {
      const probe = await probeParallelism(Math.min(availableParallelism(), MAX_WASM_THREADS));
      asked = probe.chosen;
      threadsChoice = describeProbe(probe, '--threads');
    }
  } else if (options.threads !== undefined) {
    asked = options.threads;
    checkThreads(asked);
    if (wasmThreadsAsked !== undefined && asked !== wasmThreadsAsked) {
      throw new UserError(`the wasm backend already started with ${wasmThreadsAsked} thread(s) in this process; --threads ${asked} cannot change that`);
    }
  }
  if (current && current.requested === requested && tf.getBackend() === current.name) return current;
  const notes: string[] = [];
  if (requested === 'tensorflow' || requested === 'auto') {
    const problem = await tryTensorflow();
    if (problem === undefined && (await tf.setBackend('tensorflow'))) {
      await tf.ready();
      return (current = { name: 'tensorflow', requested, tfjsVersion: tf.version.tfjs, fastKernels: false });
    }
    if (requested === 'tensorflow') {
      throw new UserError(`--backend tensorflow: ${problem ?? 'backend failed to initialise'}; use --backend wasm or install @tensorflow/tfjs-node`);
    }
    notes.push(problem ?? 'tensorflow backend failed to initialise');
  }
  if (requested === 'wasm' || requested === 'auto') {
    wasmThreadsAsked ??= asked ?? defaultThreads();
    const threads = await useWasm(wasmThreadsAsked, notes);
    if (threads !== undefined) {
      const info: BackendInfo = { name: 'wasm', requested, tfjsVersion: tf.version.tfjs, fastKernels: true, threads };
      if (notes.length > 0) info.note = notes.join('; ');
      if (threadsChoice !== undefined) info.parallelism = [threadsChoice];
      return (current = info);
    }
    if (requested === 'wasm') throw new UserError('--backend wasm: the wasm backend failed to initialise; use --backend cpu');
    notes.push('wasm backend failed to initialise');
  }
  await tf.setBackend('cpu');
  await tf.ready();
  const info: BackendInfo = { name: 'cpu', requested, tfjsVersion: tf.version.tfjs, fastKernels: false };
  if (notes.length > 0) info.note = notes.join('; ');
  return (current = info);
}

/** The backend in use (initialising the default one if nothing was chosen yet). */
export async function backendInfo(): Promise<BackendInfo> {
  return current ?? initBackend('auto');
}

/**
 * A worker count as given (`--workers`): a positive integer, or `auto`, which the start-up probe
 * resolves (parallelism.ts); the choice is added to the backend's provenance (`parallelism`).
 */
export async function resolveWorkers(text: string, option = '--workers'): Promise<number> {
  const v = parseParallelism(text, option);
  if (v !== 'auto') return v;
  const probe = await probeParallelism();
  // After --threads auto the measurement is already in the provenance: say only the choice.
  const measured = current?.parallelism?.some((l) => l.includes(describeProbe(probe, '').slice(' auto'.length)));
  const line = measured ? `${option} auto → ${probe.chosen} (the same probe)` : describeProbe(probe, option);
  if (current && !current.parallelism?.includes(line)) current.parallelism = [...(current.parallelism ?? []), line];
  return probe.chosen;
}
