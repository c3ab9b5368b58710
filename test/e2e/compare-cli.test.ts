import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/harness/report-types.js';
import { runCli } from '../helpers/cli.js';
import { writeFixtureReport } from './fixture-report.js';

describe('advtest compare', () => {
  let dir: string;
  let a: string;
  let b: string;
  let report: Report;
  beforeAll(async () => {
    ({ dir, file: a, report } = await writeFixtureReport());
    // The same run with two examples changed: one robust at ε = 0.1 under the worst case now falls, one fallen now holds.
    const changed = structuredClone(report);
    const pgd01 = changed.examples.results.find((r) => r.attack === 'pgd' && r.eps === 0.1)!;
    const ex = changed.examples;
    const robust = ex.labels.map((y, i) => ex.cleanPredictions[i] === y && pgd01.predictions[i] === y);
    const lose = robust.indexOf(true);
    const gain = robust.findIndex((ok, i) => !ok && ex.cleanPredictions[i] === ex.labels[i]);
    pgd01.predictions[lose] = (ex.labels[lose]! + 1) % 10;
    pgd01.predictions[gain] = ex.labels[gain]!;
    changed.examples.ids.reverse();
    for (const key of ['labels', 'cleanPredictions'] as const) changed.examples[key].reverse();
    for (const cell of changed.examples.results) for (const key of ['predictions', 'quantizedPredictions', 'linf', 'l2', 'attacked'] as const) cell[key].reverse();
    b = path.join(dir, 'other.json');
    await writeFile(b, JSON.stringify(changed));
  });

  it('lists the examples lost and gained against the baseline, matched by id, and writes one HTML page', async () => {
    const out = path.join(dir, 'compare.html');
    const r = await runCli('compare', a, b, '--html', out, '--json', '--quiet');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout) as { sameExamples: boolean; lostGained: { series: string; eps: number; lost: string[]; gained: string[] }[] };
    expect(json.sameExamples).toBe(true);
    const row = (series: string, eps: number) => json.lostGained.find((x) => x.series === series && x.eps === eps)!;
    expect(row('pgd', 0.1).lost).toHaveLength(1);
    expect(row('pgd', 0.1).gained).toHaveLength(1);
    expect(row('worst case', 0.1).lost).toEqual(row('pgd', 0.1).lost);
    // Reordering the examples changed nothing else: ids are matched, not positions.
    for (const x of json.lostGained.filter((x) => x.eps !== 0.1)) expect([x.lost, x.gained]).toEqual([[], []]);
    expect(row('fgsm', 0.1)).toMatchObject({ lost: [], gained: [] });
    const html = await readFile(out, 'utf8');
    for (const id of ['runs', 'curves', 'lost-gained', 'class-deltas', 'sanity']) expect(html).toContain(`<section id="${id}">`);
    expect(html).toContain(row('pgd', 0.1).lost[0]);
    // Both runs' sanity cards, in full.
    expect(html.match(/<h3>[^<]*: \d+\/\d+ passed<\/h3>/g)).toHaveLength(2);
  });

  it('refuses a single report', async () => {
    const r = await runCli('compare', a);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/compare needs at least two reports/);
  });
});
