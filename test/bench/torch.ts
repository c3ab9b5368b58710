/**
 * The PyTorch side of the benchmark: exports the weights and digits for scripts/bench-torch.py
 * and drives it as a child process that times one task per request, so that its runs can
 * alternate with ours one by one (the machine is shared; load hits both alike).
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface, type Interface } from 'node:readline';
import type { BenchSetup } from './setup.js';

/** Debian's python3-torch installs for the system interpreter, not for a pyenv python3 on PATH. */
export const SYSTEM_PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('../../scripts/bench-torch.py', import.meta.url));

export type TorchTask = 'forward' | 'grad' | 'pgd' | 'train';

/**
 * How PyTorch's process allocates. `kept` (the bench's default): glibc keeps freed buffers in the
 * heap instead of returning each large tensor to the OS, so that the next one is not a fresh mmap
 * whose page faults are slow on these VMs (PyTorch's mnist-cnn step took 2–3× the CPU with
 * glibc's defaults: test/bench/ceiling.ts, README "Speed"). Ours allocates in the wasm heap,
 * which never shrinks, so `kept` compares like with like; `default` times PyTorch as it starts.
 */
export type TorchMalloc = 'kept' | 'default';
export const TORCH_MALLOC_ENV: Record<TorchMalloc, Record<string, string>> = {
  kept: { MALLOC_MMAP_THRESHOLD_: '4294967296', MALLOC_TRIM_THRESHOLD_: '4294967296' },
  default: {},
};

/** --torch-malloc kept|default of the bench scripts. */
export function torchMallocOption(argv: readonly string[]): TorchMalloc {
  const i = argv.indexOf('--torch-malloc');
  const v = i >= 0 ? argv[i + 1] : 'kept';
  if (v !== 'kept' && v !== 'default') throw new Error(`--torch-malloc takes kept or default, got ${String(v)}`);
  return v;
}

/** Why PyTorch cannot be used, or undefined when `import torch` works. */
export function torchUnavailable(): string | undefined {
  const r = spawnSync(SYSTEM_PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  if (r.error) return `${SYSTEM_PYTHON} cannot be run (${r.error.message})`;
  if (r.status !== 0) return `${SYSTEM_PYTHON} cannot import torch (${(r.stderr.trim().split('\n').pop() ?? '').trim()})`;
  return undefined;
}

interface Entry {
  file: string;
  shape: number[];
}

/** Raw little-endian float32/int32 files + manifest.json, the format bench-torch.py reads. */
export async function exportForTorch(setup: BenchSetup, settings: { batch: number; eps: number; steps: number; stepSize: number }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'advtest-bench-'));
  const write = async (file: string, data: Float32Array | Int32Array, shape: number[]): Promise<Entry> => {
    await writeFile(join(dir, file), Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    return { file, shape };
  };
  const weights: Entry[] = [];
  for (const [i, w] of setup.weights.entries()) weights.push(await write(`weight-${i}.f32`, w.values, w.shape));
  const { data } = setup;
  const manifest = {
    ...settings,
    weightNames: setup.weights.map((w) => w.name),
    weights,
    images: await write('images.f32', data.images, [data.size, ...data.shape]),
    labels: await write('labels.i32', data.labels, [data.size]),
    logits: await write('logits.f32', setup.logits(), [settings.batch, 10]),
  };
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  return dir;
}

export interface TorchInfo {
  torch: string;
  threads: number;
  /** torch.get_num_interop_threads() and sys.executable (absent from older scripts). */
  interopThreads?: number;
  python?: string;
  logitsMaxDiff: number;
  /** How its process allocated (set by TorchServer.start). */
  malloc?: TorchMalloc;
}

/** A running `bench-torch.py --serve`. */
export class TorchServer {
  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly lines: Interface,
    private readonly iterator: AsyncIterator<string>,
    private readonly dir: string,
    readonly info: TorchInfo,
    private readonly stderr: () => string,
  ) {}

  /** `extra`: more bench-torch.py options (e.g. `--model mobilenet_v2`). */
  static async start(dir: string, threads: number, extra: string[] = [], malloc: TorchMalloc = 'kept'): Promise<TorchServer> {
    const child = spawn(SYSTEM_PYTHON, [SCRIPT, dir, '--serve', '--threads', String(threads), ...extra], {
      env: { ...process.env, ...TORCH_MALLOC_ENV[malloc], PYTHONUNBUFFERED: '1' },
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const lines = createInterface({ input: child.stdout });
    const iterator = lines[Symbol.asyncIterator]();
    const first = await iterator.next();
    if (first.done) {
      throw new Error(`${SCRIPT} exited before it was ready:\n${err.trim()}`);
    }
    const info = JSON.parse(first.value) as TorchInfo & { ready: boolean };
    return new TorchServer(child, lines, iterator, dir, { ...info, malloc }, () => err);
  }

  /** Milliseconds PyTorch took for one task (timed inside Python, no IPC). */
  async time(task: TorchTask, images: number): Promise<number> {
    return (await this.measure(task, images)).ms;
  }

  /** Wall and CPU milliseconds (all of PyTorch's threads) of one task. */
  async measure(task: TorchTask, images: number): Promise<{ ms: number; cpuMs?: number }> {
    this.child.stdin.write(JSON.stringify({ task, images }) + '\n');
    const next = await this.iterator.next();
    if (next.done) throw new Error(`${SCRIPT} died during ${task}:\n${this.stderr().trim()}`);
    const reply = JSON.parse(next.value) as { ms?: number; cpuMs?: number; error?: string };
    if (reply.ms === undefined) throw new Error(`${SCRIPT} failed on ${task}: ${reply.error ?? next.value}`);
    return reply.cpuMs === undefined ? { ms: reply.ms } : { ms: reply.ms, cpuMs: reply.cpuMs };
  }

  async close(): Promise<void> {
    this.child.stdin.end();
    this.lines.close();
    await new Promise<void>((resolve) => {
      if (this.child.exitCode !== null) resolve();
      else this.child.once('exit', () => resolve());
    });
    await rm(this.dir, { recursive: true, force: true });
  }
}
