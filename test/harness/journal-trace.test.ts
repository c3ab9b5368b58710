/**
 * Issue 15: --trace is part of what a journal must match. A journal written with other traced
 * examples (or none) would resume into a report whose traces cover only some batches.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeAttack } from '../../attacks/index.js';
import { loadEvaluationData } from '../../src/data/index.js';
import { UserError } from '../../src/errors.js';
import { evaluate } from '../../src/harness/evaluate.js';
import { loadModel } from '../../src/model/store.js';
import { fixtureModelPath } from '../../src/package-info.js';
import type { Classifier, Dataset } from '../../src/types.js';
import { useTestBackend } from '../helpers/backend.js';

describe('resuming a journal with --trace', () => {
  let dir: string;
  let model: Classifier;
  let data: Dataset;
  beforeAll(async () => {
    await useTestBackend();
    dir = await mkdtemp(path.join(tmpdir(), 'advtest-journal-trace-'));
    model = await loadModel(fixtureModelPath('mnist-cnn'));
    // Four MNIST test digits, which the fixture model classifies correctly, so that the attack runs on the traced ones.
    data = (await loadEvaluationData('mnist', { split: 'test', shape: model.inputShape, limit: 4 })).data;
  });
  afterAll(async () => {
    model.dispose?.();
    await rm(dir, { recursive: true, force: true });
  });

  // The library leaves its journal behind (the CLI removes it once the report is written): a killed run.
  const run = (journal: string, trace?: number[]) => evaluate(model, data, [makeAttack('pgd', { steps: 2 })], [0.1], { batchSize: 1, journal, ...(trace ? { trace } : {}) });

  it('refuses a journal written with other traced examples, or without any, and says which', async () => {
    const traced = path.join(dir, 'traced.journal');
    await run(traced, [0]);
    expect(existsSync(traced)).toBe(true);
    const other = run(traced, [1]);
    await expect(other).rejects.toThrow(UserError);
    await expect(other).rejects.toThrow(/holds a journal of another evaluation, not resumed: the traced examples differ \(--trace 0 then, 1 now\)/);
    await expect(run(traced)).rejects.toThrow(/the traced examples differ \(--trace 0 then, none now\)/);

    const untraced = path.join(dir, 'untraced.journal');
    await run(untraced);
    await expect(run(untraced, [0, 1])).rejects.toThrow(/the traced examples differ \(--trace none then, 0,1 now\)/);
  });

  it('resumes with the same traced examples in another order, keeping every batch’s traces', async () => {
    const journal = path.join(dir, 'same.journal');
    const first = await run(journal, [1, 0]);
    const again = await run(journal, [0, 1, 1]);
    expect(again.traces?.map((t) => t.index)).toEqual([0, 1]);
    expect(again.traces).toEqual(first.traces);
  });
});
