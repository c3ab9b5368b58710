import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// The layering rules of issue 14, read from the import graph of the production code (type-only
// imports included: they tie the layers as much as value imports do).
const ROOT = path.resolve(import.meta.dirname, '../..');
const TREES = ['src', 'attacks', 'defenses'];

function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(rel);
    return /\.(ts|mts|mjs)$/.test(e.name) && !e.name.endsWith('.d.ts') ? [rel] : [];
  });
}

/** Module (repository-relative path) → the repository modules it imports, found by TypeScript's own scanner. */
export function importGraph(): Map<string, string[]> {
  const files = TREES.flatMap(sourceFiles);
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const info = ts.preProcessFile(readFileSync(path.join(ROOT, file), 'utf8'), true, true);
    const targets = info.importedFiles
      .map((f) => f.fileName)
      .filter((spec) => spec.startsWith('.'))
      .map((spec) => {
        const resolved = path.join(path.dirname(file), spec);
        const candidates = [resolved, resolved.replace(/\.js$/, '.ts'), resolved.replace(/\.mjs$/, '.mts')];
        const hit = candidates.find((c) => known.has(c));
        if (!hit) throw new Error(`${file} imports ${spec}, which is not a module of ${TREES.join(', ')}`);
        return hit;
      });
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/** The import cycles: strongly connected components of more than one module, or a module importing itself (Tarjan). */
export function importCycles(graph: Map<string, string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return cycles;
}

/** Every module `from` reaches through imports, with the chain that reaches it first. */
function reachable(graph: Map<string, string[]>, from: string): Map<string, string[]> {
  const chains = new Map<string, string[]>([[from, [from]]]);
  const queue = [from];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of graph.get(v) ?? []) {
      if (!chains.has(w)) {
        chains.set(w, [...chains.get(v)!, w]);
        queue.push(w);
      }
    }
  }
  return chains;
}

const inside = (dir: string) => (file: string) => file.startsWith(`${dir}/`);

describe('import rules (issue 14)', () => {
  const graph = importGraph();

  it('reads the graph: every relative import resolves to a module of src/, attacks/ or defenses/', () => {
    expect(graph.size).toBeGreaterThan(100);
    expect(graph.get('src/cli/index.ts')).toContain('src/cli/program.ts');
  });

  it('no module outside src/cli/ imports src/cli/', () => {
    const offenders = [...graph].flatMap(([file, targets]) => (inside('src/cli')(file) ? [] : targets.filter(inside('src/cli')).map((t) => `${file} → ${t}`)));
    expect(offenders).toEqual([]);
  });

  it('no import cycles', () => {
    expect(importCycles(graph)).toEqual([]);
  });

  it('attacks/ and defenses/ never reach src/harness/, src/run/ or src/cli/, not even through other modules', () => {
    const above = ['src/harness', 'src/run', 'src/cli', 'src/leaderboard', 'src/regression'].map(inside);
    const offenders = [...graph.keys()]
      .filter((f) => inside('attacks')(f) || inside('defenses')(f))
      .flatMap((f) => [...reachable(graph, f)].filter(([target]) => above.some((is) => is(target))).map(([, chain]) => chain.join(' → ')));
    expect(offenders).toEqual([]);
  });

  it('finds a cycle and a reach into the CLI when there is one (the checks can fail)', () => {
    const bad = new Map([
      ['src/a.ts', ['src/b.ts']],
      ['src/b.ts', ['src/cli/c.ts', 'src/a.ts']],
      ['src/cli/c.ts', []],
    ]);
    expect(importCycles(bad)).toEqual([['src/a.ts', 'src/b.ts']]);
    expect([...reachable(bad, 'src/a.ts').keys()]).toContain('src/cli/c.ts');
  });
});
