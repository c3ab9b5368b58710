import * as tf from '@tensorflow/tfjs';
import { UserError } from '../errors.js';
import type { BackendInfo } from '../backend/select.js';

/**
 * Backend choice in a page: webgl (GPU, or SwiftShader in headless Chromium), webgpu where the
 * browser has it, wasm (with advtest's gradient kernels, as in Node) and cpu. In the browser build
 * this module stands in for backend/select.ts (browser-substitutes.ts), so the harness's
 * backendInfo() — and therefore every report — names the backend the page chose.
 */
export type BrowserBackend = 'webgl' | 'webgpu' | 'wasm' | 'cpu';
export const BROWSER_BACKENDS: readonly BrowserBackend[] = ['webgl', 'webgpu', 'wasm', 'cpu'];

export interface BrowserBackendOptions {
  /** Folder URL (ending in /) holding tfjs-backend-wasm*.wasm; default: next to the page. */
  wasmPaths?: string;
}

/** In a report `requested` names the browser backend asked for; the Node type lists Node's choices only. */
export type BrowserBackendInfo = Omit<BackendInfo, 'requested'> & { requested: BrowserBackend | 'auto' };

let current: BrowserBackendInfo | undefined;

async function start(name: BrowserBackend, options: BrowserBackendOptions): Promise<boolean> {
  if (name === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    if (options.wasmPaths) wasm.setWasmPaths(options.wasmPaths);
  } else if (name === 'webgl') {
    // Shapes as uniforms: one compiled program per op instead of one per op and shape — the harness
    // attacks batches of changing sizes, and compiling dominates on software GL (SwiftShader).
    tf.env().set('WEBGL_USE_SHAPES_UNIFORMS', true);
  } else if (name === 'webgpu') {
    if (!(globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu) return false;
    // Registers the backend; not part of @tensorflow/tfjs, so optional.
    try {
      const specifier = '@tensorflow/tfjs-backend-webgpu';
      await import(/* @vite-ignore */ specifier);
    } catch {
      return false;
    }
  }
  try {
    if (!(await tf.setBackend(name))) return false;
    await tf.ready();
  } catch {
    return false;
  }
  if (name === 'wasm') {
    const { registerWasmGradKernels } = await import('../backend/wasm-kernels.js');
    registerWasmGradKernels();
  }
  return true;
}

/**
 * Switches to `requested` ('auto': webgpu → webgl → wasm → cpu, the first that starts). A backend
 * asked by name that cannot start is a UserError naming the others.
 */
export async function initBackend(requested: BrowserBackend | 'auto' = 'auto', options: BrowserBackendOptions = {}): Promise<BrowserBackendInfo> {
  if (requested !== 'auto' && !BROWSER_BACKENDS.includes(requested)) {
    throw new UserError(`unknown backend "${String(requested)}": use one of auto, ${BROWSER_BACKENDS.join(', ')}`);
  }
  if (current && current.requested === requested && tf.getBackend() === current.name) return current;
  const order = requested === 'auto' ? BROWSER_BACKENDS : [requested];
  const notes: string[] = [];
  for (const name of order) {
    if (await start(name, options)) {
      const info: BrowserBackendInfo = { name, requested, tfjsVersion: tf.version.tfjs, fastKernels: name === 'wasm' };
      if (name === 'wasm') info.threads = Math.max(1, (await import('@tensorflow/tfjs-backend-wasm')).getThreadsCount());
      if (notes.length > 0) info.note = notes.join('; ');
      return (current = info);
    }
    notes.push(`${name} unavailable in this browser`);
  }
  throw new UserError(`backend ${requested}: ${notes.join('; ')}; choose another of ${BROWSER_BACKENDS.join(', ')}`);
}

/** The backend in use (initialising the first available if none was chosen). */
export async function backendInfo(): Promise<BrowserBackendInfo> {
  return current && tf.getBackend() === current.name ? current : initBackend('auto');
}
