import { createHash } from 'node:crypto';
import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import stableStringify from 'fast-json-stable-stringify';
import writeFileAtomic from 'write-file-atomic';
import { ensemble } from '../../defenses/ensemble.js';
import { withTransformSpec } from '../../defenses/input-transforms.js';
import { attacksFrom } from '../cli/attack-options.js';
import { runTraining, type TrainJob } from '../cli/commands/train.js';
import { parseStepSize } from '../cli/parse.js';
import { loadEvaluationData } from '../data/index.js';
import type { BackendChoice } from '../backend/select.js';
import { startWorkerPool } from '../cli/worker-pool.js';
import { DEFAULT_BATCH_SIZE, evaluate, type EvaluateProgress } from '../harness/evaluate.js';
import type { Report } from '../harness/report.js';
import { loadModel } from '../model/store.js';
import { UserError } from '../errors.js';
import type { Classifier } from '../types.js';
import type { BenchConfig, BenchEntry, TrainSettings } from './config.js';

export const BENCH_RESULT_FORMAT = 'advtest-bench-entry/1';

/** What one finished entry leaves on disk (and what a resumed run reads back instead of redoing it). */
export interface EntryResult {
  format: typeof BENCH_RESULT_FORMAT;
  name: string;
  /** Of the entry's full settings; a changed entry is redone. */
  hash: string;
  trainingSeconds: number;
  /** How the model was attacked: directly, or through its input transform with BPDA. */
  adaptive: 'direct' | 'bpda';
  report: Report;
}

export interface BenchOptions {
  out: string;
  quiet: boolean;
  log: (line: string) => void;
  /**
   * Compute only these entries (others are taken from earlier runs when done, else left out):
   * several processes can share one --out, each with its own entries, and a last run without it
   * prints the whole leaderboard.
   */
  only?: string[];
  onEvalProgress?: (entry: string, p: EvaluateProgress) => void;
  /**
   * Evaluate in this many worker threads, each loading the entry's saved model on `backend`
   * (ensembles, held in memory only, are evaluated in this thread). Results are identical.
   */
  workers?: { count: number; backend: BackendChoice };
}

/** The entry's settings over the shared ones. */
function settingsOf(config: BenchConfig, entry: BenchEntry): TrainSettings & BenchEntry {
  return { ...config.train, ...entry };
}

export function entryHash(config: BenchConfig, entry: BenchEntry): string {
  const { entries: _e, ...shared } = config;
  void _e;
  return createHash('sha256').update(stableStringify({ shared, entry: settingsOf(config, entry) })).digest('hex');
}

function trainJob(config: BenchConfig, s: TrainSettings & BenchEntry, out: string, quiet: boolean, member?: { arch?: string; seed?: number }): TrainJob {
  return {
    arch: member?.arch ?? s.arch ?? 'mnist-cnn',
    data: config.data ?? 'mnist',
    ...(config.dataDir ? { dataDir: config.dataDir } : {}),
    epochs: s.epochs ?? 5,
    batchSize: s.batchSize ?? 64,
    lr: s.lr ?? 1e-3,
    optimizer: s.optimizer ?? 'adam',
    out,
    seed: member?.seed ?? s.seed ?? 0,
    quiet,
    ...(s.defense ? { defense: s.defense } : {}),
    ...(s.trainAttack ? { trainAttack: s.trainAttack } : {}),
    ...(s.trainEps !== undefined ? { trainEps: s.trainEps } : {}),
    ...(s.trainSteps !== undefined ? { trainSteps: s.trainSteps } : {}),
    ...(s.trainStepSize ? { trainStepSize: parseStepSize(s.trainStepSize) } : {}),
    ...(s.trainEpsRamp !== undefined ? { trainEpsRamp: s.trainEpsRamp } : {}),
    ...(s.clipLayers ? { clipLayers: s.clipLayers } : {}),
    ...(s.schedule ? { schedule: s.schedule } : {}),
    ...(s.holdout !== undefined ? { holdout: s.holdout } : {}),
  };
}

async function readResult(file: string, hash: string): Promise<EntryResult | undefined> {
  try {
    const r = JSON.parse(await readFile(file, 'utf8')) as EntryResult;
    return r.format === BENCH_RESULT_FORMAT && r.hash === hash ? r : undefined;
  } catch {
    // Absent (not yet run) or torn: the entry is simply run again.
    return undefined;
  }
}

/** Trains (members of) an entry into out/models/<name>[/<k>] and returns the classifier to evaluate. */
async function trainEntry(config: BenchConfig, entry: BenchEntry, o: BenchOptions): Promise<{ model: Classifier; seconds: number }> {
  const s = settingsOf(config, entry);
  const dir = path.join(o.out, 'models', entry.name);
  const started = Date.now();
  await rm(dir, { recursive: true, force: true });
  let model: Classifier;
  if (entry.ensemble) {
    const members: Classifier[] = [];
    for (const [k, member] of entry.ensemble.entries()) {
      const memberDir = path.join(dir, String(k));
      await runTraining(trainJob(config, s, memberDir, o.quiet, member));
      members.push(await loadModel(memberDir));
    }
    model = ensemble(members);
  } else {
    await runTraining(trainJob(config, s, dir, o.quiet));
    model = await loadModel(dir);
  }
  return { model, seconds: (Date.now() - started) / 1000 };
}

/**
 * Trains one model per entry and evaluates each with the same attacks and ε grid. Each finished
 * entry is saved at once (out/entries/<name>.json), so an interrupted benchmark resumes with the
 * first unfinished entry. Input-transform entries are attacked through the transform with BPDA:
 * a non-adaptive attack on them would report gradient masking as robustness.
 */
export async function runBench(config: BenchConfig, o: BenchOptions): Promise<EntryResult[]> {
  await mkdir(path.join(o.out, 'entries'), { recursive: true });
  const e = config.eval;
  const seed = e.seed ?? 0;
  const { data, subset } = await loadEvaluationData(config.data ?? 'mnist', { split: 'test', shape: [28, 28, 1], dataDir: config.dataDir, limit: e.limit });
  if (o.only) {
    const names = new Set(config.entries.map((x) => x.name));
    const unknown = o.only.filter((n) => !names.has(n));
    if (unknown.length > 0) throw new UserError(`--only ${unknown.join(',')}: no such entry in the config; its entries are ${[...names].join(', ')}`);
  }
  const results: EntryResult[] = [];
  for (const entry of config.entries) {
    const hash = entryHash(config, entry);
    const file = path.join(o.out, 'entries', `${entry.name}.json`);
    const done = await readResult(file, hash);
    if (done) {
      o.log(`${entry.name}: done in an earlier run (${file})`);
      results.push(done);
      continue;
    }
    if (o.only && !o.only.includes(entry.name)) {
      o.log(`${entry.name}: not done, and not in --only: left out of this leaderboard`);
      continue;
    }
    o.log(`${entry.name}: training${entry.defense ? ` (${entry.defense})` : ''}${entry.ensemble ? ` (ensemble of ${entry.ensemble.length})` : ''}`);
    const trained = await trainEntry(config, entry, o);
    const model = entry.transform ? withTransformSpec(trained.model, entry.transform, seed) : trained.model;
    try {
      const attackOptions = {
        attack: e.attack,
        ...(e.steps !== undefined ? { steps: String(e.steps) } : {}),
        ...(e.restarts !== undefined ? { restarts: String(e.restarts) } : {}),
        ...(e.mode ? { mode: e.mode } : {}),
        ...(entry.transform ? { bpda: true } : {}),
      };
      const { attacks, mode } = attacksFrom(attackOptions);
      // Ensembles are held in memory only: workers could not load them.
      const pool =
        o.workers && !entry.ensemble
          ? startWorkerPool(o.workers.count, Math.ceil(data.size / DEFAULT_BATCH_SIZE), {
              kind: 'evaluate',
              request: {
                backend: o.workers.backend,
                model: { model: path.join(o.out, 'models', entry.name) },
                ...(entry.transform ? { transform: entry.transform } : {}),
                data: config.data ?? 'mnist',
                ...(config.dataDir ? { dataDir: config.dataDir } : {}),
                ...(e.limit !== undefined ? { limit: e.limit } : {}),
                attack: attackOptions,
                seed,
              },
              job: { batchSize: DEFAULT_BATCH_SIZE, seed, probes: true, epsilons: e.eps },
            })
          : undefined;
      o.log(`${entry.name}: evaluating ${attacks.map((a) => a.name).join(', ')} at ε ${e.eps.join(', ')}${pool ? ` on ${pool.size} workers` : ''}`);
      const report = await evaluate(model, data, attacks, e.eps, {
        seed,
        mode,
        batchSize: DEFAULT_BATCH_SIZE,
        ...(subset ? { subset } : {}),
        ...(pool ? { runner: pool.evaluationRunner() } : {}),
        ...(o.onEvalProgress ? { onProgress: (p: EvaluateProgress) => o.onEvalProgress!(entry.name, p) } : {}),
      }).finally(() => pool?.close());
      const result: EntryResult = { format: BENCH_RESULT_FORMAT, name: entry.name, hash, trainingSeconds: trained.seconds, adaptive: entry.transform ? 'bpda' : 'direct', report };
      await writeFileAtomic(file, JSON.stringify(result) + '\n');
      results.push(result);
    } finally {
      model.dispose?.();
    }
  }
  return results;
}
