/**
 * Issue 18 item 9: an output that resolves to an input of the same run (or to another of its
 * outputs) is refused before anything runs, and the input survives byte for byte.
 */
import { cp, mkdir, mkdtemp, readFile, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkRunPaths, realPathOf } from '../../src/cli/output-path.js';
import { UserError } from '../../src/errors.js';
import { fixtureModelPath } from '../../src/package-info.js';
import { useTestBackend } from '../helpers/backend.js';
import { twoImageFolder } from './folders.js';
import { runCli } from '../helpers/cli.js';

let DATA = '';

describe('outputs that are inputs', () => {
  let dir: string;
  let model: string;
  let report: string;
  beforeAll(async () => {
    await useTestBackend();
    dir = await mkdtemp(path.join(tmpdir(), 'advtest-paths-'));
    DATA = `folder:${await twoImageFolder(path.join(dir, 'data'))}`;
    model = path.join(dir, 'm');
    await cp(fixtureModelPath('mnist-cnn'), model, { recursive: true });
    report = path.join(dir, 'r.json');
    const r = await runCli('eval', '--model', model, '--data', DATA, '--attack', 'fgsm', '--eps', '0.1', '--workers', '1', '--json', report, '--quiet');
    expect(r.code, r.stderr).toBe(0);
  });

  /** Runs the CLI, expects exit 2 with one line matching `pattern`, and the files unchanged. */
  async function refused(args: string[], pattern: RegExp, keep: string[]): Promise<void> {
    const before = await Promise.all(keep.map((f) => readFile(f)));
    const r = await runCli(...args);
    expect(r.code, r.stderr).toBe(2);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(pattern);
    const after = await Promise.all(keep.map((f) => readFile(f)));
    after.forEach((bytes, i) => expect(bytes.equals(before[i]!), keep[i]).toBe(true));
  }

  it('eval --json and baseline --out onto the model file, also through a symbolic link', async () => {
    const json = path.join(model, 'model.json');
    await refused(['eval', '--model', model, '--data', DATA, '--eps', '0.1', '--json', json, '--quiet'], /--json \S+model\.json is the model file .*which this run reads/, [json]);
    await refused(['baseline', '--model', model, '--data', DATA, '--eps', '0.1', '--out', json, '--quiet'], /--out \S+model\.json is the model file/, [json]);
    const link = path.join(dir, 'link');
    await symlink(model, link);
    await refused(['eval', '--model', model, '--data', DATA, '--eps', '0.1', '--json', path.join(link, 'weights.bin'), '--quiet'], /is the model file/, [path.join(model, 'weights.bin')]);
    // A file that does not exist yet, inside the model folder reached through the link.
    await refused(['eval', '--model', model, '--data', DATA, '--eps', '0.1', '--json', path.join(link, 'new.json'), '--quiet'], /lies inside the model folder/, [json]);
  });

  it('baseline --out onto an existing file (a baseline is often committed): refused without --force, replaced with it', async () => {
    const out = path.join(dir, 'robustness.json');
    const args = ['baseline', '--model', model, '--data', DATA, '--attack', 'fgsm', '--eps', '0.1', '--out', out, '--quiet'];
    expect((await runCli(...args)).code).toBe(0);
    await writeFile(out, '{"made by": "the user"}');
    await refused(args, /^advtest: --out \S+robustness\.json already exists: pass --force to replace it, or choose another file$/, [out]);
    const forced = await runCli(...args, '--force');
    expect(forced.code, forced.stderr).toBe(0);
    expect(JSON.parse(await readFile(out, 'utf8'))).toHaveProperty('figures');
  });

  it('report --out and grid --out onto the report they read; merge --json onto a shard', async () => {
    await refused(['report', report, '--no-images', '--out', report, '--quiet'], /--out \S+r\.json is the input \S+r\.json/, [report]);
    await refused(['grid', report, '--out', report, '--model', model, '--data-dir', dir, '--quiet'], /--out \S+r\.json is the input/, [report]);
    await refused(['merge', report, '--json', report], /--json \S+r\.json is the input/, [report]);
  });

  it('eval --json x --html x: two outputs of one run on the same file', async () => {
    const x = path.join(dir, 'x');
    await writeFile(x, 'mine\n');
    await refused(['eval', '--model', model, '--data', DATA, '--eps', '0.1', '--json', x, '--html', x, '--quiet'], /--html \S+x is the same file as --json \S+x/, [x]);
  });

  it('bench --html onto its config, check --json onto its baseline, train --out onto a folder holding its data', async () => {
    const cfg = path.join(dir, 'cfg.json');
    await writeFile(cfg, '{"entries": []}\n');
    await refused(['bench', '--config', cfg, '--html', cfg, '--quiet'], /--html \S+cfg\.json is the input/, [cfg]);
    const baseline = path.join(dir, 'b.json');
    await writeFile(baseline, '{}\n');
    await refused(['check', '--baseline', baseline, '--json', baseline, '--quiet'], /--json \S+b\.json is the input/, [baseline]);
    const data = path.join(dir, 'project', 'data');
    await twoImageFolder(data);
    const png = path.join(data, '0', 'a.png');
    await refused(['train', '--arch', 'mlp', '--data', `folder:${data}`, '--epochs', '1', '--out', path.join(dir, 'project'), '--force', '--quiet'], /--out \S+project would replace a folder holding the input folder/, [png]);
  });

  it('realPathOf resolves links in the existing part of a path that does not exist yet', async () => {
    const real = await mkdtemp(path.join(tmpdir(), 'advtest-real-'));
    const link = path.join(dir, 'to-real');
    await symlink(real, link);
    await mkdir(path.join(real, 'sub'));
    expect(await realPathOf(path.join(link, 'sub', 'a', 'b.json'))).toBe(path.join(real, 'sub', 'a', 'b.json'));
    await expect(checkRunPaths({ files: [path.join(real, 'sub', 'in.json')], outputs: [{ option: '--out', path: path.join(link, 'sub', 'in.json') }] })).rejects.toBeInstanceOf(UserError);
    await expect(checkRunPaths({ files: [path.join(real, 'in.json')], outputs: [{ option: '--out', path: path.join(real, 'out.json') }] })).resolves.toBeUndefined();
  });
});
