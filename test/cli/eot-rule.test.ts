import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixtureModelPath, packageRoot } from '../../src/package-info.js';
import { useTestBackend } from '../helpers/backend.js';
import { runCli } from '../helpers/cli.js';

/** Issue 18 item 8: --eot on a deterministic model is one rule for eval, attack and baseline. */
const MODEL = fixtureModelPath('mnist-cnn');
const IMAGE = path.join(packageRoot(), 'fixtures', 'images', 'mnist-test-0-label0.png');

describe('--eot on a deterministic model', () => {
  let root: string;
  beforeAll(async () => {
    await useTestBackend();
    root = await mkdtemp(path.join(tmpdir(), 'advtest-eot-rule-'));
  });

  it('attack refuses it in one line (exit 2), before writing anything', async () => {
    const out = path.join(root, 'adv');
    const r = await runCli('attack', '--model', MODEL, '--images', IMAGE, '--attack', 'pgd', '--eot', '3', '--eps', '0.1', '--out', out, '--workers', '1');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('advtest: --eot 3: the model is deterministic, so all 3 draws give the same gradient and EOT only multiplies the cost by 3: drop --eot\n');
    expect(existsSync(out)).toBe(false);
  });

  it('baseline refuses it with the message eval gives, writing no baseline', async () => {
    const out = path.join(root, 'robustness.json');
    const args = ['--model', MODEL, '--limit', '10', '--attack', 'pgd', '--eot', '3', '--eps', '0.1'];
    const b = await runCli('baseline', ...args, '--out', out);
    const e = await runCli('eval', ...args, '--workers', '1');
    expect(b.code).toBe(2);
    expect(e.code).toBe(2);
    expect(b.stderr).toMatch(/^advtest: --eot 3: the model is deterministic.*drop --eot, or add a randomised transform \(--transform noise=0\.1\)\n$/);
    expect(b.stderr).toBe(e.stderr);
    expect(existsSync(out)).toBe(false);
  });

  it('baseline accepts it behind a randomised transform', async () => {
    const out = path.join(root, 'noisy.json');
    const r = await runCli('baseline', '--model', MODEL, '--limit', '4', '--attack', 'pgd', '--steps', '1', '--eot', '2', '--eps', '0.1', '--transform', 'noise=0.1', '--out', out, '--quiet');
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(out)).toBe(true);
  });

  it('attack only notes it for a GraphModel (which may hold random ops), and runs', async () => {
    const out = path.join(root, 'adv-graph');
    const r = await runCli('attack', '--model', fixtureModelPath('mnist-linear-graph'), '--images', IMAGE, '--attack', 'pgd', '--steps', '1', '--eot', '2', '--eps', '0.1', '--out', out, '--workers', '1');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/note: --eot 2: nothing says the model is randomised/);
    expect(existsSync(path.join(out, 'manifest.json'))).toBe(true);
  });
});
