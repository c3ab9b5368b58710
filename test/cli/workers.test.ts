import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { materialize, type EvaluationRequest } from '../../src/run/requests.js';
import { WorkerPool } from '../../src/run/worker-pool.js';
import { UserError } from '../../src/errors.js';
import { evaluate } from '../../src/harness/evaluate.js';
import type { Report } from '../../src/harness/report-types.js';
import { renderText } from '../../src/report/text.js';
import { fixtureModelPath } from '../../src/package-info.js';
import { useTestBackend } from '../helpers/backend.js';
import { runCli } from '../helpers/cli.js';

const MODEL = fixtureModelPath('mnist-cnn');

function comparable(r: Report): string {
  const { timings: _t, ...rest } = r;
  void _t;
  return JSON.stringify(rest);
}

const request: EvaluationRequest = {
  backend: 'wasm',
  model: { model: MODEL },
  data: 'mnist',
  limit: 100,
  attack: { attack: 'pgd', steps: '3' },
  seed: 4,
};

describe('worker threads', () => {
  beforeAll(useTestBackend);

  it('give per-example results identical to one thread', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'advtest-workers-'));
    const args = ['eval', '--model', MODEL, '--limit', '100', '--batch-size', '20', '--attack', 'fgsm,pgd', '--steps', '3', '--eps', '0.1,0.3', '--seed', '4', '--quiet'];
    const one = await runCli(...args, '--workers', '1', '--json', path.join(dir, 'one.json'));
    const two = await runCli(...args, '--workers', '2', '--json', path.join(dir, 'two.json'));
    expect(one.code).toBe(0);
    expect(two.code).toBe(0);
    const a = JSON.parse(await readFile(path.join(dir, 'one.json'), 'utf8')) as Report;
    const b = JSON.parse(await readFile(path.join(dir, 'two.json'), 'utf8')) as Report;
    expect(b.examples).toEqual(a.examples);
    expect(comparable(b)).toBe(comparable(a));
    // Batch times summed over two workers can exceed the run's wall time: the report and the table say so.
    expect([a.timings.concurrency, b.timings.concurrency]).toEqual([undefined, 2]);
    const summed = b.timings.results.reduce((t, r) => t + r.seconds, 0);
    expect(two.stdout.includes('side by side')).toBe(summed > b.timings.totalSeconds);
    expect(one.stdout).not.toContain('side by side');
    // Said only when the summed times exceed the run's: as on a long run where both workers stay busy.
    const long = { ...b, timings: { ...b.timings, totalSeconds: 10, results: b.timings.results.map((r) => ({ ...r, seconds: 8 })) } };
    expect(renderText(long)).toContain('time: per row, batch times summed over 2 workers running side by side; the run took 10.0 s');
    expect(renderText({ ...long, timings: { ...long.timings, totalSeconds: 8 * long.timings.results.length } })).not.toContain('side by side');
  }, 180_000);

  it('get every attack option of the command line (--targets, once left out of the worker request)', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'advtest-workers-'));
    const args = ['eval', '--model', MODEL, '--limit', '20', '--batch-size', '10', '--attack', 'apgd-t', '--targets', '1', '--steps', '2', '--eps', '0.1', '--seed', '4', '--quiet'];
    const one = await runCli(...args, '--workers', '1', '--json', path.join(dir, 'one.json'));
    const two = await runCli(...args, '--workers', '2', '--json', path.join(dir, 'two.json'));
    expect([one.code, two.code]).toEqual([0, 0]);
    const a = JSON.parse(await readFile(path.join(dir, 'one.json'), 'utf8')) as Report;
    const b = JSON.parse(await readFile(path.join(dir, 'two.json'), 'utf8')) as Report;
    // With 9 targets (the default) the workers would spend 9× the gradients of one target.
    expect(b.results.map((r) => r.costs)).toEqual(a.results.map((r) => r.costs));
    expect(b.examples).toEqual(a.examples);
  }, 180_000);

  describe('on one pool (worker start-up, tsx and wasm, is most of the cost): first a whole run, then a crash', () => {
    let m: Awaited<ReturnType<typeof materialize>>;
    let pool: WorkerPool;
    beforeAll(async () => {
      m = await materialize(request);
      pool = new WorkerPool(2, { kind: 'evaluate', request, job: { batchSize: 10, seed: 4, probes: true, epsilons: [0.1, 0.3] } });
    });
    afterAll(async () => {
      await pool?.close();
      m?.model.dispose?.();
    });

    it('leak no tensors, in the main thread or in the workers, over many batches', async () => {
      const before = tf.memory().numTensors;
      await evaluate(m.model, m.data, m.attacks, [0.1, 0.3], { batchSize: 10, seed: 4, runner: { concurrency: 2, run: (b) => pool.run(b) } });
      expect(tf.memory().numTensors).toBe(before);
      const counts = pool.tensorCounts();
      expect(counts.map((c) => c.length).reduce((a, b) => a + b)).toBe(10);
      // Each worker holds its model's weights (and its data) and nothing more after any batch.
      for (const c of counts) {
        expect(c.length).toBeGreaterThanOrEqual(2);
        expect(new Set(c).size).toBe(1);
      }
    }, 120_000);

    it('fail the run with a clear error when a worker dies, instead of hanging', async () => {
      let calls = 0;
      const run = evaluate(m.model, m.data, m.attacks, [0.1, 0.3], {
        batchSize: 10,
        seed: 4,
        runner: {
          concurrency: 2,
          run: async (b) => {
            if (++calls === 3) await pool.crash(1);
            return pool.run(b);
          },
        },
      });
      await expect(run).rejects.toThrow(/worker 1 exited unexpectedly/);
    }, 120_000);
  });

  it('pass a worker’s input error on as the same user error', async () => {
    const m = await materialize(request);
    const pool = new WorkerPool(2, { kind: 'evaluate', request: { ...request, model: { model: '/nonexistent/model' } }, job: { batchSize: 10, seed: 4, probes: false, epsilons: [0.3] } });
    const run = evaluate(m.model, m.data, m.attacks, [0.3], { batchSize: 10, probes: false, runner: { concurrency: 2, run: (b) => pool.run(b) } });
    await expect(run).rejects.toThrow(UserError);
    await expect(run).rejects.toThrow(/cannot read \/nonexistent\/model\/model.json/);
    await pool.close();
    m.model.dispose?.();
  }, 120_000);
});
