import { createHash as nodeCreateHash } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';
import { describe, expect, it } from 'vitest';
import { libraryOptions, nodeBuiltinImports } from '../../scripts/build-browser.js';
import { createHash } from '../../src/browser/node-crypto.js';

describe('the browser build', () => {
  it('bundles src/browser.ts for platform=browser with no Node built-in left, and says how big it is', async () => {
    const r = await esbuild.build({ ...libraryOptions(), write: false, outfile: 'advtest.js', sourcemap: false });
    expect(r.errors).toEqual([]);
    expect(nodeBuiltinImports(r.metafile!)).toEqual([]);
    const js = r.outputFiles!.find((f) => f.path.endsWith('advtest.js'))!.contents;
    const gzip = gzipSync(js).length;
    console.log(`dist/browser/advtest.js: ${(js.length / 1024).toFixed(1)} KiB, ${(gzip / 1024).toFixed(1)} KiB gzip (tfjs external)`);
    // The harness, all attacks and the loaders; a jump (a renderer or codec pulled in) should be a decision.
    expect(gzip).toBeLessThan(80 * 1024);
    // The substitutes are what make it browser-safe: the same bundle without them fails on node:crypto & co.
    await expect(esbuild.build({ ...libraryOptions(), plugins: [], write: false, outfile: 'advtest.js' })).rejects.toThrow(/node:crypto|node:os|node:fs/);
  });

  it('names a Node built-in that reaches the bundle as an external import', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'advtest-bundle-'));
    const entry = path.join(dir, 'entry.ts');
    await writeFile(entry, "import { readFileSync } from 'node:fs';\nexport const f = readFileSync;\n");
    const r = await esbuild.build({ entryPoints: [entry], bundle: true, platform: 'browser', format: 'esm', external: ['node:fs'], write: false, metafile: true, logLevel: 'silent' });
    expect(nodeBuiltinImports(r.metafile!)).toEqual([`node:fs (imported by ${path.relative(process.cwd(), entry)})`]);
  });

  it("hashes as node:crypto does (config hashes, seeds and fingerprints agree across platforms)", () => {
    const bytes = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i));
    const view = new Int32Array(new Int32Array([7, 1, 2, 3, 4]).buffer, 4, 3);
    const ours = createHash('sha256').update('{"a":1}').update(bytes).update(view);
    const node = nodeCreateHash('sha256').update('{"a":1}').update(bytes).update(view);
    expect(ours.digest('hex')).toBe(node.digest('hex'));
    expect(createHash('sha256').update('fgsm').digest().readUInt32BE(0)).toBe(nodeCreateHash('sha256').update('fgsm').digest().readUInt32BE(0));
    expect(() => createHash('md5')).toThrow(/md5.*sha256/);
  });
});
