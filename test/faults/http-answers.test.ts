/**
 * Issue 18 items 12 and 15 (HTTP model): a null score is an error naming its position, not a 0;
 * bare NaN/Infinity is not JSON and not retried as if the server were down; a proxy's HTML 502
 * page becomes a few words on one line.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { httpModel } from '../../src/model/http-model.js';
import { useTestBackend } from '../helpers/backend.js';

const NGINX_502 = `<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.25.3</center>\r\n</body>\r\n</html>\r\n<!-- a padding to disable MSIE and Chrome friendly error page -->\r\n<!-- a padding to disable MSIE and Chrome friendly error page -->\r\n`;

let server: Server | undefined;
let requests = 0;

/** A server giving the same answer (status, body) to every request. */
async function serve(status: number, body: string, type = 'application/json'): Promise<string> {
  requests = 0;
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      requests++;
      res.writeHead(status, { 'content-type': type }).end(body);
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/predict`;
}

async function queryError(url: string): Promise<Error> {
  const model = httpModel({ url, inputShape: [1, 2, 1], numClasses: 3, retries: 2, retryDelayMs: 1 });
  const x = tf.zeros([2, 1, 2, 1]) as tf.Tensor4D;
  try {
    const scores = await model.query!(x);
    scores.dispose();
    throw new Error(`no error; scores ${JSON.stringify(await scores.array())}`);
  } catch (err) {
    return err as Error;
  } finally {
    x.dispose();
  }
}

describe('an HTTP model answering badly', () => {
  beforeAll(useTestBackend);
  afterEach(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  it('a null score is refused, naming the image and class, without retrying', async () => {
    const url = await serve(200, JSON.stringify({ predictions: [[0.1, 0.2, 0.7], [0.3, null, 0.4]] }));
    const err = await queryError(url);
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toBe(`${url} answered null as score 1 of image 1 of a request, not a number: fix the server so that every score is a finite number`);
    expect(requests).toBe(1);
  });

  it('bare NaN in the body is not JSON: one clear error, not retried, not blamed on the server being down', async () => {
    const url = await serve(200, '{"predictions": [[NaN, 0, 1], [0, 1, Infinity]]}');
    const err = await queryError(url);
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toMatch(/answered with a bare NaN, which is not JSON: make the server send finite numbers/);
    expect(err.message).not.toMatch(/is up/);
    expect(requests).toBe(1);
  });

  it("a proxy's HTML 502 page is summarised on one short line", async () => {
    const url = await serve(502, NGINX_502, 'text/html');
    const err = await queryError(url);
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toBe(`${url} failed 3 times (last: HTTP 502 502 Bad Gateway): check that the model server is up`);
    expect(err.message).not.toContain('\n');
    expect(requests).toBe(3);
  });
});
