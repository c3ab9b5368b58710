import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runChild } from '../helpers/child.js';

/**
 * advtest must not change how a host program crashes: the threaded wasm glue installs
 * process-wide uncaughtException / unhandledRejection handlers that print the glue's source
 * and exit 7 (issue 18, item 1).
 */
const INDEX = pathToFileURL(path.resolve('src/index.ts')).href;
/** `node --import tsx`, not the tsx binary: that one runs a second node process around the script. */
const NODE_TSX = `${process.execPath} --import tsx`;

async function hostScript(body: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'advtest-host-'));
  const file = path.join(dir, 'host.mts');
  await writeFile(file, `import { initBackend } from ${JSON.stringify(INDEX)};\n${body}\n`);
  return file;
}

function run(file: string, ...args: string[]) {
  return runChild(process.execPath, ['--import', 'tsx', file, ...args], { timeout: 240_000 });
}

// Concurrent: each test is one child process, mostly node starting up; two cores run them side by side.
describe('a host program crashing after initBackend', { timeout: 300_000, concurrent: true }, () => {
  for (const backend of ['auto', 'wasm', 'cpu']) {
    it(`keeps Node's own behaviour for a thrown error (${backend})`, async () => {
      const file = await hostScript(`await initBackend('${backend}');\nthrow new Error('boom');`);
      const r = await run(file);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('Error: boom');
      expect(r.stderr.length).toBeLessThan(4000);
    });
  }

  it("keeps Node's own behaviour for an unhandled rejection (auto)", async () => {
    const file = await hostScript(`await initBackend('auto');\nvoid Promise.reject(new Error('boom-rejected'));`);
    const r = await run(file);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('boom-rejected');
    expect(r.stderr.length).toBeLessThan(4000);
  });

  it('leaves handlers the host installed itself in place', async () => {
    const file = await hostScript(
      `process.on('uncaughtException', (e) => { console.log('host handled ' + e.message); process.exit(0); });\nawait initBackend('auto');\nthrow new Error('boom');`,
    );
    const r = await run(file);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('host handled boom');
  });

  it('advtest … | head (EPIPE on stdout) ends quietly, not with exit 7', async () => {
    const cli = path.resolve('src/cli/index.ts');
    // A bare --json report of 300 examples overruns the pipe's buffer after head has gone.
    const r = await runChild('bash', ['-c', `set -o pipefail; ${NODE_TSX} ${cli} eval --model fixtures/models/mnist-cnn --limit 300 --eps 0.1,0.2 --json --workers 1 2>&1 | head -3 >/dev/null`], { timeout: 240_000 });
    expect(r.status).toBe(0);
  });
});
