import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';

/**
 * Issue 18, item 17: `npm ci` refuses a lock file that lacks any package the manifest tree needs,
 * optional platform packages included ("Missing: @rollup/rollup-android-arm-eabi … from lock
 * file"). This is npm's check, done on the JSON: every dependency of the root and of every locked
 * package resolves (Node's lookup: nested node_modules first, then each parent) to a lock entry.
 */
interface LockEntry {
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

function resolve(packages: Record<string, LockEntry>, from: string, name: string): string | undefined {
  let dir = from;
  for (;;) {
    const candidate = `${dir ? `${dir}/` : ''}node_modules/${name}`;
    if (packages[candidate]) return candidate;
    if (dir === '') return undefined;
    const i = dir.lastIndexOf('/node_modules/');
    dir = i < 0 ? '' : dir.slice(0, i);
  }
}

describe('package-lock.json', () => {
  it('holds every package the dependency tree needs (npm ci accepts it)', async () => {
    const pkg = JSON.parse(await readFile('package.json', 'utf8')) as LockEntry;
    const lock = JSON.parse(await readFile('package-lock.json', 'utf8')) as { lockfileVersion: number; packages: Record<string, LockEntry> };
    expect(lock.lockfileVersion).toBeGreaterThanOrEqual(2);
    const root = lock.packages['']!;
    // The lock's root is the manifest's dependencies.
    expect(root.dependencies ?? {}).toEqual(pkg.dependencies ?? {});
    expect(root.devDependencies ?? {}).toEqual(pkg.devDependencies ?? {});
    const missing: string[] = [];
    for (const [where, entry] of Object.entries(lock.packages)) {
      if ((entry as { link?: boolean }).link) continue;
      const required = { ...entry.dependencies, ...entry.optionalDependencies, ...(where === '' ? entry.devDependencies : {}) };
      for (const name of Object.keys(required)) {
        if (!resolve(lock.packages, where, name)) missing.push(`${name} (needed by ${where || 'the root'})`);
      }
      for (const name of Object.keys(entry.peerDependencies ?? {})) {
        if (entry.peerDependenciesMeta?.[name]?.optional) continue;
        if (!resolve(lock.packages, where, name)) missing.push(`${name} (peer of ${where || 'the root'})`);
      }
    }
    expect(missing).toEqual([]);
  });
});
