/**
 * Per-kernel self time on the wasm backend: every registered wasm kernel is wrapped with a timer
 * that tracks nesting, so a replacement kernel built from other kernels (ours are) is charged
 * only for its own work, and its children are listed under their own names. `tf.profile` cannot
 * do this: it charges a parent kernel for its children too.
 *
 * Used by test/bench/profile.ts (and by the bench's --profile), not by the library.
 */
import * as tf from '@tensorflow/tfjs';
import { kernelWork, type KernelWork } from './flops.js';

export interface KernelStat {
  /** Kernel name and input shapes, e.g. `Conv2D [128,28,28,1] [3,3,1,32]`. */
  key: string;
  calls: number;
  /** Milliseconds spent in this kernel minus its nested kernels, over all calls. */
  selfMs: number;
  /** Milliseconds including nested kernels, over all calls. */
  totalMs: number;
  /**
   * The same in process CPU time (all threads: with one wasm thread, this kernel's own CPU; not
   * inflated by waiting for a core on a shared machine).
   */
  selfCpuMs: number;
  totalCpuMs: number;
  /** Arithmetic per call (flops.ts), for the kernels that are counted; the key then names the attributes that change it. */
  work?: KernelWork;
  /**
   * A counted kernel ran inside this one (our transposing BatchMatMul, the gradient kernels built
   * from Conv2D / BatchMatMul): its arithmetic is done, and counted, there; compare `work` with
   * the inclusive time.
   */
  nestedWork?: boolean;
}

interface Frame {
  start: number;
  cpuStart: number;
  childMs: number;
  childCpuMs: number;
  nestedWork: boolean;
}

/** Process CPU time (user + system) in ms. */
function cpuNow(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Wraps the wasm kernels; `stop()` restores the registered configs exactly as they were. */
export class KernelProfiler {
  private readonly wrapped: tf.KernelConfig[] = [];
  private readonly stats = new Map<string, KernelStat>();
  private readonly stack: Frame[] = [];
  private active = false;

  constructor(private readonly backend = 'wasm') {}

  start(): void {
    if (this.wrapped.length > 0) return;
    for (const config of tf.getKernelsForBackend(this.backend)) {
      const inner = config.kernelFunc;
      const wrappedFunc: tf.KernelFunc = (args) => {
        if (!this.active) return inner(args);
        const frame: Frame = { start: performance.now(), cpuStart: cpuNow(), childMs: 0, childCpuMs: 0, nestedWork: false };
        this.stack.push(frame);
        try {
          return inner(args);
        } finally {
          this.stack.pop();
          const totalCpu = cpuNow() - frame.cpuStart;
          const total = performance.now() - frame.start;
          const inputs = Object.values(args.inputs);
          const shapes = Object.fromEntries(Object.entries(args.inputs).map(([name, t]) => [name, t?.shape]));
          const work = kernelWork(config.kernelName, shapes, (args.attrs ?? {}) as Record<string, unknown>);
          const key = `${config.kernelName} ${inputs
            .map((t) => (t === undefined ? '-' : `[${t.shape.join(',')}]`))
            .join(' ')}${work?.note ? ` ${work.note}` : ''}`;
          const parent = this.stack[this.stack.length - 1];
          if (parent) {
            parent.childMs += total;
            parent.childCpuMs += totalCpu;
            if (work) parent.nestedWork = true;
          }
          const stat = this.stats.get(key) ?? { key, calls: 0, selfMs: 0, totalMs: 0, selfCpuMs: 0, totalCpuMs: 0, ...(work && { work }) };
          stat.calls++;
          stat.selfMs += total - frame.childMs;
          stat.totalMs += total;
          stat.selfCpuMs += totalCpu - frame.childCpuMs;
          stat.totalCpuMs += totalCpu;
          if (frame.nestedWork) stat.nestedWork = true;
          this.stats.set(key, stat);
        }
      };
      this.wrapped.push(config);
      tf.unregisterKernel(config.kernelName, this.backend);
      tf.registerKernel({ ...config, kernelFunc: wrappedFunc });
    }
  }

  /** Records `fn`'s kernels (the wrappers stay installed between calls but only count here). */
  async record(fn: () => void | Promise<void>): Promise<void> {
    this.active = true;
    try {
      await fn();
    } finally {
      this.active = false;
    }
  }

  reset(): void {
    this.stats.clear();
  }

  /** Stats sorted by self time, largest first. */
  results(): KernelStat[] {
    return [...this.stats.values()].sort((a, b) => b.selfMs - a.selfMs);
  }

  stop(): void {
    for (const config of this.wrapped) {
      tf.unregisterKernel(config.kernelName, this.backend);
      tf.registerKernel(config);
    }
    this.wrapped.length = 0;
  }
}

/** Totals per kernel name (shapes merged), largest first. */
export function byKernelName(stats: readonly KernelStat[]): KernelStat[] {
  const merged = new Map<string, KernelStat>();
  for (const s of stats) {
    const name = s.key.split(' ')[0] ?? s.key;
    const m = merged.get(name) ?? { key: name, calls: 0, selfMs: 0, totalMs: 0, selfCpuMs: 0, totalCpuMs: 0 };
    m.calls += s.calls;
    m.selfMs += s.selfMs;
    m.totalMs += s.totalMs;
    m.selfCpuMs += s.selfCpuMs;
    m.totalCpuMs += s.totalCpuMs;
    merged.set(name, m);
  }
  return [...merged.values()].sort((a, b) => b.selfMs - a.selfMs);
}
