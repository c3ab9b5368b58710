import pLimit from 'p-limit';
import { UserError } from '../errors.js';
import type { Classifier, ImageShape } from '../types.js';
import { scoreClassifier, type ScoreModelOptions } from './score-model.js';

export interface HttpModelOptions extends ScoreModelOptions {
  url: string;
  /** Images per request. */
  batchSize?: number;
  /** Requests in flight at once. */
  concurrency?: number;
  /** Retries of a request that failed with a 5xx/429 status or a network error. */
  retries?: number;
  /** First retry delay in ms; doubles each time. */
  retryDelayMs?: number;
  /** Request body: { [inputKey]: images }, images nested [h][w][c] per image or flat. */
  inputKey?: string;
  layout?: 'nested' | 'flat';
  /** Response body: { [outputKey]: number[][] }. */
  outputKey?: string;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

function nest(values: Float32Array, [h, w, c]: ImageShape): number[][][] {
  return Array.from({ length: h }, (_, y) => Array.from({ length: w }, (_, x) => Array.from(values.subarray((y * w + x) * c, (y * w + x + 1) * c))));
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A model behind an HTTP endpoint (JSON in, JSON out; TF-Serving's {"instances"} /
 * {"predictions"} by default), batched, with a concurrency limit and retries on 5xx.
 */
export function httpModel(options: HttpModelOptions): Classifier {
  const { url, inputShape } = options;
  const batchSize = options.batchSize ?? 32;
  const retries = options.retries ?? 3;
  const limit = pLimit(options.concurrency ?? 4);
  const inputKey = options.inputKey ?? 'instances';
  const outputKey = options.outputKey ?? 'predictions';
  const pixels = inputShape[0] * inputShape[1] * inputShape[2];

  async function post(images: Float32Array, n: number): Promise<number[][]> {
    const instances = Array.from({ length: n }, (_, i) => {
      const one = images.subarray(i * pixels, (i + 1) * pixels);
      return options.layout === 'flat' ? Array.from(one) : nest(one, inputShape);
    });
    const body = JSON.stringify({ [inputKey]: instances });
    for (let attempt = 0; ; attempt++) {
      let status = 0;
      let detail = '';
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...options.headers },
          body,
          signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
        });
        status = res.status;
        if (res.ok) {
          const json = (await res.json()) as Record<string, unknown>;
          const rows = json[outputKey];
          if (!Array.isArray(rows)) throw new UserError(`${url} answered without a "${outputKey}" array: set the response key (outputKey) to the field holding the scores`);
          return rows as number[][];
        }
        detail = (await res.text()).slice(0, 200);
        if (status < 500 && status !== 429) {
          throw new UserError(`${url} refused the request with HTTP ${status} (${detail}): check the request shape (inputKey "${inputKey}", layout ${options.layout ?? 'nested'})`);
        }
      } catch (err) {
        if (err instanceof UserError) throw err;
        detail = (err as Error).message;
      }
      if (attempt >= retries) {
        throw new UserError(`${url} failed ${attempt + 1} times (last: ${status ? `HTTP ${status}` : 'no answer'} ${detail}): check that the model server is up`);
      }
      await sleep((options.retryDelayMs ?? 100) * 2 ** attempt);
    }
  }

  const fn = async (images: Float32Array, [n]: [number, ...ImageShape]) => {
    const chunks: Promise<number[][]>[] = [];
    for (let start = 0; start < n; start += batchSize) {
      const count = Math.min(batchSize, n - start);
      chunks.push(limit(() => post(images.subarray(start * pixels, (start + count) * pixels), count)));
    }
    return (await Promise.all(chunks)).flat();
  };
  const base = scoreClassifier(fn, { ...options, name: options.name ?? url });
  return { ...base, describe: () => ({ ...base.describe?.(), url, batchSize, concurrency: options.concurrency ?? 4 }) };
}
