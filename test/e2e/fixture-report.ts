import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fgsm, pgd } from '../../attacks/index.js';
import { balancedSubset } from '../../src/data/dataset.js';
import { loadMnist } from '../../src/data/mnist.js';
import { evaluate } from '../../src/harness/evaluate.js';
import type { Report } from '../../src/harness/report-types.js';
import { loadModel } from '../../src/model/store.js';
import { fixtureModelPath } from '../../src/package-info.js';
import { useTestBackend } from '../helpers/backend.js';

export const FIXTURE_MODEL = fixtureModelPath('mnist-cnn');
/** What `advtest eval --limit 60` writes for the subset. */
const SUBSET = 60;

/**
 * The fixture model under FGSM then PGD (5 steps) at four ε on a class-balanced 60 of the mnist
 * test split, as `advtest eval --json` would write it: enough for curves, intervals and images.
 */
export async function writeFixtureReport(): Promise<{ dir: string; file: string; report: Report }> {
  await useTestBackend();
  const model = await loadModel(FIXTURE_MODEL);
  try {
    const data = balancedSubset(loadMnist('test'), SUBSET);
    const report = await evaluate(model, data, [fgsm(), pgd({ steps: 5 })], [0.05, 0.1, 0.2, 0.3], {
      seed: 0,
      mode: 'sequential',
      subset: `class-balanced subset of ${SUBSET}`,
      // Three examples followed per iteration, for the report's traces section.
      trace: [0, 1, 2],
    });
    const dir = await mkdtemp(path.join(tmpdir(), 'advtest-report-'));
    const file = path.join(dir, 'result.json');
    await writeFile(file, JSON.stringify(report, null, 2));
    return { dir, file, report };
  } finally {
    model.dispose?.();
  }
}
