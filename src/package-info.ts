import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder holding advtest's package.json, whether running from src/ (tsx) or dist/src/. */
export function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, 'package.json');
    if (existsSync(candidate)) {
      const pkg = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string };
      if (pkg.name === 'advtest') return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('advtest package.json not found above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

export function toolVersion(): string {
  const pkg = JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/** Committed fixture models ship with the package. */
export function fixtureModelPath(name: string): string {
  return path.join(packageRoot(), 'fixtures', 'models', name);
}
