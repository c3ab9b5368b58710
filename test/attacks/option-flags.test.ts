/**
 * Issue 14: attacks/ must not import the CLI's option table (src/run/attack-option-table.ts), yet
 * its messages tell people which flag to drop or use. Every flag they name must be one that
 * `advtest eval` or `advtest attack` declares, so that a renamed flag cannot leave a message behind.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { attackCommand } from '../../src/cli/commands/attack.js';
import { evalCommand } from '../../src/cli/commands/eval.js';

const ATTACKS = path.join(import.meta.dirname, '../../attacks');

describe('flags named by attacks/', () => {
  it('are flags of advtest eval or advtest attack', () => {
    const declared = new Set([evalCommand(), attackCommand()].flatMap((c) => c.options.map((o) => o.long)));
    const named = new Map<string, string>();
    for (const file of readdirSync(ATTACKS).filter((f) => f.endsWith('.ts'))) {
      for (const m of readFileSync(path.join(ATTACKS, file), 'utf8').matchAll(/--[a-z][a-z-]*/g)) named.set(m[0], file);
    }
    expect(named.size).toBeGreaterThan(10);
    const unknown = [...named].filter(([flag]) => !declared.has(flag));
    expect(unknown).toEqual([]);
  });
});
