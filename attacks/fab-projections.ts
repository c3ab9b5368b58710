/**
 * FAB's projection step (Croce & Hein 2020, arXiv:1907.02044, §3.1): the smallest perturbation d,
 * in L∞, L2 or L1, that moves a point t onto the hyperplane w·z = b while keeping t + d in the box
 * [lower, upper]. Each is the exact minimiser, found by sorting the coordinates' breakpoints
 * (O(d log d) per point). When no point of the box reaches the hyperplane, d goes as far as the
 * box allows in the direction that reduces |w·z − b| (every coordinate moved to its bound).
 *
 * Written for one point at a time on plain arrays: FAB downloads the gradients anyway, and the
 * sort has no gradient to carry.
 */
export type FabNorm = 'linf' | 'l2' | 'l1';

/**
 * Common set-up: the required change Δ = b − w·t made ≥ 0 by flipping w's sign (the same d
 * solves w·d = Δ and −w·d = −Δ), and each coordinate's room, how far it may move in the
 * direction that raises w·z (0 for w_i = 0: such a coordinate never helps).
 */
function setUp(t: ArrayLike<number>, w: ArrayLike<number>, b: number, lower: number, upper: number): { sign: number; delta: number; room: Float64Array } {
  let wt = 0;
  for (let i = 0; i < t.length; i++) wt += w[i]! * t[i]!;
  const sign = b - wt >= 0 ? 1 : -1;
  const room = new Float64Array(t.length);
  for (let i = 0; i < t.length; i++) {
    const wi = sign * w[i]!;
    room[i] = wi > 0 ? upper - t[i]! : wi < 0 ? t[i]! - lower : 0;
  }
  return { sign, delta: sign * (b - wt), room };
}

/** min ‖d‖∞: every useful coordinate moves by min(λ, room_i) towards the hyperplane, λ as small as reaches it. */
export function projectLinf(t: ArrayLike<number>, w: ArrayLike<number>, b: number, lower: number, upper: number): Float32Array {
  const { sign, delta, room } = setUp(t, w, b, lower, upper);
  const d = new Float32Array(t.length);
  if (delta === 0) return d;
  const useful = Array.from(room.keys()).filter((i) => w[i] !== 0 && room[i]! > 0);
  useful.sort((i, j) => room[i]! - room[j]!);
  // g(λ) = Σ_{room<λ} |w|·room + λ·Σ_{room≥λ} |w|, increasing and piecewise linear in λ.
  let weight = useful.reduce((s, i) => s + Math.abs(w[i]!), 0);
  let reached = 0;
  let lambda = Infinity;
  for (const i of useful) {
    const r = room[i]!;
    if (reached + r * weight >= delta) {
      lambda = (delta - reached) / weight;
      break;
    }
    reached += Math.abs(w[i]!) * r;
    weight -= Math.abs(w[i]!);
  }
  for (const i of useful) d[i] = Math.sign(sign * w[i]!) * Math.min(lambda, room[i]!);
  return d;
}

/** min ‖d‖2: d_i = clip(λ·w_i, box) for the λ ≥ 0 at which w·d = Δ (the KKT conditions). */
export function projectL2(t: ArrayLike<number>, w: ArrayLike<number>, b: number, lower: number, upper: number): Float32Array {
  const { sign, delta, room } = setUp(t, w, b, lower, upper);
  const d = new Float32Array(t.length);
  if (delta === 0) return d;
  // Coordinate i saturates at λ_i = room_i/|w_i|; h(λ) = Σ_sat |w|·room + λ·Σ_unsat w².
  const useful = Array.from(room.keys()).filter((i) => w[i] !== 0 && room[i]! > 0);
  const breakpoint = (i: number): number => room[i]! / Math.abs(w[i]!);
  useful.sort((i, j) => breakpoint(i) - breakpoint(j));
  let squares = useful.reduce((s, i) => s + w[i]! * w[i]!, 0);
  let reached = 0;
  let lambda = Infinity;
  for (const i of useful) {
    if (reached + breakpoint(i) * squares >= delta) {
      lambda = (delta - reached) / squares;
      break;
    }
    reached += Math.abs(w[i]!) * room[i]!;
    squares -= w[i]! * w[i]!;
  }
  for (const i of useful) d[i] = Math.sign(sign * w[i]!) * Math.min(lambda * Math.abs(w[i]!), room[i]!);
  return d;
}

/** min ‖d‖1: the coordinates with the largest |w_i| first, each moved to its bound until Δ is covered. */
export function projectL1(t: ArrayLike<number>, w: ArrayLike<number>, b: number, lower: number, upper: number): Float32Array {
  const { sign, delta, room } = setUp(t, w, b, lower, upper);
  const d = new Float32Array(t.length);
  if (delta === 0) return d;
  const useful = Array.from(room.keys()).filter((i) => w[i] !== 0 && room[i]! > 0);
  useful.sort((i, j) => Math.abs(w[j]!) - Math.abs(w[i]!));
  let left = delta;
  for (const i of useful) {
    const step = Math.min(room[i]!, left / Math.abs(w[i]!));
    d[i] = Math.sign(sign * w[i]!) * step;
    left -= step * Math.abs(w[i]!);
    if (left <= 0) break;
  }
  return d;
}

export const PROJECTIONS: Record<FabNorm, typeof projectLinf> = { linf: projectLinf, l2: projectL2, l1: projectL1 };

/** ‖v‖_p of one point. */
export function normOf(v: ArrayLike<number>, p: FabNorm): number {
  let out = 0;
  for (let i = 0; i < v.length; i++) {
    const a = Math.abs(v[i]!);
    if (p === 'linf') out = Math.max(out, a);
    else if (p === 'l2') out += a * a;
    else out += a;
  }
  return p === 'l2' ? Math.sqrt(out) : out;
}

/** The dual norm ‖g‖_q (1/p + 1/q = 1): the distance to a linearised boundary is |f|/‖∇f‖_q. */
export function dualNormOf(g: ArrayLike<number>, p: FabNorm): number {
  return normOf(g, p === 'linf' ? 'l1' : p === 'l1' ? 'linf' : 'l2');
}
