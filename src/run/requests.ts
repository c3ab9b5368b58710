import { withTransformSpec } from '../../defenses/input-transforms.js';
import { initBackend, type BackendChoice } from '../backend/select.js';
import { loadEvaluationData } from '../data/index.js';
import type { SuiteMode } from '../harness/evaluate.js';
import { parseTargetSpec, type TargetSpec } from '../harness/targets.js';
import type { Attack, Classifier, Dataset } from '../types.js';
import { UserError } from '../errors.js';
import { attacksFrom, type AttackCliOptions } from './attack-options.js';
import { loadClassifier, type ModelCliOptions } from './model-options.js';
import { transferAttacks, type TransferSource } from './transfer.js';

/**
 * An evaluation as plain data: what the command line asked for. The main thread and every worker
 * thread turn it into the same model, data and attacks.
 */
export interface EvaluationRequest {
  backend: BackendChoice;
  model: ModelCliOptions;
  transform?: string;
  data: string;
  dataDir?: string;
  /** Default 'test'. */
  split?: 'train' | 'test';
  limit?: number;
  attack: AttackCliOptions;
  targeted?: string;
  seed: number;
  /** --source-model: the attacks are crafted on this model and judged on `model`. */
  sourceModel?: string;
}

export interface Materialized {
  model: Classifier;
  data: Dataset;
  subset?: string;
  attacks: Attack[];
  mode: SuiteMode;
  target: TargetSpec;
  /** --source-model: the model the attacks are crafted on (the main thread reports its white-box figures). */
  source?: TransferSource;
}

export async function materialize(request: EvaluationRequest): Promise<Materialized> {
  // The backend first, so that weights land on it rather than on tfjs's default.
  await initBackend(request.backend);
  const { attacks, mode } = attacksFrom(request.attack);
  const loaded = await loadClassifier(request.model);
  const model = request.transform ? withTransformSpec(loaded, request.transform, request.seed) : loaded;
  let source: Classifier | undefined;
  try {
    const transfer = request.sourceModel === undefined ? undefined : await transferAttacks(request.sourceModel, model, attacks);
    source = transfer?.source.model;
    const { data, subset } = await loadEvaluationData(request.data, { split: request.split ?? 'test', shape: model.inputShape, classNames: model.classNames, dataDir: request.dataDir, limit: request.limit });
    return { model, data, subset, attacks: transfer ? transfer.attacks : attacks, mode, target: parseTargetSpec(request.targeted, model.numClasses), ...(transfer ? { source: transfer.source } : {}) };
  } catch (err) {
    // Nothing loaded is left behind by a run that cannot start.
    model.dispose?.();
    source?.dispose?.();
    throw err;
  }
}

/** `advtest attack` as plain data, for worker threads: the model and the one attack. */
export interface AttackImagesRequest extends Pick<EvaluationRequest, 'backend' | 'model' | 'attack' | 'seed' | 'sourceModel'> {
  eps: number;
}

/** The one attack `advtest attack` runs (it writes one image per input, so a suite is refused). */
export function singleAttack(o: AttackCliOptions): Attack {
  const { attacks } = attacksFrom(o);
  if (attacks.length !== 1 || o.mode !== undefined) {
    throw new UserError(`--attack "${o.attack}"${o.mode !== undefined ? ` with --mode ${o.mode}` : ''}: advtest attack writes one adversarial image per input; name one attack (a suite belongs to advtest eval)`);
  }
  if (attacks[0]!.fit) throw new UserError(`--attack ${o.attack} fits one perturbation on a training set and evaluates it on a test set: use advtest eval --attack ${o.attack}`);
  return attacks[0]!;
}

/** The model and the attack of `advtest attack`; `source`: the transfer source the attack is crafted on. */
export async function materializeAttack(request: AttackImagesRequest): Promise<{ model: Classifier; attack: Attack; source?: Classifier }> {
  await initBackend(request.backend);
  const attack = singleAttack(request.attack);
  const model = await loadClassifier(request.model);
  if (request.sourceModel === undefined) return { model, attack };
  const transfer = await transferAttacks(request.sourceModel, model, [attack]).catch((err: unknown) => {
    model.dispose?.();
    throw err;
  });
  return { model, attack: transfer.attacks[0]!, source: transfer.source.model };
}
