import { describe, expect, it } from 'vitest';
import { fixtureModelPath } from '../../src/package-info.js';
import type { EvaluationRequest } from '../../src/run/requests.js';
import { WorkerPool } from '../../src/run/worker-pool.js';

/**
 * Worker threads of a transfer evaluation load two models (the target and the --source-model);
 * closing the pool frees both before the threads end. Slow (two workers start: tsx and wasm,
 * about 30 s on a loaded 2-core machine), hence here.
 */
describe('transfer in worker threads', () => {
  it('a worker frees the target and the source model when its pool closes', async () => {
    const request: EvaluationRequest = { backend: 'wasm', model: { model: fixtureModelPath('mnist-cnn') }, data: 'mnist', limit: 20, attack: { attack: 'fgsm' }, seed: 1, sourceModel: fixtureModelPath('mnist-cnn-pgd-at') };
    const pool = new WorkerPool(2, { kind: 'evaluate', request, job: { batchSize: 10, seed: 1, probes: false, epsilons: [0.2] } });
    await Promise.all([pool.run(0), pool.run(1)]);
    // Two models' weights were live after each batch; none once closed.
    // (Either worker may have taken both batches.)
    const counts = pool.tensorCounts().flat();
    expect(counts.length).toBe(2);
    for (const c of counts) expect(c).toBeGreaterThan(0);
    expect(await pool.close()).toEqual([0, 0]);
  }, 120_000);
});
