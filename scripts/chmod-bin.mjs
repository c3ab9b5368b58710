// tsc drops the executable bit; npx needs it on the bin entry.
import { chmodSync } from 'node:fs';
chmodSync(new URL('../dist/src/cli/index.js', import.meta.url), 0o755);
