/**
 * The browser build (npm run build:browser):
 *  - dist/browser/advtest.js — the library for bundlers and pages (ESM). @tensorflow/tfjs and
 *    @tensorflow/tfjs-backend-wasm stay external: a page or app has exactly one tfjs engine, and a
 *    second copy inside our bundle would register its own backends and kernels where the app's
 *    tensors cannot see them (tfjs's own advice for libraries). The app's bundler resolves them.
 *  - dist/playground/ — the `advtest serve` page: playground/app.ts with tfjs bundled in (the page
 *    loads nothing from any other origin), index.html, and the wasm binaries.
 * Node-bound modules are swapped for browser stand-ins (src/browser/substitutes.ts); advtest's own
 * modules that use Node's `process` or `setImmediate` get src/browser/node-globals.ts's instead.
 */
import { copyFileSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';
import { BROWSER_SUBSTITUTES } from '../src/browser/substitutes.js';

export const ROOT = path.resolve(import.meta.dirname, '..');
const version = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const NODE_BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/** Redirects the modules of BROWSER_SUBSTITUTES. */
function substitutes(): esbuild.Plugin {
  const byPath = new Map(Object.entries(BROWSER_SUBSTITUTES).map(([from, to]) => [from.startsWith('node:') ? from : path.join(ROOT, from), path.join(ROOT, to)]));
  return {
    name: 'advtest-browser-substitutes',
    setup(build) {
      // Node's globals for advtest's own modules only: a global `process` would make tfjs and
      // emscripten's glue believe they run in Node.
      const globals = path.join(ROOT, 'src/browser/node-globals.ts');
      build.onLoad({ filter: /\.ts$/ }, async (args) => {
        if (args.path.includes(`${path.sep}node_modules${path.sep}`) || args.path === globals) return undefined;
        const text = await readFile(args.path, 'utf8');
        const used = ['process', 'setImmediate'].filter((g) => new RegExp(`(?<![.\\w])${g}\\b`).test(text.replace(/^\s*(\/\/|\*).*$/gm, '')));
        if (used.length === 0) return undefined;
        return { contents: `import { ${used.join(', ')} } from ${JSON.stringify(globals)};\n${text}`, loader: 'ts' };
      });
      build.onResolve({ filter: /.*/ }, (args) => {
        const bare = byPath.get(args.path);
        if (bare) return { path: bare };
        if (!args.path.startsWith('.')) return undefined;
        const target = path.resolve(args.resolveDir, args.path.replace(/\.js$/, '.ts'));
        const to = byPath.get(target);
        return to ? { path: to } : undefined;
      });
    },
  };
}

/**
 * Node built-ins the bundle still imports, from esbuild's metafile: none may remain. (A dependency
 * whose package.json maps one to `false` for browsers — seedrandom's optional crypto — is resolved
 * to an empty "(disabled)" module by esbuild and imports nothing.)
 */
export function nodeBuiltinImports(meta: esbuild.Metafile): string[] {
  const found: string[] = [];
  for (const [file, input] of Object.entries(meta.inputs)) {
    if (NODE_BUILTINS.has(file)) found.push(file);
    for (const imp of input.imports) if (NODE_BUILTINS.has(imp.path)) found.push(`${imp.path} (imported by ${file})`);
  }
  return found;
}

export function libraryOptions(): esbuild.BuildOptions {
  return {
    entryPoints: [path.join(ROOT, 'src/browser.ts')],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    minify: true,
    sourcemap: true,
    external: ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-webgpu'],
    define: { __ADVTEST_VERSION__: JSON.stringify(version) },
    plugins: [substitutes()],
    metafile: true,
    logLevel: 'silent',
  };
}

export function playgroundOptions(): esbuild.BuildOptions {
  return {
    ...libraryOptions(),
    entryPoints: [path.join(ROOT, 'playground/app.ts')],
    // Only the optional webgpu backend stays out: the page has no bundler behind it.
    external: ['@tensorflow/tfjs-backend-webgpu'],
    sourcemap: false,
  };
}

export const PLAYGROUND_DIR = path.join(ROOT, 'dist/playground');
const WASM_FILES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'];

/** Builds both; returns the library bundle's size and gzip size in bytes. */
export async function buildBrowser(): Promise<{ file: string; bytes: number; gzip: number }> {
  const file = path.join(ROOT, 'dist/browser/advtest.js');
  const lib = await esbuild.build({ ...libraryOptions(), outfile: file });
  const page = await esbuild.build({ ...playgroundOptions(), outfile: path.join(PLAYGROUND_DIR, 'app.js') });
  const seen = [...nodeBuiltinImports(lib.metafile!), ...nodeBuiltinImports(page.metafile!)];
  if (seen.length > 0) throw new Error(`the browser build imports Node built-ins: ${seen.join(', ')}`);
  copyFileSync(path.join(ROOT, 'playground/index.html'), path.join(PLAYGROUND_DIR, 'index.html'));
  const wasmDir = path.join(ROOT, 'node_modules/@tensorflow/tfjs-backend-wasm/dist');
  mkdirSync(PLAYGROUND_DIR, { recursive: true });
  for (const w of WASM_FILES) copyFileSync(path.join(wasmDir, w), path.join(PLAYGROUND_DIR, w));
  return { file, bytes: statSync(file).size, gzip: gzipSync(readFileSync(file)).length };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { file, bytes, gzip } = await buildBrowser();
  console.log(`${path.relative(ROOT, file)}: ${(bytes / 1024).toFixed(1)} KiB, ${(gzip / 1024).toFixed(1)} KiB gzip (tfjs external); playground in ${path.relative(ROOT, PLAYGROUND_DIR)}/`);
}
