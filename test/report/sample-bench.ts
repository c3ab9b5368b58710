import { BENCH_RESULT_FORMAT, type EntryResult } from '../../src/leaderboard/run.js';
import { sampleReport } from './sample-report.js';

/** Two entries of the hand-made report: "standard" as it is, "robust" with more examples held at each ε. */
export function sampleEntries(): EntryResult[] {
  const standard = sampleReport();
  standard.timings.invocation = { command: ['bench', '--config', 'bench.json', '--only', 'standard'], cwd: '/work', platform: 'linux x64' };
  const robust = sampleReport();
  // Consistent figures: every attack holds at least as many examples as the worst case.
  const at = (k: number) => ({ correct: k, accuracy: Number((k / 6).toFixed(6)), interval: (k === 5 ? [0.436497, 0.969947] : [0.299993, 0.903229]) as [number, number] });
  robust.results = robust.results.map((r) => ({ ...r, ...at(r.eps === 0.1 ? 5 : 4), quantized: { ...r.quantized, ...at(r.eps === 0.1 ? 5 : 4) } }));
  robust.worstCase = [
    { ...robust.worstCase[0]!, correct: 5, accuracy: 0.833333, interval: [0.436497, 0.969947] },
    { ...robust.worstCase[1]!, correct: 4, accuracy: 0.666667, interval: [0.299993, 0.903229] },
  ];
  robust.timings = { ...robust.timings, createdAt: '2025-02-03T04:05:06.789Z', invocation: { command: ['bench', '--config', 'bench.json', '--only', 'robust'] } };
  robust.tool = { ...robust.tool, version: '0.2.0' };
  const entry = (name: string, report: typeof standard, trainingSeconds: number): EntryResult => ({ format: BENCH_RESULT_FORMAT, name, hash: `${name}-hash-0123456789abcdef`, trainingSeconds, adaptive: 'direct', report });
  return [entry('standard', standard, 60), entry('robust', robust, 3600)];
}
