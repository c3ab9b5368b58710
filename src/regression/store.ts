import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Ajv } from 'ajv';
import { writeFileSafely } from '../report/write-file.js';
import { REPORT_FORMAT } from '../harness/report-types.js';
import { UserError } from '../errors.js';
import { parseJson, readJsonFile, readTextFile } from '../json-file.js';
import { unpackBits, countTrue } from './bits.js';
import { BASELINE_FORMAT, baselineSchema, type Baseline, type BaselineFigure } from './baseline-file.js';
import { WORST_CASE } from '../report/breakdown.js';
import { evaluationHash } from './spec.js';

/** The shape of a parsed baseline (consistency between its fields is checked below). */
const validateBaselineShape = new Ajv({ allErrors: false, strict: true }).compile<Baseline>(baselineSchema());

const RECREATE = 're-create it with `advtest baseline --model DIR --out FILE --force`';

/** Writes the baseline atomically (a crash never leaves half a file), creating its folder. */
export async function writeBaseline(file: string, baseline: Baseline): Promise<void> {
  await mkdir(path.dirname(path.resolve(file)), { recursive: true });
  await writeFileSafely(file, JSON.stringify(baseline, null, 2) + '\n');
}

/** Checks what the schema cannot: counts, bit lengths and the hash agree with each other. */
function checkConsistency(b: Baseline, file: string): void {
  const n = b.examples.ids.length;
  const bad = (what: string) => new UserError(`${file}: ${what}; the file was edited or damaged: ${RECREATE}`);
  if (b.configHash !== evaluationHash(b.evaluation)) throw bad('configHash does not match the evaluation settings stored with it');
  if (b.data.size !== n) throw bad(`data.size is ${b.data.size} but ${n} example ids are stored`);
  const check = (name: string, f: BaselineFigure) => {
    const bits = unpackBits(f.bits, n);
    if (bits === undefined) throw bad(`${name} bits are not a base64 bitset of ${n} examples`);
    if (f.n !== n || countTrue(bits) !== f.correct) throw bad(`${name} says ${f.correct}/${f.n} but its bits hold ${countTrue(bits)}/${n}`);
  };
  check('clean', b.figures.clean);
  const expected = b.evaluation.attacks.flatMap((a) => b.evaluation.epsilons.map((eps) => `${a.name}@${eps}`));
  const stored = b.figures.results.map((r) => `${r.attack}@${r.eps}`);
  if (expected.join(',') !== stored.join(',')) throw bad(`figures (${stored.join(', ')}) do not match the attacks × ε of the evaluation (${expected.join(', ')})`);
  if (b.figures.worstCase.map((w) => w.eps).join(',') !== b.evaluation.epsilons.join(',')) throw bad('worst-case figures do not match the ε of the evaluation');
  b.figures.results.forEach((r) => check(`${r.attack} ε=${r.eps}`, r));
  b.figures.worstCase.forEach((w) => check(`worst case ε=${w.eps}`, w));
  // Per-class counts must add up to the figure they break down, or the deltas would be wrong.
  const sum = (xs: number[]) => xs.reduce((a, x) => a + x, 0);
  for (const c of b.perClass ?? []) {
    const name = `perClass ${c.attack} ε=${c.eps}`;
    const f = c.attack === WORST_CASE ? b.figures.worstCase.find((w) => w.eps === c.eps) : b.figures.results.find((r) => r.attack === c.attack && r.eps === c.eps);
    if (f === undefined) throw bad(`${name} breaks down no figure of the baseline`);
    if (c.n.length !== c.robust.length) throw bad(`${name} holds ${c.n.length} class sizes but ${c.robust.length} robust counts`);
    if (sum(c.n) !== n) throw bad(`${name} class sizes add up to ${sum(c.n)}, not the ${n} examples`);
    if (c.robust.some((r, k) => r > c.n[k]!)) throw bad(`${name} counts more robust examples than a class holds`);
    if (sum(c.robust) !== f.correct) throw bad(`${name} robust counts add up to ${sum(c.robust)}, but the figure says ${f.correct}`);
  }
}

/** Parses and validates a baseline; every problem is a UserError saying how to fix it. */
export function parseBaseline(text: string, file: string): Baseline {
  const json = parseJson(text, file, RECREATE);
  const format = (json as { format?: unknown } | null)?.format;
  if (format === REPORT_FORMAT) {
    throw new UserError(`${file} is an evaluation report (advtest eval --json), not a baseline: create one with \`advtest baseline --model DIR --out FILE\``);
  }
  if (typeof format === 'string' && format.startsWith('advtest-baseline/') && format !== BASELINE_FORMAT) {
    throw new UserError(`${file} has format ${format}, which this advtest cannot read (it reads ${BASELINE_FORMAT}): ${RECREATE}`);
  }
  if (format !== BASELINE_FORMAT) {
    throw new UserError(`${file} is not an advtest baseline (no "format": "${BASELINE_FORMAT}"): create one with \`advtest baseline --model DIR --out FILE\``);
  }
  if (!validateBaselineShape(json)) {
    const e = validateBaselineShape.errors?.[0];
    const where = e?.instancePath ? e.instancePath : 'the top level';
    throw new UserError(`${file} is not a valid ${BASELINE_FORMAT} file (${where} ${e?.message ?? 'is invalid'}): ${RECREATE}`);
  }
  checkConsistency(json, file);
  return json;
}

/**
 * The model folder a baseline file names (resolved against the baseline's folder), read loosely:
 * for checking paths before the baseline is validated; undefined when it cannot be read.
 */
export async function baselineModelDir(file: string): Promise<string | undefined> {
  try {
    const json = (await readJsonFile(file, '')) as { model?: { path?: unknown } } | null;
    const stored = json?.model?.path;
    return typeof stored === 'string' ? path.resolve(path.dirname(path.resolve(file)), stored) : undefined;
  } catch {
    return undefined;
  }
}

export async function readBaseline(file: string): Promise<Baseline> {
  return parseBaseline(await readTextFile(file, 'give the file written by `advtest baseline --out FILE`', 'baseline '), file);
}
