import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as tf from '@tensorflow/tfjs';
import type { Classifier } from '../../src/types.js';

export interface ScoreServer {
  url: string;
  /** Images per request received, in order. */
  batches: number[];
  /** Most requests in flight at once. */
  maxInFlight: number;
  close(): Promise<void>;
}

/**
 * A TF-Serving-like endpoint on 127.0.0.1 (port chosen by the OS) answering with a local model's
 * logits. failFirst requests answer 503; every answer is delayed a little so that concurrency shows.
 */
export async function startScoreServer(model: Classifier, options: { failFirst?: number; delayMs?: number } = {}): Promise<ScoreServer> {
  let failures = options.failFirst ?? 0;
  let inFlight = 0;
  const state = { batches: [] as number[], maxInFlight: 0 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      inFlight++;
      state.maxInFlight = Math.max(state.maxInFlight, inFlight);
      setTimeout(() => {
        inFlight--;
        if (failures > 0) {
          failures--;
          res.writeHead(503).end('overloaded');
          return;
        }
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { instances?: number[][][][] };
        if (!Array.isArray(body.instances)) {
          res.writeHead(400).end('missing instances');
          return;
        }
        state.batches.push(body.instances.length);
        const predictions = tf.tidy(() => model.logits(tf.tensor4d(body.instances!)).arraySync());
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ predictions }));
      }, options.delayMs ?? 5);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/models/mnist:predict`,
    get batches() {
      return state.batches;
    },
    get maxInFlight() {
      return state.maxInFlight;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
