/**
 * What the bench records about the machine, so that a slow run can be told from a slow machine:
 * the CPU model and the SIMD flags that decide which kernels XNNPACK and PyTorch pick (avx2,
 * avx512f, fma), and the share of CPU time that went to steal (hypervisor), to other processes
 * (busy) and to nothing (idle) between two /proc/stat samples. On a shared 2-core machine the
 * load average alone does not say whether *our* run was the one slowed down; steal and idle do.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** Flags worth reporting (the ones that change kernel choice on x86-64). */
const FLAGS = ['sse4_2', 'avx', 'avx2', 'fma', 'avx512f', 'avx512bw', 'avx512vl', 'avx512_vnni', 'avx_vnni'] as const;

export interface CpuDescription {
  model: string;
  cores: number;
  /** The flags of FLAGS this CPU has (empty where /proc/cpuinfo cannot be read). */
  flags: string[];
}

/** CPU model, core count and the SIMD flags of FLAGS present in /proc/cpuinfo. */
export function describeCpu(cpuinfo = readText('/proc/cpuinfo')): CpuDescription {
  const line = cpuinfo?.split('\n').find((l) => /^flags\s*:/.test(l));
  const present = new Set(line?.split(':')[1]?.trim().split(/\s+/) ?? []);
  return { model: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, flags: FLAGS.filter((f) => present.has(f)) };
}

/** The aggregate `cpu` line of /proc/stat, in clock ticks. */
export interface CpuTicks {
  total: number;
  idle: number;
  steal: number;
}

/** Parses the first (`cpu `) line of /proc/stat; undefined when there is none (not Linux). */
export function parseProcStat(text: string | undefined): CpuTicks | undefined {
  const line = text?.split('\n').find((l) => l.startsWith('cpu '));
  if (line === undefined) return undefined;
  // user nice system idle iowait irq softirq steal guest guest_nice; guest time is already in user.
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = v;
  return { total: user + nice + system + idle + iowait + irq + softirq + steal, idle: idle + iowait, steal };
}

export function sampleCpu(): CpuTicks | undefined {
  return parseProcStat(readText('/proc/stat'));
}

/** Shares of the machine's CPU time between two samples, in percent of all cores' time. */
export interface CpuShares {
  stealPercent: number;
  idlePercent: number;
  /** Everything else: this process and every other process. */
  busyPercent: number;
  seconds: number;
}

export function cpuShares(a: CpuTicks | undefined, b: CpuTicks | undefined, cores = os.cpus().length): CpuShares | undefined {
  if (a === undefined || b === undefined) return undefined;
  const total = b.total - a.total;
  if (total <= 0) return undefined;
  const pct = (x: number): number => Math.round((1000 * x) / total) / 10;
  const steal = pct(b.steal - a.steal);
  const idle = pct(b.idle - a.idle);
  // USER_HZ is 100 on every Linux build Node supports.
  return { stealPercent: steal, idlePercent: idle, busyPercent: Math.round((100 - steal - idle) * 10) / 10, seconds: total / 100 / cores };
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
