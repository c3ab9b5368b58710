import { Ajv, type SchemaObject } from 'ajv';
import { ATTACK_OPTION_TABLE, optionSchemas, type AttackOptionTable } from '../run/attack-option-table.js';
import { BASELINE_FORMAT, type Baseline } from './baseline-file.js';

const interval = { type: 'array', items: { type: 'number', minimum: 0, maximum: 1 }, minItems: 2, maxItems: 2 };
const count = { type: 'integer', minimum: 0 };
const figureProps = {
  correct: count,
  n: count,
  accuracy: { type: 'number', minimum: 0, maximum: 1 },
  interval,
  bits: { type: 'string' },
};
const figureRequired = ['correct', 'n', 'accuracy', 'interval', 'bits'];
const eps = { type: 'number', minimum: 0 };

/** JSON Schema (draft-07) of advtest-baseline/1 with the attack options of `table`; extra fields are allowed, missing ones are not. */
export const baselineSchema = (table: AttackOptionTable = ATTACK_OPTION_TABLE): SchemaObject => ({
  type: 'object',
  required: ['format', 'tool', 'createdAt', 'versions', 'backend', 'model', 'evaluation', 'configHash', 'data', 'figures', 'examples'],
  properties: {
    format: { const: BASELINE_FORMAT },
    tool: { type: 'object', required: ['name', 'version'], properties: { name: { const: 'advtest' }, version: { type: 'string' } } },
    createdAt: { type: 'string' },
    versions: { type: 'object', required: ['node', 'tfjs'], properties: { node: { type: 'string' }, tfjs: { type: 'string' } } },
    backend: { type: 'object', required: ['name', 'fastKernels'], properties: { name: { type: 'string' }, fastKernels: { type: 'boolean' }, note: { type: 'string' } } },
    model: { type: 'object', required: ['path', 'info'], properties: { path: { type: 'string', minLength: 1 }, info: { type: 'object' }, weights: { type: 'string', pattern: '^[0-9a-f]{64}$' } } },
    evaluation: {
      type: 'object',
      required: ['data', 'split', 'request', 'attacks', 'mode', 'epsilons', 'seed', 'batchSize', 'target'],
      properties: {
        data: { type: 'string', minLength: 1 },
        dataDir: { type: 'string' },
        split: { enum: ['train', 'test'] },
        limit: { type: 'integer', minimum: 1 },
        request: {
          type: 'object',
          required: ['attack'],
          // The options as typed on the command line (attack-option-table.ts); baselines made before an option existed lack it.
          properties: { attack: { type: 'string', minLength: 1 }, ...optionSchemas('text', table) },
        },
        mode: { enum: ['independent', 'sequential'] },
        transform: { type: 'string' },
        attacks: {
          type: 'array',
          minItems: 1,
          items: { type: 'object', required: ['name', 'norm', 'config'], properties: { name: { type: 'string', minLength: 1 }, norm: { type: 'string' }, config: { type: 'object' } } },
        },
        epsilons: { type: 'array', minItems: 1, items: eps },
        seed: count,
        batchSize: { type: 'integer', minimum: 1 },
        target: { anyOf: [{ enum: ['untargeted', 'least-likely', 'random'] }, count] },
      },
    },
    configHash: { type: 'string', pattern: '^[0-9a-f]{64}$' },
    data: {
      type: 'object',
      required: ['name', 'split', 'size', 'shape', 'fingerprint'],
      properties: {
        name: { type: 'string' },
        split: { type: 'string' },
        size: count,
        shape: { type: 'array', items: count, minItems: 3, maxItems: 3 },
        fingerprint: { type: 'string', pattern: '^[0-9a-f]{64}$' },
        subset: { type: 'string' },
      },
    },
    figures: {
      type: 'object',
      required: ['clean', 'results', 'worstCase'],
      properties: {
        clean: { type: 'object', required: figureRequired, properties: figureProps },
        results: {
          type: 'array',
          items: { type: 'object', required: [...figureRequired, 'attack', 'norm', 'eps'], properties: { ...figureProps, attack: { type: 'string' }, norm: { type: 'string' }, eps } },
        },
        worstCase: { type: 'array', items: { type: 'object', required: [...figureRequired, 'eps'], properties: { ...figureProps, eps } } },
      },
    },
    examples: { type: 'object', required: ['ids'], properties: { ids: { type: 'array', items: { type: 'string' } } } },
    // Optional: baselines of older versions hold none.
    sanity: {
      type: 'array',
      items: { type: 'object', required: ['id', 'ok', 'message'], properties: { id: { type: 'string' }, ok: { type: 'boolean' }, message: { type: 'string' }, advice: { type: 'string' } } },
    },
    // Optional likewise: per-class counts (their sums are checked against the figures in store.ts).
    perClass: {
      type: 'array',
      items: {
        type: 'object',
        required: ['attack', 'eps', 'n', 'robust'],
        properties: { attack: { type: 'string', minLength: 1 }, eps, n: { type: 'array', items: count }, robust: { type: 'array', items: count } },
      },
    },
  },
});

const ajv = new Ajv({ allErrors: false, strict: true });

/** Validates the shape of a parsed baseline (consistency between fields is checked in store.ts). */
export const validateBaselineShape = ajv.compile<Baseline>(baselineSchema());
