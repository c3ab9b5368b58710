/**
 * Per-kernel self time on the wasm backend: every registered wasm kernel is wrapped with a timer
 * that tracks nesting, so a replacement kernel built from other kernels (ours are) is charged
 * only for its own work, and its children are listed under their own names. `tf.profile` cannot
 * do this: it charges a parent kernel for its children too.
 *
 * Used by test/bench/profile.ts (and by the bench's --profile), not by the library.
 */
import * as tf from '@tensorflow/tfjs';

export interface KernelStat {
  /** Kernel name and input shapes, e.g. `Conv2D [128,28,28,1] [3,3,1,32]`. */
  key: string;
  calls: number;
  /** Milliseconds spent in this kernel minus its nested kernels, over all calls. */
  selfMs: number;
}

interface Frame {
  start: number;
  childMs: number;
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
        const frame: Frame = { start: performance.now(), childMs: 0 };
        this.stack.push(frame);
        try {
          return inner(args);
        } finally {
          this.stack.pop();
          const total = performance.now() - frame.start;
          const parent = this.stack[this.stack.length - 1];
          if (parent) parent.childMs += total;
          const key = `${config.kernelName} ${Object.values(args.inputs)
            .map((t) => (t === undefined ? '-' : `[${t.shape.join(',')}]`))
            .join(' ')}`;
          const stat = this.stats.get(key) ?? { key, calls: 0, selfMs: 0 };
          stat.calls++;
          stat.selfMs += total - frame.childMs;
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
    const m = merged.get(name) ?? { key: name, calls: 0, selfMs: 0 };
    m.calls += s.calls;
    m.selfMs += s.selfMs;
    merged.set(name, m);
  }
  return [...merged.values()].sort((a, b) => b.selfMs - a.selfMs);
}
