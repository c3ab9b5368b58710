// The bench's own bookkeeping (test/bench/report.ts, machine.ts): the figures it prints to tell a
// slow run from a slow machine.
import { describe, expect, it } from 'vitest';
import { cpuShares, describeCpu, parseProcStat } from '../bench/machine.js';
import { cpuRatio, renderRuns, renderTable, timing, type BenchReport } from '../bench/report.js';

describe('bench timing', () => {
  it('min, median, max and spread of the runs; CPU median when given', () => {
    const t = timing([30, 10, 20, 50], 128, [9, 7, 8, 12]);
    expect(t.minMs).toBe(10);
    expect(t.maxMs).toBe(50);
    expect(t.medianMs).toBe(25);
    expect(t.spread).toBeCloseTo(40 / 25, 12);
    expect(t.imagesPerSecond).toBeCloseTo(128 / 0.025, 9);
    expect(t.cpuMedianMs).toBe(8.5);
    expect(timing([5], 1).cpuMs).toBeUndefined();
  });

  it('CPU ratio per image, also for rows compared with another row', () => {
    const report = {
      results: [
        { measure: 'PGD-10', description: '', images: 100, ours: timing([1], 100, [200]), torch: { '1 thread': timing([1], 100, [300]) } },
        { measure: 'evaluate', description: '', images: 50, ours: timing([1], 50, [50]), torchMeasure: 'PGD-10' },
      ],
    } as unknown as BenchReport;
    expect(cpuRatio(report.results[0]!, report, '1 thread')).toBeCloseTo(1.5, 12);
    // PyTorch 3 ms of CPU per image vs ours 1 ms per image.
    expect(cpuRatio(report.results[1]!, report, '1 thread')).toBeCloseTo(3, 12);
    expect(cpuRatio(report.results[0]!, report, '2 threads')).toBeUndefined();
    const table = renderTable(report);
    expect(table).toContain('1.0 / 1.0 ms');
    expect(table).toContain('3.00×');
    expect(renderRuns(report)).toContain('PGD-10, ours: 1.0 (cpu 200.0)');
  });
});

describe('machine description', () => {
  it('steal, idle and busy shares between two /proc/stat samples', () => {
    const a = parseProcStat('cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 1 2 3');
    const b = parseProcStat('cpu  400 0 150 900 50 0 0 100 0 0\n');
    expect(a).toEqual({ total: 1000, idle: 850, steal: 0 });
    const s = cpuShares(a, b, 2)!;
    // 600 ticks: 400 busy, 100 idle, 100 steal.
    expect(s.stealPercent).toBeCloseTo(16.7, 9);
    expect(s.idlePercent).toBeCloseTo(16.7, 9);
    expect(s.busyPercent).toBeCloseTo(66.6, 9);
    expect(s.seconds).toBe(3);
    expect(parseProcStat(undefined)).toBeUndefined();
    expect(cpuShares(a, undefined)).toBeUndefined();
  });

  it('SIMD flags from /proc/cpuinfo', () => {
    const d = describeCpu('processor\t: 0\nflags\t\t: fpu sse4_2 avx avx2 fma avx512f\n');
    expect(d.flags).toEqual(['sse4_2', 'avx', 'avx2', 'fma', 'avx512f']);
    expect(describeCpu('').flags).toEqual([]);
  });
});
