/** What the A/B benches share: their integer options, one timed call, an interleaved comparison. */
import { median } from './report.js';

/** `--name N` as a positive integer, else the fallback. */
export function argNumber(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isInteger(v) && v > 0 ? v : fallback;
}

export interface Sample {
  wall: number;
  cpu: number;
}

/** Wall and process CPU time (all threads) of one call, in ms. */
export function measure(fn: () => void): Sample {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  fn();
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1000 };
}

/**
 * Times a and b alternately (which goes first alternates too, so that other processes' load hits
 * both alike) after one warm-up call each, and prints their medians and the ratio a ÷ b.
 */
export function interleavedAB(label: string, [nameA, a]: [string, () => void], [nameB, b]: [string, () => void], rounds: number): void {
  a();
  b();
  const sa: Sample[] = [];
  const sb: Sample[] = [];
  for (let r = 0; r < rounds; r++) {
    if (r % 2 === 0) (sa.push(measure(a)), sb.push(measure(b)));
    else (sb.push(measure(b)), sa.push(measure(a)));
  }
  const m = (s: Sample[], k: keyof Sample): number => median(s.map((v) => v[k]));
  console.log(
    `${label.padEnd(15)} ${nameA} ${m(sa, 'wall').toFixed(0)} ms wall ${m(sa, 'cpu').toFixed(0)} ms cpu | ${nameB} ${m(sb, 'wall').toFixed(0)} ms wall ${m(sb, 'cpu').toFixed(0)} ms cpu | ` +
      `${nameA}/${nameB} wall ${(m(sa, 'wall') / m(sb, 'wall')).toFixed(2)}×, cpu ${(m(sa, 'cpu') / m(sb, 'cpu')).toFixed(2)}×`,
  );
}
