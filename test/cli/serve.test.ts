import http from 'node:http';
import { mkdtemp, mkdir, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBrowser } from '../../scripts/build-browser.js';
import { resolveRequest } from '../../src/cli/static-server.js';
import { runCli } from '../helpers/cli.js';
import { startServe } from '../helpers/serve.js';

/** A GET with the path sent exactly as written (fetch would normalise the dots away). */
function rawGet(url: string, rawPath: string): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port, path: rawPath, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += String(d)));
      res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the static server of advtest serve', () => {
  it('serves files inside its mounts only: no .., encoded or not, no dot files, no symlink out', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'advtest-serve-'));
    const page = path.join(dir, 'page');
    const model = path.join(dir, 'model');
    await mkdir(page);
    await mkdir(model);
    await writeFile(path.join(page, 'index.html'), 'page');
    await writeFile(path.join(model, 'model.json'), '{}');
    await writeFile(path.join(dir, 'secret.txt'), 'secret');
    await writeFile(path.join(page, '.env'), 'x');
    await symlink(path.join(dir, 'secret.txt'), path.join(model, 'link.txt'));
    const mounts = { '/': page, '/model': model };
    expect(await resolveRequest(mounts, '/')).toBe(path.join(page, 'index.html'));
    expect(await resolveRequest(mounts, '/model/model.json')).toBe(path.join(model, 'model.json'));
    for (const bad of ['/../secret.txt', '/model/../../secret.txt', '/%2e%2e/secret.txt', '/model/%2E%2E%2F%2E%2E%2Fsecret.txt', '/..%5csecret.txt', '/.env', '/model/link.txt', '/model/model.json%00', '/%E0%A4%A', '/nothing.js']) {
      expect(await resolveRequest(mounts, bad), bad).toBeUndefined();
    }
  });

  it('refuses a folder without model.json and a bad port, naming them', async () => {
    const r = await runCli('serve', '--model', 'fixtures/images');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--model fixtures\/images: no model\.json/);
    const p = await runCli('serve', '--port', '70000');
    expect(p.code).toBe(2);
    expect(p.stderr).toMatch(/--port 70000/);
  });

  describe('as a child process', () => {
    let server: Awaited<ReturnType<typeof startServe>>;
    beforeAll(async () => {
      await buildBrowser();
      server = await startServe();
    });
    afterAll(() => {
      if (server.child.exitCode === null) server.child.kill('SIGKILL');
    });

    it('binds 127.0.0.1, serves the page, the model and the digits, 404s traversal, and stops on SIGINT', async () => {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      const index = await rawGet(server.url, '/');
      expect(index.status).toBe(200);
      expect(index.body).toContain('advtest playground');
      expect(index.headers['content-security-policy']).toContain("default-src 'self'");
      expect((await rawGet(server.url, '/model/model.json')).status).toBe(200);
      expect(JSON.parse((await rawGet(server.url, '/digits.json')).body)).toContainEqual({ name: 'mnist-test-0-label0.png', label: 0 });
      expect((await rawGet(server.url, '/digits/mnist-test-0-label0.png')).status).toBe(200);
      for (const bad of ['/../package.json', '/model/../../../package.json', '/%2e%2e/%2e%2e/package.json', '/model/%2e%2e/%2e%2e/%2e%2e/package.json', '/digits/..%2f..%2fpackage.json']) {
        const r = await rawGet(server.url, bad);
        expect(r.status, bad).toBe(404);
        expect(r.body).not.toContain('"name": "advtest"');
      }
      server.child.kill('SIGINT');
      expect(await server.exit).toBe(0);
      expect(server.output()).toMatch(/advtest playground: stopped/);
    });
  });
});
