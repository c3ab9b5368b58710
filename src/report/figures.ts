import { formatEps, pct } from '../number-format.js';

export { formatEps, pct };

/** An accuracy with its 95% interval, and the count it rests on when known. */
export interface Estimate {
  accuracy: number;
  interval: [number, number];
  correct?: number;
  n?: number;
}

/** "92.3% [90.1%, 94.0%]". */
export const withInterval = (e: Estimate): string => `${pct(e.accuracy)} [${pct(e.interval[0])}, ${pct(e.interval[1])}]`;

/** A change in accuracy as signed points: "+1.5 pts", "−0.3 pts". */
export const points = (x: number): string => `${x > 0 ? '+' : x < 0 ? '−' : '±'}${Math.abs(x * 100).toFixed(1)} pts`;

/** Seconds the way people read them: "42 s", "3.5 min", "1.2 h". */
export function duration(seconds: number): string {
  if (seconds < 90) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  if (seconds < 5400) return `${(seconds / 60).toFixed(1)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}
