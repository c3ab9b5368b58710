import { UserError } from '../errors.js';

/** One ε: a decimal ("0.1") or a fraction ("8/255"). */
export function parseEps(text: string, option = '--eps'): number {
  const t = text.trim();
  const frac = /^(\d+(?:\.\d+)?)\s*\/\s*(\d+(?:\.\d+)?)$/.exec(t);
  const value = frac ? Number(frac[1]) / Number(frac[2]) : /^[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i.test(t) ? Number(t) : NaN;
  if (!Number.isFinite(value)) throw new UserError(`${option} "${text}" is not a number: write values like 0.3 or 8/255`);
  if (value < 0) throw new UserError(`${option} ${text} is negative: a perturbation budget must be ≥ 0`);
  return value;
}

/** A comma-separated ε list: "0.1,0.2,8/255". */
export function parseEpsList(text: string, option = '--eps'): number[] {
  const parts = text.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (parts.length === 0) throw new UserError(`${option} "${text}" holds no value: write e.g. ${option} 0.1,0.2,0.3`);
  return parts.map((p) => parseEps(p, option));
}

export function parsePositiveInt(text: string, option: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new UserError(`${option} "${text}" must be a positive integer`);
  return n;
}

export function parseNonNegativeInt(text: string, option: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new UserError(`${option} "${text}" must be a non-negative integer`);
  return n;
}

export function parsePositiveNumber(text: string, option: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new UserError(`${option} "${text}" must be a positive number`);
  return n;
}

/** ε larger than the input range makes every bound meaningless: almost always a units mistake. */
export function checkEpsAgainstRange(epsilons: number[], range: number, option = '--eps'): void {
  const big = epsilons.find((e) => e > range);
  if (big !== undefined) {
    throw new UserError(`${option} ${big} exceeds the model's input range (${range}): for images in [0, 1] write 8/255, not 8`);
  }
}
