import { UserError } from '../src/errors.js';

/** One parsed item of --defense: name, optional "=value", optional "@layer+layer". */
export interface DefenseSpec {
  name: string;
  value?: string;
  layers?: string[];
  /** The item as written. */
  text: string;
}

/**
 * Parses --defense: comma-separated items `name[=value][@layer[+layer…]]`, e.g.
 * "fgsm-at,augment=crop+noise:0.1,clip-norm=1@dense_Dense1,label-smoothing=0.1".
 * "none" (alone) means standard training. Names are checked by the registry.
 */
export function parseDefenseSpecs(list: string): DefenseSpec[] {
  const items = list.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (items.length === 0) throw new UserError(`--defense "${list}" names no defense: write e.g. --defense fgsm-at,clip-global=1 (or none)`);
  if (items.length === 1 && items[0] === 'none') return [];
  return items.map((text) => {
    const m = /^([a-z][a-z0-9-]*)(?:=([^@]+))?(?:@(.+))?$/.exec(text);
    if (!m) throw new UserError(`--defense item "${text}": write name, name=value or name=value@layer (e.g. clip-norm=1@dense_Dense1)`);
    const layers = m[3]?.split('+').map((l) => l.trim());
    if (layers?.some((l) => l.length === 0)) throw new UserError(`--defense item "${text}": an empty layer name after @; join several with + (clip-norm=1@dense_Dense1+dense_Dense2)`);
    return { name: m[1]!, ...(m[2] !== undefined ? { value: m[2].trim() } : {}), ...(layers ? { layers } : {}), text };
  });
}

/** One part of a defense value written as key[:value] parts joined by + (augment=crop+noise:0.1). */
export interface OptionPart {
  /** The part as written. */
  part: string;
  key: string;
  /** The text after the first ':' (undefined: none). */
  raw?: string;
  /** raw as a number (NaN when absent or not a number). */
  value: number;
}

/**
 * Splits "crop+noise:0.1" or "gamma:0.005+warmup:1" into its parts; each defense checks its own
 * keys (an empty part, as in "a++b", has the key '').
 */
export function optionParts(text: string): OptionPart[] {
  return text
    .split('+')
    .map((p) => p.trim())
    .map((part) => {
      const colon = part.indexOf(':');
      if (colon < 0) return { part, key: part, value: NaN };
      const raw = part.slice(colon + 1);
      return { part, key: part.slice(0, colon), raw, value: raw.trim() === '' ? NaN : Number(raw) };
    });
}
