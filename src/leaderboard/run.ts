import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import stableStringify from 'fast-json-stable-stringify';
import { writeFileSafely } from '../report/write-file.js';
import { ensemble } from '../../defenses/ensemble.js';
import { withTransformSpec } from '../../defenses/input-transforms.js';
import { attacksFrom } from '../run/attack-options.js';
import { parseStepSize } from '../parse.js';
import { limitTo, loadDataset, loadEvaluationData } from '../data/index.js';
import type { BackendChoice } from '../backend/select.js';
import { DEFAULT_BATCH_SIZE, evaluate, type EvaluateProgress } from '../harness/evaluate.js';
import type { Report } from '../harness/report-types.js';
import { loadModel } from '../model/store.js';
import type { EvaluationRequest } from '../run/requests.js';
import { runTraining, trainingExamples, type TrainJob } from '../run/train.js';
import { evaluateOnWorkers } from '../run/evaluation.js';
import type { HeldOutRecord } from '../train/monitor.js';
import type { Attack, Classifier, Dataset } from '../types.js';
import { UserError } from '../errors.js';
import type { SuiteMode } from '../harness/evaluate-batch.js';
import { certificationKey, certifyEntry, certifyLimit, removeCertifyJournal, type EntryCertification } from './certify-entry.js';
import type { BenchConfig, BenchEntry } from './config.js';
import { confirmationKey, confirmEpsilons, nextToConfirm, type Confirmation } from './confirm.js';
import { readTrainingCurve } from './training-curve.js';
import { BENCH_SHAPE, benchAttackOptions, checkBenchConfig } from './validate.js';

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
  /** The same evaluation on eval.trainLimit training digits (robust overfitting), when asked. */
  trainReport?: Report;
  /** Randomized-smoothing certification of the same model, when the config has a certify section. */
  certify?: EntryCertification;
  /** The held-out monitor of every epoch with the training time so far (single models trained with a monitor). */
  trainingCurve?: HeldOutRecord;
  /** The config's confirming attack, per ε where this entry was among the leaders (confirm.ts). */
  confirmations?: Confirmation[];
  /** The training examples the model was fitted on, where an entry of the config trains on a subset (data scaling). */
  trainingExamples?: number;
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
  onCertifyProgress?: (entry: string, p: { done: number; total: number; phase: string }) => void;
  /**
   * Evaluate in this many worker threads, each loading the entry's saved model on `backend`
   * (ensembles, held in memory only, are evaluated in this thread). Results are identical.
   */
  workers?: { count: number; backend: BackendChoice };
}

/** The entry's settings over the shared ones. */
function settingsOf(config: BenchConfig, entry: BenchEntry): BenchEntry {
  return { ...config.train, ...entry };
}

/** Of what decides an entry's evaluation; the certification and the confirmation have their own keys (certify-entry.ts, confirm.ts). */
export function entryHash(config: BenchConfig, entry: BenchEntry): string {
  const { entries: _e, certify: _c, confirm: _f, ...shared } = config;
  return createHash('sha256').update(stableStringify({ shared, entry: settingsOf(config, entry) })).digest('hex');
}

function trainJob(config: BenchConfig, s: BenchEntry, out: string, quiet: boolean, member?: { arch?: string; seed?: number }): TrainJob {
  return {
    arch: member?.arch ?? s.arch ?? 'mnist-cnn',
    data: config.data ?? 'mnist',
    ...(config.dataDir ? { dataDir: config.dataDir } : {}),
    ...(s.examples != null ? { examples: s.examples } : {}),
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

/** An entry's evaluation as the run description worker threads rebuild it from (the saved model in `modelDir`). */
function evaluationRequest(config: BenchConfig, entry: BenchEntry, attack: EvaluationRequest['attack'], modelDir: string, backend: BackendChoice): EvaluationRequest {
  const e = config.eval;
  return {
    backend,
    model: { model: modelDir },
    ...(entry.transform ? { transform: entry.transform } : {}),
    data: config.data ?? 'mnist',
    ...(config.dataDir ? { dataDir: config.dataDir } : {}),
    ...(e.limit !== undefined ? { limit: e.limit } : {}),
    attack,
    seed: e.seed ?? 0,
  };
}

/** The training jobs of an entry (one per ensemble member), written into `dir`. */
function trainJobs(config: BenchConfig, entry: BenchEntry, dir: string, quiet: boolean): TrainJob[] {
  const s = settingsOf(config, entry);
  return entry.ensemble ? entry.ensemble.map((member, k) => trainJob(config, s, path.join(dir, String(k)), quiet, member)) : [trainJob(config, s, dir, quiet)];
}

/**
 * What decides the trained weights: the training jobs without their output folder and verbosity.
 * The evaluation settings (limit, attacks, ε) and an input transform are not in it, so changing
 * them re-evaluates the saved model instead of training it again.
 */
export function trainingKey(config: BenchConfig, entry: BenchEntry): string {
  const jobs = trainJobs(config, entry, '', true).map(({ out: _o, quiet: _q, ...rest }) => rest);
  return createHash('sha256').update(stableStringify({ format: 1, jobs })).digest('hex');
}

/** The key a confirmation of the entry at ε must have to be used (confirm.ts), with the entry's training key. */
function currentConfirmationKey(config: BenchConfig, entry: BenchEntry, eps: number): string {
  return confirmationKey(config, entry, trainingKey(config, entry), eps);
}

/** Beside out/models/<name>: the training key and time of the model in it. */
interface TrainedRecord {
  key: string;
  seconds: number;
}

/** A file an earlier run wrote, when it is there, whole and `fits`; else undefined (absent or torn: the work is simply done again). */
async function readEarlier<T>(file: string, fits: (r: T) => boolean): Promise<T | undefined> {
  try {
    const r = JSON.parse(await readFile(file, 'utf8')) as T;
    return fits(r) ? r : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Trains (members of) an entry into out/models/<name>[/<k>] and returns the classifier to evaluate;
 * with `mustExist`, only loads the model trained earlier, and refuses (naming why) where there is none.
 */
async function trainEntry(config: BenchConfig, entry: BenchEntry, o: BenchOptions, mustExist?: string): Promise<{ model: Classifier; seconds: number; curve?: HeldOutRecord }> {
  const dir = path.join(o.out, 'models', entry.name);
  const jobs = trainJobs(config, entry, dir, o.quiet);
  const key = trainingKey(config, entry);
  const record = path.join(o.out, 'models', `${entry.name}.training.json`);
  const earlier = await readEarlier<TrainedRecord>(record, (r) => r.key === key && typeof r.seconds === 'number');
  const load = async () => {
    const members: Classifier[] = [];
    for (const job of jobs) members.push(await loadModel(job.out));
    return entry.ensemble ? ensemble(members) : members[0]!;
  };
  const curve = async () => (entry.ensemble ? undefined : await readTrainingCurve(jobs[0]!.out));
  if (earlier) {
    // Same training settings as the model already there (only evaluation settings changed).
    const model = await load().catch(() => undefined);
    if (model) {
      o.log(`${entry.name}: model trained in an earlier run with the same training settings (${dir})`);
      return { model, seconds: earlier.seconds, curve: await curve() };
    }
  }
  if (mustExist) {
    throw new UserError(`${entry.name}: ${mustExist}, but ${dir} holds no model trained with the entry's settings (the evaluation came from another folder or machine): copy its model folder and ${path.basename(record)} there, or delete ${path.join(o.out, 'entries', `${entry.name}.json`)} to train and evaluate it again`);
  }
  o.log(`${entry.name}: training${entry.defense ? ` (${entry.defense})` : ''}${entry.ensemble ? ` (ensemble of ${entry.ensemble.length})` : ''}`);
  const started = Date.now();
  await rm(record, { force: true });
  await rm(dir, { recursive: true, force: true });
  for (const job of jobs) await runTraining(job);
  const seconds = (Date.now() - started) / 1000;
  await writeFile(record, JSON.stringify({ key, seconds } satisfies TrainedRecord) + '\n');
  return { model: await load(), seconds, curve: await curve() };
}

/**
 * Trains one model per entry and evaluates each with the same attacks and ε grid. Each finished
 * entry is saved at once (out/entries/<name>.json), so an interrupted benchmark resumes with the
 * first unfinished entry. Input-transform entries are attacked through the transform with BPDA:
 * a non-adaptive attack on them would report gradient masking as robustness.
 */
export async function runBench(config: BenchConfig, o: BenchOptions & { file?: string }): Promise<EntryResult[]> {
  // The whole config first: a bad later entry must not be found after earlier ones trained, and a
  // bad config leaves nothing behind.
  const jobsOf = (entry: BenchEntry) => trainJobs(config, entry, path.join(o.out, 'models', entry.name), o.quiet);
  const loadTrainSplit = () => loadDataset(config.data ?? 'mnist', { split: 'train', shape: BENCH_SHAPE, dataDir: config.dataDir });
  // The training split before the checks only where an entry asks for a subset of it (--examples).
  const sized = config.entries.some((entry) => settingsOf(config, entry).examples != null);
  const trainSplit = sized ? await loadTrainSplit() : undefined;
  const trainSize = trainSplit?.size;
  checkBenchConfig(config, o.file ?? 'the benchmark config', jobsOf, o.only, trainSize);
  const e = config.eval;
  const seed = e.seed ?? 0;
  const load = (split: 'train' | 'test', limit: number | undefined) => loadEvaluationData(config.data ?? 'mnist', { split, shape: BENCH_SHAPE, dataDir: config.dataDir, limit });
  const { data, subset } = await load('test', e.limit);
  const certifyData = config.certify && certifyLimit(config) !== e.limit ? await load('test', certifyLimit(config)) : { data, subset };
  const trainData = e.trainLimit !== undefined ? limitTo(trainSplit ?? (await loadTrainSplit()), e.trainLimit) : undefined;
  await mkdir(path.join(o.out, 'entries'), { recursive: true });
  const results: EntryResult[] = [];
  for (const entry of config.entries) {
    const hash = entryHash(config, entry);
    const certKey = config.certify ? certificationKey(config, entry, trainingKey(config, entry)) : undefined;
    const file = path.join(o.out, 'entries', `${entry.name}.json`);
    // Of any settings: the hashes below say what of it is still valid.
    const earlier = await readEarlier<EntryResult>(file, (r) => r.format === BENCH_RESULT_FORMAT);
    // The evaluation and the certification are reused separately: either may be done already.
    const done = earlier?.hash === hash ? earlier : undefined;
    let certified = certKey !== undefined && earlier?.certify?.key === certKey ? earlier.certify : undefined;
    // Confirmations of other settings are dropped; current ones survive a re-done evaluation.
    const confirmations = (earlier?.confirmations ?? []).filter((c) => config.confirm && confirmEpsilons(config).includes(c.eps) && c.key === currentConfirmationKey(config, entry, c.eps));
    // Computed from the config, so that entries of an earlier run have it too.
    const examples = trainSize === undefined ? undefined : trainingExamples(jobsOf(entry)[0]!, trainSize);
    const withCertificates = (r: EntryResult): EntryResult => {
      const { certify: _c, confirmations: _f, trainingExamples: _x, ...rest } = r;
      return { ...rest, ...(certified ? { certify: certified } : {}), ...(confirmations.length > 0 ? { confirmations } : {}), ...(examples !== undefined ? { trainingExamples: examples } : {}) };
    };
    if (done && (certKey === undefined || certified)) {
      o.log(`${entry.name}: done in an earlier run (${file})`);
      results.push(withCertificates(done));
      continue;
    }
    if (o.only && !o.only.includes(entry.name)) {
      if (done) {
        o.log(`${entry.name}: evaluated in an earlier run but not certified, and not in --only: left without certificates in this leaderboard`);
        results.push(withCertificates(done));
      } else {
        o.log(`${entry.name}: not done, and not in --only: left out of this leaderboard`);
      }
      continue;
    }
    const trained = await trainEntry(config, entry, o);
    const model = entry.transform ? withTransformSpec(trained.model, entry.transform, seed) : trained.model;
    try {
      let result: EntryResult;
      if (done) {
        o.log(`${entry.name}: evaluated in an earlier run (${file})`);
        result = withCertificates(done);
      } else {
        const { report, attacks, mode } = await evaluateEntry(config, entry, model, 'eval', { data, subset }, e.eps, o, (threads, names) => {
          o.log(`${entry.name}: evaluating ${names} at ε ${e.eps.join(', ')}${threads ? ` on ${threads} workers` : ''}`);
        });
        let trainReport: Report | undefined;
        if (trainData) {
          o.log(`${entry.name}: evaluating the same attacks on ${trainData.data.size} training digits (robust overfitting)`);
          trainReport = await evaluate(model, trainData.data, attacks, e.eps, { seed, mode, batchSize: DEFAULT_BATCH_SIZE, ...(trainData.subset ? { subset: trainData.subset } : {}) });
        }
        result = withCertificates({ format: BENCH_RESULT_FORMAT, name: entry.name, hash, trainingSeconds: trained.seconds, ...(trained.curve ? { trainingCurve: trained.curve } : {}), adaptive: entry.transform ? 'bpda' : 'direct', report, ...(trainReport ? { trainReport } : {}) });
        // Saved before certifying: a kill during the certification keeps the evaluation.
        await writeFileSafely(file, JSON.stringify(result) + '\n');
      }
      if (config.certify && certKey !== undefined && !certified) {
        const c = config.certify;
        o.log(`${entry.name}: certifying ${certifyData.data.size} examples (randomized smoothing, σ ${c.sigma}, n0 ${c.n0}, n ${c.n}, α ${c.alpha})`);
        certified = await certifyEntry(model, entry.name, certifyData.data, c, certKey, {
          out: o.out,
          seed,
          ...(certifyData.subset ? { subset: certifyData.subset } : {}),
          ...(o.onCertifyProgress ? { onProgress: (p) => o.onCertifyProgress!(entry.name, p) } : {}),
        });
        result = withCertificates(result);
        await writeFileSafely(file, JSON.stringify(result) + '\n');
        await removeCertifyJournal(o.out, entry.name, certKey);
      }
      results.push(result);
    } finally {
      model.dispose?.();
    }
  }
  // A run of some entries (--only) leaves the ranking, and so the confirmation, to the last run.
  if (config.confirm && o.only) o.log(`confirm: the leading rows are confirmed with ${config.confirm.attack} by a run without --only`);
  if (config.confirm && !o.only) await confirmLeaders(config, results, o, data, subset);
  return results;
}

/**
 * One section's attacks (the evaluation's or the confirming one's) on an entry's model at `epsilons`,
 * on `workers` threads that load the saved model where they can (ensembles are held in memory only).
 */
async function evaluateEntry(
  config: BenchConfig,
  entry: BenchEntry,
  model: Classifier,
  section: 'eval' | 'confirm',
  test: { data: Dataset; subset: string | undefined },
  epsilons: number[],
  o: BenchOptions,
  onStart: (threads: number | undefined, attackNames: string) => void,
): Promise<{ report: Report; attacks: Attack[]; mode: SuiteMode }> {
  const attackOptions = benchAttackOptions(config, entry, undefined, section);
  const { attacks, mode } = attacksFrom(attackOptions);
  const workers = o.workers && !entry.ensemble ? { count: o.workers.count, request: evaluationRequest(config, entry, attackOptions, path.join(o.out, 'models', entry.name), o.workers.backend) } : undefined;
  const progress = o.onEvalProgress ? { onProgress: (p: EvaluateProgress) => o.onEvalProgress!(entry.name, p) } : {};
  const options = { seed: config.eval.seed ?? 0, mode, batchSize: DEFAULT_BATCH_SIZE, ...(test.subset ? { subset: test.subset } : {}), ...progress };
  const report = await evaluateOnWorkers(model, test.data, attacks, epsilons, options, workers, (threads) => onStart(threads, attacks.map((a) => a.name).join(', ')));
  return { report, attacks, mode };
}

/**
 * Runs the config's confirming attack on the leading entries at each of its ε until the `top` rows,
 * ranked with it, all carry it (nextToConfirm). Each confirmation is saved in the entry's file at
 * once, so a killed run keeps those done.
 */
async function confirmLeaders(config: BenchConfig, results: EntryResult[], o: BenchOptions, data: Dataset, subset: string | undefined): Promise<void> {
  const c = config.confirm!;
  const seed = config.eval.seed ?? 0;
  const entryOf = (r: EntryResult) => config.entries.find((e) => e.name === r.name)!;
  for (const eps of confirmEpsilons(config)) {
    const keyOf = (r: EntryResult) => currentConfirmationKey(config, entryOf(r), eps);
    for (let next = nextToConfirm(results, eps, c.top ?? 1, keyOf); next; next = nextToConfirm(results, eps, c.top ?? 1, keyOf)) {
      const entry = entryOf(next);
      // The model its evaluation attacked, never one trained again here.
      const trained = await trainEntry(config, entry, o, `its confirmation with ${c.attack} needs the model its evaluation attacked`);
      const model = entry.transform ? withTransformSpec(trained.model, entry.transform, seed) : trained.model;
      try {
        const { report } = await evaluateEntry(config, entry, model, 'confirm', { data, subset }, [eps], o, (threads) => {
          o.log(`${entry.name}: confirming with ${c.attack} at ε ${eps} (a leading row)${threads ? ` on ${threads} workers` : ''}`);
        });
        next.confirmations = [...(next.confirmations ?? []).filter((x) => x.eps !== eps), { key: keyOf(next), attack: c.attack, eps, report }];
        await writeFileSafely(path.join(o.out, 'entries', `${entry.name}.json`), JSON.stringify(next) + '\n');
      } finally {
        model.dispose?.();
      }
    }
  }
}
