/**
 * Multi-threaded XNNPACK for the wasm backend in Node.js. tfjs 4.22 ships a threaded SIMD build
 * but never uses it in Node (WASM_HAS_MULTITHREAD_SUPPORT is false there, tensorflow/tfjs#3830):
 * its pthread workers are Blob URLs, which Node's worker_threads cannot start. Three narrow
 * adjustments while the backend initialises make it work:
 *  - the flag is set, so that tfjs picks the threaded build;
 *  - the Worker class the glue takes from worker_threads is, for the glue's Blob URLs only, one
 *    that starts our file (wasm-pthread-worker.cjs: the same stock script with a loadable glue
 *    path) without the parent's execArgv (flags such as --input-type break a file worker);
 *  - os.cpus() reports twice the cores while the module starts, because the C++ side halves
 *    the logical core count (it assumes two hyper-threads per core) and caps the pool there.
 * Afterwards the pool's pthread workers are unref'd (they wait for work forever, and a finished
 * command must still exit) and the glue's spare workers are ended (8 are preallocated whatever the
 * thread count; ~90 MB for a 2-thread process).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import type * as WorkerThreads from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';

/** tfjs preallocates 8 pthread workers; XNNPACK's pool cannot use more. */
export const MAX_WASM_THREADS = 8;

const WORKER_FILE = fileURLToPath(new URL('./wasm-pthread-worker.cjs', import.meta.url));

interface NodeWorkerLike {
  unref(): void;
  terminate(): Promise<number>;
}
interface PThreadRegistry {
  runningWorkers: NodeWorkerLike[];
  unusedWorkers: NodeWorkerLike[];
}
interface WasmModuleWithThreads {
  PThread?: PThreadRegistry;
}

/** Why the threaded build cannot start here, or undefined when it can. */
export function threadsUnavailable(): string | undefined {
  if (typeof SharedArrayBuffer === 'undefined') return 'this runtime has no SharedArrayBuffer';
  if (!existsSync(WORKER_FILE)) return `${WORKER_FILE} is missing (rebuild advtest: npm run build)`;
  return undefined;
}

/** The CommonJS exports object of worker_threads, which the emscripten glue reads `Worker` from. */
const workerThreads = createRequire(import.meta.url)('node:worker_threads') as typeof WorkerThreads;

/** Runs `init` (which must initialise the wasm backend) with the threaded build enabled. */
export async function withThreadedWasm<T>(init: () => Promise<T>): Promise<T> {
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  const NodeWorker = workerThreads.Worker;
  const cpus = os.cpus;
  workerThreads.Worker = class PthreadWorker extends NodeWorker {
    constructor(filename: string | URL, options?: WorkerThreads.WorkerOptions) {
      if (typeof filename === 'string' && filename.startsWith('blob:')) super(WORKER_FILE, { execArgv: [] });
      else super(filename, options);
    }
  };
  os.cpus = () => [...cpus(), ...cpus()];
  try {
    return await init();
  } finally {
    workerThreads.Worker = NodeWorker;
    os.cpus = cpus;
  }
}

/** Lets the process exit while XNNPACK's pool threads wait for work, and ends the spare workers. */
export function settlePthreads(): void {
  const wasm = (tf.backend() as unknown as { wasm?: WasmModuleWithThreads }).wasm;
  const registry = wasm?.PThread;
  if (!registry) return;
  for (const w of registry.runningWorkers) w.unref();
  // The glue starts a new worker (through the same Worker class) should it ever need one.
  for (const w of registry.unusedWorkers.splice(0)) void w.terminate();
}
