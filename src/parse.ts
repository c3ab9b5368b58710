import { UserError } from './errors.js';

/** One ε: a decimal ("0.1") or a fraction ("8/255"). */
export function parseEps(text: string, option = '--eps'): number {
  const t = text.trim();
  const frac = /^(\d+(?:\.\d+)?)\s*\/\s*(\d+(?:\.\d+)?)$/.exec(t);
  const value = frac ? Number(frac[1]) / Number(frac[2]) : /^[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i.test(t) ? Number(t) : NaN;
  if (!Number.isFinite(value)) throw new UserError(`${option} "${text}" is not a number: write values like 0.3 or 8/255`);
  if (value < 0) throw new UserError(`${option} ${text} is negative: a perturbation budget must be ≥ 0`);
  return value;
}

/** "start:stop:step", inclusive of stop when the steps land on it (0:0.3:0.05 → 7 values). */
function parseRange(text: string, option: string): number[] {
  const [a, b, c] = text.split(':').map((p) => parseEps(p, option)) as [number, number, number];
  if (!(c > 0)) throw new UserError(`${option} "${text}": the step of a range start:stop:step must be > 0`);
  if (b < a) throw new UserError(`${option} "${text}": a range start:stop:step needs stop ≥ start`);
  const count = Math.floor((b - a) / c + 1e-9) + 1;
  if (count > 1000) throw new UserError(`${option} "${text}" makes ${count} values: use a larger step`);
  // Rounded so that 0.1 + 0.2 style drift does not leak into reports.
  return Array.from({ length: count }, (_, i) => Math.round((a + i * c) * 1e9) / 1e9);
}

/** A comma-separated ε list of values and ranges: "0.1,0.2,8/255", "0:0.3:0.05". */
export function parseEpsList(text: string, option = '--eps'): number[] {
  const parts = text.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (parts.length === 0) throw new UserError(`${option} "${text}" holds no value: write e.g. ${option} 0.1,0.2,0.3`);
  const values = parts.flatMap((p) => (p.split(':').length === 3 ? parseRange(p, option) : [parseEps(p, option)]));
  return [...new Set(values)];
}

/** --step-size: absolute ("0.01") or relative to ε ("0.1x"). */
export function parseStepSize(text: string): { absStepsize: number } | { relStepsize: number } {
  const relative = text.trim().endsWith('x');
  const value = Number(relative ? text.trim().slice(0, -1) : text);
  if (!Number.isFinite(value) || value <= 0) throw new UserError(`--step-size "${text}" must be a positive number (absolute) or a multiple of ε such as 0.1x`);
  return relative ? { relStepsize: value } : { absStepsize: value };
}

/** Number() also reads "0x10", "1e3" and "" (as 16, 1000 and 0): only plain decimal digits are an integer here. */
function decimalInteger(text: string): number {
  const t = text.trim();
  return /^\d+$/.test(t) ? Number(t) : NaN;
}

/** A plain decimal number ("0.001", "1e-3"); Number() would also take hexadecimal and binary. */
function decimalNumber(text: string): number {
  const t = text.trim();
  return /^[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i.test(t) ? Number(t) : NaN;
}

export function parsePositiveInt(text: string, option: string): number {
  const n = decimalInteger(text);
  if (!Number.isInteger(n) || n <= 0) throw new UserError(`${option} "${text}" must be a positive integer in decimal digits, e.g. 100`);
  return n;
}

export function parseNonNegativeInt(text: string, option: string): number {
  const n = decimalInteger(text);
  if (!Number.isInteger(n) || n < 0) throw new UserError(`${option} "${text}" must be a non-negative integer in decimal digits, e.g. 0`);
  return n;
}

export function parsePositiveNumber(text: string, option: string): number {
  const n = decimalNumber(text);
  if (!Number.isFinite(n) || n <= 0) throw new UserError(`${option} "${text}" must be a positive decimal number, e.g. 0.001`);
  return n;
}

/** ε larger than the input range makes every bound meaningless: almost always a units mistake. */
export function checkEpsAgainstRange(epsilons: number[], range: number, option = '--eps'): void {
  const big = epsilons.find((e) => e > range);
  if (big !== undefined) {
    throw new UserError(`${option} ${big} exceeds the model's input range (${range}): for images in [0, 1] write 8/255, not 8`);
  }
}

/** --shard i/n: the i-th of n deterministic slices (0-based). */
export function parseShard(text: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index >= count) throw new UserError(`--shard "${text}": write i/n with 0 ≤ i < n, e.g. --shard 0/4`);
  return { index, count };
}
