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

/**
 * A server's error body in a few words for a one-line message: an HTML page (a proxy's 502) by
 * its title or text, whitespace collapsed, cut at 100 characters.
 */
export function summarizeBody(text: string): string {
  const title = /<title[^>]*>([^<]*)<\/title>/i.exec(text)?.[1];
  const plain = (title ?? text.replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ').replace(/<[^>]*>/g, ' ')).replace(/\s+/g, ' ').trim();
  return plain.length > 100 ? `${plain.slice(0, 99)}…` : plain;
}

/** Rows of numeric scores, or a UserError naming the first value that is not a number. */
function checkRows(url: string, outputKey: string, rows: unknown[], n: number): number[][] {
  if (rows.length !== n) throw new UserError(`${url} answered ${rows.length} rows of "${outputKey}" for ${n} images: it must return one row of scores per image`);
  rows.forEach((row, i) => {
    if (!Array.isArray(row)) throw new UserError(`${url} answered ${JSON.stringify(row)} as the scores of image ${i} of a request: each entry of "${outputKey}" must be an array of numbers`);
    row.forEach((v: unknown, j) => {
      if (typeof v !== 'number') {
        throw new UserError(`${url} answered ${JSON.stringify(v) ?? String(v)} as score ${j} of image ${i} of a request, not a number: fix the server so that every score is a finite number`);
      }
    });
  });
  return rows as number[][];
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
          // Read whole before parsing: a body that is not JSON is the server's bug, not a transient failure.
          const text = await res.text();
          let json: Record<string, unknown>;
          try {
            json = JSON.parse(text) as Record<string, unknown>;
          } catch (err) {
            const bare = /\b(NaN|-?Infinity)\b/.exec(text)?.[1];
            throw new UserError(
              bare
                ? `${url} answered with a bare ${bare}, which is not JSON: make the server send finite numbers (its model gives non-finite scores, or its JSON encoder writes NaN)`
                : `${url} answered HTTP ${status} with a body that is not JSON (${(err as Error).message}: "${summarizeBody(text)}"): check that the URL is the model's predict endpoint`,
            );
          }
          const rows = typeof json === 'object' && json !== null ? json[outputKey] : undefined;
          if (!Array.isArray(rows)) throw new UserError(`${url} answered without a "${outputKey}" array: set the response key (outputKey) to the field holding the scores`);
          return checkRows(url, outputKey, rows, n);
        }
        detail = summarizeBody(await res.text());
        if (status < 500 && status !== 429) {
          throw new UserError(`${url} refused the request with HTTP ${status} (${detail}): check the request shape (inputKey "${inputKey}", layout ${options.layout ?? 'nested'})`);
        }
      } catch (err) {
        if (err instanceof UserError) throw err;
        detail = summarizeBody((err as Error).message);
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
