import { Type, type Static } from '@sinclair/typebox';
import type { SuiteMode } from '../harness/evaluate.js';
import type { SanityCheck } from '../harness/report-types.js';
import type { TargetSpec } from '../harness/targets.js';
import { ATTACK_OPTION_TABLE, optionSchemas, type AttackOptionTable } from '../run/attack-option-table.js';
import type { AttackCliOptions } from '../run/attack-options.js';

/** Bumped whenever a reader of the old format would misread the new one. */
export const BASELINE_FORMAT = 'advtest-baseline/1';

/**
 * The attack options as given on the command line (`--attack pgd --steps 40 …`; every option of
 * src/run/attack-option-table.ts): the attacks are rebuilt from them by the parser `advtest eval`
 * uses, so presets, norms and EOT/BPDA wrappers come back exactly as the registry builds them today.
 */
export type AttackRequest = Omit<AttackCliOptions, 'mode'>;

// Type.Unsafe: the JSON Schema as it was, a narrower type (TypeBox's Literal adds `type`, its Union is an anyOf: other ajv messages).
const constant = <const T extends string>(value: T) => Type.Unsafe<T>({ const: value });
const oneOf = <const T extends string>(values: T[]) => Type.Unsafe<T>({ enum: values });
const anyObject = () => Type.Unsafe<Record<string, unknown>>({ type: 'object' });
const count = Type.Integer({ minimum: 0 });
const eps = Type.Number({ minimum: 0 });

const figure = {
  correct: count,
  n: count,
  accuracy: Type.Number({ minimum: 0, maximum: 1 }),
  /** 95% Wilson interval. */
  interval: Type.Unsafe<[number, number]>({ type: 'array', items: { type: 'number', minimum: 0, maximum: 1 }, minItems: 2, maxItems: 2 }),
  /** Per-example robustness (correct, for clean) as a bitset, base64; bit i = example i, LSB first. */
  bits: Type.String(),
};
/** One figure (clean, one attack at one ε, or the worst case at one ε) with its per-example bits. */
const baselineFigure = Type.Object(figure);

/** One series at one ε, per class: examples (`n`) and robust examples (`robust`), as integers. */
const classCounts = Type.Object({
  /** An attack's name, or "worst case". */
  attack: Type.String({ minLength: 1 }),
  eps,
  n: Type.Array(count),
  robust: Type.Array(count),
});

/** JSON Schema (draft-07) of advtest-baseline/1 with the attack options of `table`; extra fields are allowed, missing ones are not. */
export const baselineSchema = (table: AttackOptionTable = ATTACK_OPTION_TABLE) =>
  Type.Object({
    format: constant(BASELINE_FORMAT),
    tool: Type.Object({ name: constant('advtest'), version: Type.String() }),
    createdAt: Type.String(),
    versions: Type.Object({ node: Type.String(), tfjs: Type.String() }),
    backend: Type.Object({ name: Type.String(), fastKernels: Type.Boolean(), note: Type.Optional(Type.String()) }),
    /** The model the baseline was recorded on; `path` is relative to the baseline's folder. */
    model: Type.Object({
      path: Type.String({ minLength: 1 }),
      info: anyObject(),
      /** sha256 of the model's weight files when recorded (absent in baselines of older versions). */
      weights: Type.Optional(Type.String({ pattern: '^[0-9a-f]{64}$' })),
    }),
    evaluation: Type.Object({
      data: Type.String({ minLength: 1 }),
      dataDir: Type.Optional(Type.String()),
      split: oneOf(['train', 'test']),
      limit: Type.Optional(Type.Integer({ minimum: 1 })),
      // The options as typed on the command line (attack-option-table.ts); baselines made before an option existed lack it.
      request: Type.Unsafe<AttackRequest>({ type: 'object', required: ['attack'], properties: { attack: { type: 'string', minLength: 1 }, ...optionSchemas('text', table) } }),
      transform: Type.Optional(Type.String()),
      /** What the request built: a check compares it with what the request builds now. */
      attacks: Type.Array(Type.Object({ name: Type.String({ minLength: 1 }), norm: Type.String(), config: anyObject() }), { minItems: 1 }),
      mode: oneOf<SuiteMode>(['independent', 'sequential']),
      epsilons: Type.Array(eps, { minItems: 1 }),
      seed: count,
      batchSize: Type.Integer({ minimum: 1 }),
      target: Type.Unsafe<TargetSpec>({ anyOf: [{ enum: ['untargeted', 'least-likely', 'random'] }, count] }),
    }),
    /** sha256 of the canonical JSON of `evaluation`: equal hashes = the same evaluation. */
    configHash: Type.String({ pattern: '^[0-9a-f]{64}$' }),
    data: Type.Object({
      name: Type.String(),
      split: Type.String(),
      size: count,
      shape: Type.Array(count, { minItems: 3, maxItems: 3 }),
      fingerprint: Type.String({ pattern: '^[0-9a-f]{64}$' }),
      subset: Type.Optional(Type.String()),
    }),
    figures: Type.Object({
      clean: baselineFigure,
      results: Type.Array(Type.Object({ ...figure, attack: Type.String(), norm: Type.String(), eps })),
      /** Robust only if the example survived every attack at that ε. */
      worstCase: Type.Array(Type.Object({ ...figure, eps })),
    }),
    /** Ids of the evaluated examples, in bit order. */
    examples: Type.Object({ ids: Type.Array(Type.String()) }),
    /**
     * The sanity checks of the run that made the baseline, so that `check` can show them beside the
     * re-run's. Absent in baselines of older versions ("not recorded").
     */
    sanity: Type.Optional(Type.Array(Type.Unsafe<SanityCheck>(Type.Object({ id: Type.String(), ok: Type.Boolean(), message: Type.String(), advice: Type.Optional(Type.String()) })))),
    /**
     * Per class (index = label), per attack × ε and for the worst case ("worst case", with several
     * attacks): the examples and those robust, so that `check` can show per-class deltas. The
     * robust counts add up to the figure's `correct` (checked in store.ts). Absent in baselines of older versions.
     */
    perClass: Type.Optional(Type.Array(classCounts)),
  });

export type Baseline = Static<ReturnType<typeof baselineSchema>>;
/**
 * Everything needed to re-run the evaluation a baseline was made with, and nothing about the model:
 * the run description's data, subset size (absent = the whole split), input transform (applied to
 * the model loaded from a folder) and seed; `folder:PATH` and `dataDir` are relative to the baseline's folder.
 */
export type EvaluationSpec = Baseline['evaluation'];
export type BaselineFigure = Static<typeof baselineFigure>;
export type BaselineClassCounts = Static<typeof classCounts>;
