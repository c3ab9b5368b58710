import path from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { UserError } from '../errors.js';
import { readJsonFile } from '../json-file.js';
import { packageRoot } from '../package-info.js';
import { ATTACK_OPTION_TABLE, optionSchemas, type AttackOptionJson, type AttackOptionTable } from '../run/attack-option-table.js';
import { OPTIMIZERS } from '../train/optimizers.js';
import { SCHEDULES } from '../train/schedule.js';

/** An example config that ships in the npm package ("files" in package.json), by absolute path. */
export function exampleBenchConfig(): string {
  return path.join(packageRoot(), 'fixtures', 'bench', 'defenses.json');
}

/** An optional setting, one of `values`: ajv's `enum`, whose error lists them (TypeBox's union of literals is an anyOf). */
const oneOf = <const T extends string>(values: readonly T[]) => Type.Unsafe<T>({ type: 'string', enum: [...values], nullable: true });

/**
 * How every entry is trained unless it says otherwise: the training run's settings (src/run/train.ts),
 * --train-step-size as typed. trainJob() in run.ts assigns each to a TrainJob, so tsc checks the types agree.
 */
const trainSettings = {
  arch: Type.Optional(Type.String({ nullable: true })),
  /** A class-balanced subset of this many training examples (after the held-out ones): data scaling. */
  examples: Type.Optional(Type.Integer({ minimum: 1, nullable: true })),
  epochs: Type.Optional(Type.Integer({ minimum: 1, nullable: true })),
  batchSize: Type.Optional(Type.Integer({ minimum: 1, nullable: true })),
  lr: Type.Optional(Type.Number({ exclusiveMinimum: 0, nullable: true })),
  optimizer: Type.Optional(oneOf(OPTIMIZERS)),
  schedule: Type.Optional(oneOf(SCHEDULES)),
  seed: Type.Optional(Type.Integer({ minimum: 0, nullable: true })),
  defense: Type.Optional(Type.String({ nullable: true })),
  trainAttack: Type.Optional(Type.String({ nullable: true })),
  trainEps: Type.Optional(Type.Number({ minimum: 0, nullable: true })),
  trainSteps: Type.Optional(Type.Integer({ minimum: 1, nullable: true })),
  /** Absolute (0.01) or relative to ε (0.25x). */
  trainStepSize: Type.Optional(Type.String({ nullable: true })),
  trainEpsRamp: Type.Optional(Type.Integer({ minimum: 1, nullable: true })),
  clipLayers: Type.Optional(Type.Array(Type.String(), { nullable: true })),
  holdout: Type.Optional(Type.Integer({ minimum: 0, nullable: true })),
};

/** One row of the leaderboard. */
const benchEntry = Type.Object(
  {
    ...trainSettings,
    // It names files (entries/NAME.json, models/NAME): no separators; "." and ".." are refused later.
    name: Type.String({ pattern: '^[A-Za-z0-9._-]+$' }),
    /** Evaluate the model behind an input transform (bit-depth=B, median=K, jpeg=Q, noise=σ); attacked with BPDA. */
    transform: Type.Optional(Type.String({ nullable: true })),
    /** Train these members (each with the entry's settings and its own arch/seed) and average their logits. */
    ensemble: Type.Optional(
      Type.Array(
        Type.Object({ arch: Type.Optional(Type.String({ nullable: true })), seed: Type.Optional(Type.Integer({ minimum: 0, nullable: true })) }, { additionalProperties: false }),
        { minItems: 1, nullable: true },
      ),
    ),
  },
  { additionalProperties: false },
);

/**
 * Randomized-smoothing certification of every entry after its evaluation (Cohen et al. 2019, as
 * `advtest certify`): certified L2 accuracy at `radii` becomes leaderboard columns. certifyEntry()
 * passes it on as CertifyOptions, so tsc checks the types agree.
 */
const benchCertify = Type.Object(
  {
    sigma: Type.Number({ exclusiveMinimum: 0 }),
    n0: Type.Integer({ minimum: 1 }),
    n: Type.Integer({ minimum: 1 }),
    alpha: Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 0.5 }),
    radii: Type.Array(Type.Number({ minimum: 0 }), { minItems: 1 }),
    /** Certify a class-balanced subset of this many test examples (default: eval.limit). */
    limit: Type.Optional(Type.Integer({ minimum: 1, nullable: true })),
    batchSize: Type.Optional(Type.Integer({ minimum: 1, nullable: true })),
  },
  { additionalProperties: false, nullable: true },
);

/** The attack options of `table` as optional properties (typed by AttackOptionJson: TypeBox cannot see the table). */
const attackOptions = (table: AttackOptionTable): object =>
  Object.fromEntries(Object.entries(optionSchemas('json', table)).map(([name, option]) => [name, Type.Optional(Type.Unsafe(option))]));

/**
 * The reference attack run on the leading entries only (`top` rows per ε, ranked by the worst case
 * with it): a cheap attack ranks every entry, the expensive one (autoattack) confirms the rows
 * that matter. Its column and the worst case then include it. The attack options of `table` may
 * be given too.
 */
const benchConfirm = (table: AttackOptionTable) =>
  Type.Object(
    {
      attack: Type.String(),
      top: Type.Optional(Type.Integer({ minimum: 1, nullable: true })),
      /** A subset of eval.eps (default: all of them). */
      eps: Type.Optional(Type.Array(Type.Number({ minimum: 0 }), { minItems: 1, nullable: true })),
      ...attackOptions(table),
    },
    { additionalProperties: false, nullable: true },
  );

/** The config with the attack options of `table` in its eval section. */
const schema = (table: AttackOptionTable) =>
  Type.Object(
    {
      data: Type.Optional(Type.String({ nullable: true })),
      dataDir: Type.Optional(Type.String({ nullable: true })),
      train: Type.Optional(Type.Object(trainSettings, { additionalProperties: false, nullable: true })),
      /** The attack options of src/run/attack-option-table.ts may be given too (steps, restarts, targets, …). */
      eval: Type.Object(
        {
          attack: Type.String(),
          eps: Type.Array(Type.Number({ minimum: 0 }), { minItems: 1 }),
          ...attackOptions(table),
          limit: Type.Optional(Type.Integer({ minimum: 1, nullable: true })),
          /**
           * Also evaluate this many class-balanced training digits with the same attacks: the gap between
           * training and test robust accuracy (robust overfitting, Rice et al. 2020).
           */
          trainLimit: Type.Optional(Type.Integer({ minimum: 1, nullable: true })),
          seed: Type.Optional(Type.Integer({ minimum: 0, nullable: true })),
          mode: Type.Optional(oneOf(['independent', 'sequential'])),
        },
        { additionalProperties: false },
      ),
      certify: Type.Optional(benchCertify),
      confirm: Type.Optional(benchConfirm(table)),
      entries: Type.Array(benchEntry, { minItems: 1 }),
    },
    { additionalProperties: false },
  );

export type BenchEntry = Static<typeof benchEntry>;
export type BenchCertify = Static<typeof benchCertify>;
export type BenchConfig = Static<ReturnType<typeof schema>> & { eval: AttackOptionJson; confirm?: AttackOptionJson | null };

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
