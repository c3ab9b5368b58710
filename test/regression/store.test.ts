import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { packageRoot } from '../../src/package-info.js';
import { BASELINE_FORMAT, type Baseline } from '../../src/regression/baseline-file.js';
import { evaluationHash } from '../../src/regression/spec.js';
import { parseBaseline, readBaseline, writeBaseline } from '../../src/regression/store.js';

const FIXTURE = path.join(packageRoot(), 'fixtures', 'baselines', 'mnist-cnn.json');
const fixture = async () => JSON.parse(await readFile(FIXTURE, 'utf8')) as Baseline;

/** parseBaseline on an edited copy of the fixture; returns the error it throws. */
async function refusal(edit: (b: Baseline & Record<string, unknown>) => void): Promise<UserError> {
  const b = (await fixture()) as Baseline & Record<string, unknown>;
  edit(b);
  try {
    parseBaseline(JSON.stringify(b), 'b.json');
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    return err as UserError;
  }
  throw new Error('expected the baseline to be refused');
}

describe('baseline files', () => {
  it('reads the committed fixture', async () => {
    const b = await readBaseline(FIXTURE);
    expect(b.format).toBe(BASELINE_FORMAT);
    expect(b.model.path).toBe('../models/mnist-cnn');
    expect(b.examples.ids).toHaveLength(b.data.size);
    // Made before baselines kept their sanity checks: it still loads, without them.
    expect(b.sanity).toBeUndefined();
  });

  it('writes atomically into a folder it creates, and reads back what it wrote', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'advtest-store-'));
    const file = path.join(dir, 'ci', 'robustness.json');
    await writeBaseline(file, await fixture());
    expect(await readBaseline(file)).toEqual(await fixture());
    expect(await readdir(path.dirname(file))).toEqual(['robustness.json']);
    await rm(dir, { recursive: true });
  });

  it('refuses a missing file naming the command that writes one', async () => {
    await expect(readBaseline('/nonexistent/robustness.json')).rejects.toThrow(/cannot read baseline .*ENOENT.*advtest baseline/);
  });

  it('refuses text that is not JSON', () => {
    expect(() => parseBaseline('{"format":', 'b.json')).toThrow(/b.json is not valid JSON .*re-create it with `advtest baseline/);
  });

  it.each<[string, (b: Baseline & Record<string, unknown>) => void, RegExp]>([
    ['an older format', (b) => void (b.format = 'advtest-baseline/0' as typeof BASELINE_FORMAT), /format advtest-baseline\/0, which this advtest cannot read \(it reads advtest-baseline\/1\): re-create it/],
    ['an eval report', (b) => void (b.format = 'advtest-report/1' as typeof BASELINE_FORMAT), /is an evaluation report \(advtest eval --json\), not a baseline/],
    ['no format', (b) => void Reflect.deleteProperty(b, 'format'), /is not an advtest baseline/],
    ['a missing field', (b) => void Reflect.deleteProperty(b, 'evaluation'), /the top level must have required property 'evaluation'.*re-create it/],
    ['a wrong type', (b) => void (b.evaluation.epsilons = ['0.1' as unknown as number]), /\/evaluation\/epsilons\/0 must be number/],
    ['an edited setting', (b) => void (b.evaluation.epsilons = [0.3]), /configHash does not match .*edited or damaged/],
    ['damaged bits', (b) => void (b.figures.results[0]!.bits = 'AAAA'), /fgsm ε=0.1 bits are not a base64 bitset of 300 examples/],
    ['a count that disagrees with its bits', (b) => void (b.figures.clean.correct += 1), /clean says \d+\/300 but its bits hold/],
    ['missing ids', (b) => void b.examples.ids.pop(), /data.size is 300 but 299 example ids/],
    ['a sanity check without a verdict', (b) => void (b.sanity = [{ id: 'deterministic', message: 'the model is deterministic' } as never]), /\/sanity\/0 must have required property 'ok'/],
  ])('refuses %s with a message saying how to fix it', async (_what, edit, message) => {
    const err = await refusal(edit);
    expect(err.message).toMatch(message);
  });

  it('accepts an edit that keeps the hash consistent (the check then compares settings)', async () => {
    const b = await fixture();
    b.evaluation.batchSize = 64;
    b.configHash = evaluationHash(b.evaluation);
    expect(parseBaseline(JSON.stringify(b), 'b.json').evaluation.batchSize).toBe(64);
  });
});
