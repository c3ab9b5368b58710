import { Ajv, type SchemaObject } from 'ajv';
import { REPORT_FORMAT, type Report } from './report-types.js';

const num = { type: 'number' };
const count = { type: 'integer', minimum: 0 };
const numbers = { type: 'array', items: num };
const classes = { type: 'array', items: count };
const flags = { type: 'array', items: { enum: [0, 1] } };

/**
 * JSON Schema (draft-07) of what `advtest merge` reads from a shard report (advtest-report/1):
 * the per-example results every figure is recomputed from, their costs and timings. Extra fields
 * are allowed; the figures themselves are recomputed, so they are not checked here.
 */
export const SHARD_REPORT_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['format', 'seed', 'configHash', 'config', 'backend', 'model', 'data', 'results', 'examples', 'timings'],
  properties: {
    format: { const: REPORT_FORMAT },
    seed: count,
    configHash: { type: 'string', minLength: 1 },
    backend: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } },
    model: { type: 'object' },
    config: {
      type: 'object',
      required: ['attacks', 'epsilons', 'batchSize', 'target', 'mode'],
      properties: {
        attacks: { type: 'array', minItems: 1, items: { type: 'object', required: ['name', 'norm', 'config'], properties: { name: { type: 'string' }, norm: { type: 'string' }, config: { type: 'object' } } } },
        epsilons: { type: 'array', minItems: 1, items: { type: 'number', minimum: 0 } },
        batchSize: { type: 'integer', minimum: 1 },
        target: { type: 'string' },
        mode: { enum: ['independent', 'sequential'] },
      },
    },
    data: {
      type: 'object',
      required: ['name', 'split', 'shape', 'fingerprint', 'shard'],
      properties: {
        name: { type: 'string' },
        split: { type: 'string' },
        shape: { type: 'array', items: count, minItems: 3, maxItems: 3 },
        fingerprint: { type: 'string', minLength: 1 },
        shard: {
          type: 'object',
          required: ['index', 'count', 'from', 'to', 'total'],
          properties: { index: count, count: { type: 'integer', minimum: 1 }, from: count, to: count, total: count },
        },
      },
    },
    results: {
      type: 'array',
      items: {
        type: 'object',
        required: ['attack', 'eps', 'costs'],
        properties: { attack: { type: 'string' }, eps: num, costs: { type: 'object', required: ['gradients', 'queries'], properties: { gradients: count, queries: count } } },
      },
    },
    examples: {
      type: 'object',
      required: ['ids', 'labels', 'cleanPredictions', 'results'],
      properties: {
        ids: { type: 'array', items: { type: 'string' } },
        labels: classes,
        targets: classes,
        cleanPredictions: classes,
        results: {
          type: 'array',
          items: {
            type: 'object',
            required: ['attack', 'eps', 'predictions', 'quantizedPredictions', 'linf', 'l2', 'attacked'],
            properties: { attack: { type: 'string' }, eps: num, predictions: classes, quantizedPredictions: classes, linf: numbers, l2: numbers, attacked: flags },
          },
        },
      },
    },
    timings: {
      type: 'object',
      required: ['totalSeconds', 'results'],
      properties: { totalSeconds: { type: 'number', minimum: 0 }, concurrency: { type: 'integer', minimum: 2 }, results: { type: 'array', items: { type: 'object', required: ['seconds'], properties: { seconds: { type: 'number', minimum: 0 } } } } },
    },
  },
};

const ajv = new Ajv({ allErrors: false, strict: true });

/** Validates a parsed shard report; `.errors` holds the first problem. */
export const validateShardReport = ajv.compile<Report>(SHARD_REPORT_SCHEMA);
