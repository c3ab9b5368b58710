import path from 'node:path';
import { Ajv, type ErrorObject, type SchemaObject, type ValidateFunction } from 'ajv';
import type { CertifyOptions } from '../certify/run.js';
import { UserError } from '../errors.js';
import { readJsonFile } from '../json-file.js';
import { packageRoot } from '../package-info.js';
import { ATTACK_OPTION_TABLE, optionSchemas, type AttackOptionJson, type AttackOptionTable } from '../run/attack-option-table.js';
import type { TrainJob } from '../run/train.js';
import { OPTIMIZERS } from '../train/optimizers.js';
import { SCHEDULES } from '../train/schedule.js';

/** An example config that ships in the npm package ("files" in package.json), by absolute path. */
export function exampleBenchConfig(): string {
  return path.join(packageRoot(), 'fixtures', 'bench', 'defenses.json');
}

/** How every entry is trained unless it says otherwise: the training run's settings (src/run/train.ts), --train-step-size as typed. */
export type TrainSettings = Partial<Pick<TrainJob, 'arch' | 'epochs' | 'batchSize' | 'lr' | 'optimizer' | 'schedule' | 'seed' | 'defense' | 'trainAttack' | 'trainEps' | 'trainSteps' | 'trainEpsRamp' | 'clipLayers' | 'holdout'>> & {
  /** Absolute (0.01) or relative to ε (0.25x). */
  trainStepSize?: string;
};

/** One row of the leaderboard. */
export interface BenchEntry extends TrainSettings {
  name: string;
  /** Evaluate the model behind an input transform (bit-depth=B, median=K, jpeg=Q, noise=σ); attacked with BPDA. */
  transform?: string;
  /** Train these members (each with the entry's settings and its own arch/seed) and average their logits. */
  ensemble?: { arch?: string; seed?: number }[];
}

/**
 * Randomized-smoothing certification of every entry after its evaluation (Cohen et al. 2019, as
 * `advtest certify`): certified L2 accuracy at `radii` becomes leaderboard columns.
 */
export interface BenchCertify extends Pick<CertifyOptions, 'sigma' | 'n0' | 'n' | 'alpha' | 'radii' | 'batchSize'> {
  /** Certify a class-balanced subset of this many test examples (default: eval.limit). */
  limit?: number;
}

export interface BenchConfig {
  data?: string;
  dataDir?: string;
  train?: TrainSettings;
  /** The attack options of src/run/attack-option-table.ts may be given too (steps, restarts, targets, …). */
  eval: AttackOptionJson & {
    attack: string;
    eps: number[];
    limit?: number;
    /**
     * Also evaluate this many class-balanced training digits with the same attacks: the gap between
     * training and test robust accuracy (robust overfitting, Rice et al. 2020).
     */
    trainLimit?: number;
    seed?: number;
    mode?: 'independent' | 'sequential';
  };
  certify?: BenchCertify;
  entries: BenchEntry[];
}

const train = {
  type: 'object',
  additionalProperties: false,
  properties: {
    arch: { type: 'string', nullable: true },
    epochs: { type: 'integer', minimum: 1, nullable: true },
    batchSize: { type: 'integer', minimum: 1, nullable: true },
    lr: { type: 'number', exclusiveMinimum: 0, nullable: true },
    optimizer: { type: 'string', enum: [...OPTIMIZERS], nullable: true },
    schedule: { type: 'string', enum: [...SCHEDULES], nullable: true },
    seed: { type: 'integer', minimum: 0, nullable: true },
    defense: { type: 'string', nullable: true },
    trainAttack: { type: 'string', nullable: true },
    trainEps: { type: 'number', minimum: 0, nullable: true },
    trainSteps: { type: 'integer', minimum: 1, nullable: true },
    trainStepSize: { type: 'string', nullable: true },
    trainEpsRamp: { type: 'integer', minimum: 1, nullable: true },
    clipLayers: { type: 'array', items: { type: 'string' }, nullable: true },
    holdout: { type: 'integer', minimum: 0, nullable: true },
  },
} as const;

const schema = (table: AttackOptionTable): SchemaObject => ({
  type: 'object',
  additionalProperties: false,
  required: ['eval', 'entries'],
  properties: {
    data: { type: 'string', nullable: true },
    dataDir: { type: 'string', nullable: true },
    train: { ...train, nullable: true, required: [] },
    eval: {
      type: 'object',
      additionalProperties: false,
      required: ['attack', 'eps'],
      properties: {
        attack: { type: 'string' },
        eps: { type: 'array', minItems: 1, items: { type: 'number', minimum: 0 } },
        ...optionSchemas('json', table),
        limit: { type: 'integer', minimum: 1, nullable: true },
        trainLimit: { type: 'integer', minimum: 1, nullable: true },
        seed: { type: 'integer', minimum: 0, nullable: true },
        mode: { type: 'string', enum: ['independent', 'sequential'], nullable: true },
      },
    },
    certify: {
      type: 'object',
      nullable: true,
      additionalProperties: false,
      required: ['sigma', 'n0', 'n', 'alpha', 'radii'],
      properties: {
        sigma: { type: 'number', exclusiveMinimum: 0 },
        n0: { type: 'integer', minimum: 1 },
        n: { type: 'integer', minimum: 1 },
        alpha: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 0.5 },
        radii: { type: 'array', minItems: 1, items: { type: 'number', minimum: 0 } },
        limit: { type: 'integer', minimum: 1, nullable: true },
        batchSize: { type: 'integer', minimum: 1, nullable: true },
      },
    },
    entries: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name'],
        properties: {
          ...train.properties,
          // It names files (entries/NAME.json, models/NAME): no separators; "." and ".." are refused later.
          name: { type: 'string', pattern: '^[A-Za-z0-9._-]+$' },
          transform: { type: 'string', nullable: true },
          ensemble: {
            type: 'array',
            minItems: 1,
            nullable: true,
            items: { type: 'object', additionalProperties: false, required: [], properties: { arch: { type: 'string', nullable: true }, seed: { type: 'integer', minimum: 0, nullable: true } } },
          },
        },
      },
    },
  },
});

const ajv = new Ajv({ allErrors: true });
const validators = new Map<AttackOptionTable, ValidateFunction<BenchConfig>>();

/** The config's validator for the attack options of `table` (compiled once per table). */
function validatorFor(table: AttackOptionTable): ValidateFunction<BenchConfig> {
  let v = validators.get(table);
  if (!v) validators.set(table, (v = ajv.compile<BenchConfig>(schema(table))));
  return v;
}

function describe(error: ErrorObject): string {
  const where = error.instancePath || '(top level)';
  if (error.keyword === 'additionalProperties') return `${where}: unknown field "${String(error.params.additionalProperty)}"`;
  if (error.keyword === 'enum') return `${where}: must be one of ${(error.params.allowedValues as string[]).join(', ')}`;
  return `${where} ${error.message ?? 'is invalid'}`;
}

/** Reads and validates a benchmark config; every problem is named with its JSON path. */
export async function loadBenchConfig(file: string, table: AttackOptionTable = ATTACK_OPTION_TABLE): Promise<BenchConfig> {
  const json = await readJsonFile(file, `give a benchmark config, e.g. --config ${exampleBenchConfig()}`, 'fix the syntax');
  const validate = validatorFor(table);
  if (!validate(json)) {
    throw new UserError(`${file}: ${(validate.errors ?? []).map(describe).join('; ')}: see ${exampleBenchConfig()} for the format`);
  }
  const names = json.entries.map((e) => e.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new UserError(`${file}: entry name "${dup}" is used twice: names must be unique (they name the result files)`);
  return json;
}
