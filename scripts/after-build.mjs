// What tsc does not do: the bin entry's executable bit (npx needs it), and the plain CommonJS
// file that the wasm backend's pthread workers run (src/backend/wasm-pthread-worker.cjs).
import { chmodSync, copyFileSync } from 'node:fs';
chmodSync(new URL('../dist/src/cli/index.js', import.meta.url), 0o755);
copyFileSync(new URL('../src/backend/wasm-pthread-worker.cjs', import.meta.url), new URL('../dist/src/backend/wasm-pthread-worker.cjs', import.meta.url));
