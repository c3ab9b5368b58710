// --threads auto / --workers auto (issue 21): the choice from a start-up measurement.
import { describe, expect, it } from 'vitest';
import { chooseParallelism, describeProbe, parseParallelism, probeParallelism } from '../../src/backend/parallelism.js';
import { backendInfo, initBackend, resolveWorkers } from '../../src/backend/select.js';
import { UserError } from '../../src/errors.js';

describe('chooseParallelism', () => {
  it('keeps a thread only while it adds enough throughput', () => {
    expect(chooseParallelism([1])).toBe(1);
    expect(chooseParallelism([1, 1.9])).toBe(2);
    // An oversubscribed machine: the second thread adds ~nothing.
    expect(chooseParallelism([1, 1.1])).toBe(1);
    expect(chooseParallelism([1, 0.8])).toBe(1);
    // 4 cores, two of them busy: the third and fourth thread do not pay.
    expect(chooseParallelism([1, 1.9, 2.0, 2.1])).toBe(2);
    // A dip at 3 does not hide a real gain at 4 (two threads' worth over 2 → 4).
    expect(chooseParallelism([1, 1.9, 2.0, 3.6])).toBe(4);
  });
});

describe('parseParallelism', () => {
  it('auto or a positive integer; anything else is a UserError naming the option', () => {
    expect(parseParallelism('auto', '--workers')).toBe('auto');
    expect(parseParallelism(' 3 ', '--threads')).toBe(3);
    for (const bad of ['0', '-1', '1.5', 'two', '']) {
      expect(() => parseParallelism(bad, '--workers')).toThrow(UserError);
      expect(() => parseParallelism(bad, '--workers')).toThrow(/--workers .* must be auto or a positive integer/);
    }
  });
});

describe('--threads auto', () => {
  it('starts wasm with the thread count the probe chose, and records how', async () => {
    const b = await initBackend('wasm', { threads: 'auto' });
    expect(b.parallelism).toHaveLength(1);
    expect(b.parallelism![0]).toContain(`--threads auto → ${b.threads} (start-up probe`);
  });
});

describe('probeParallelism', () => {
  it('measures 1 and 2 threads, chooses from the measurement, and says so', async () => {
    const p = await probeParallelism(2);
    expect(p.speedups).toHaveLength(2);
    expect(p.speedups[0]).toBe(1);
    expect(p.speedups[1]).toBeGreaterThan(0);
    expect(p.chosen).toBe(chooseParallelism(p.speedups));
    const line = describeProbe(p, '--threads');
    expect(line).toContain(`--threads auto → ${p.chosen}`);
    expect(line).toContain(`2: ${p.speedups[1]!.toFixed(2)}×`);
    // Cached: the same measurement for the process.
    expect(await probeParallelism(2)).toBe(p);
    expect(await resolveWorkers('3')).toBe(3);
    // auto: the probe's choice, recorded in the backend's provenance.
    await initBackend('cpu');
    expect(await resolveWorkers('auto')).toBe(p.chosen);
    expect((await backendInfo()).parallelism).toEqual([describeProbe(p, '--workers')]);
  });
});
