import { describe, expect, it } from 'vitest';
import { fixtureModelPath } from '../../src/package-info.js';
import { runCli } from '../helpers/cli.js';

/** Issue 18, item 8: what eval says about --limit and --eot, and the width of its table. */
const MODEL = fixtureModelPath('mnist-cnn');

describe('advtest eval output', () => {
  it('says how many examples it uses when --limit is more than the data holds', async () => {
    const r = await runCli('eval', '--model', MODEL, '--limit', '99999', '--eps', '0', '--workers', '1');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/note: --limit 99999 is more than the 2004 examples of mnist test: evaluating all 2004/);
    expect(r.stdout).toMatch(/data: +mnist test, 2004 examples/);
  });

  it('the terminal table fits 100 columns by default; --wide shows every column', async () => {
    const args = ['eval', '--model', MODEL, '--limit', '20', '--attack', 'fgsm,apgd-dlr', '--steps', '2', '--eps', '0.1,8/255', '--transform', 'bit-depth=5', '--bpda', '--workers', '1', '--quiet'];
    const narrow = await runCli(...args);
    expect(narrow.code, narrow.stderr).toBe(0);
    const tableLines = narrow.stdout.split('\n').filter((l) => /^[│┌└├]/.test(l));
    expect(tableLines.length).toBeGreaterThan(4);
    for (const l of tableLines) expect([...l].length, l).toBeLessThanOrEqual(100);
    expect(narrow.stdout).toMatch(/\+ apgd-dlr\+bpda/);
    const wide = await runCli(...args, '--wide');
    expect(wide.code).toBe(0);
    expect(wide.stdout).toMatch(/max L∞.*max L2/);
    // The same figures either way.
    const accuracies = (s: string) => [...s.matchAll(/(\d+\.\d%) \[/g)].map((m) => m[1]);
    expect(accuracies(narrow.stdout)).toEqual(accuracies(wide.stdout));
  });

  it('refuses --eot on a deterministic model, as --bpda without a transform is refused', async () => {
    const r = await runCli('eval', '--model', MODEL, '--limit', '10', '--attack', 'pgd', '--eot', '5', '--eps', '0.1', '--workers', '1');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^advtest: --eot 5: the model is deterministic.*multiplies the cost by 5: drop --eot, or add a randomised transform/);
    const det = await runCli('eval', '--model', MODEL, '--limit', '10', '--attack', 'pgd', '--eot', '5', '--eps', '0.1', '--transform', 'bit-depth=3', '--workers', '1');
    expect(det.code).toBe(2);
    expect(det.stderr).toMatch(/the model behind the deterministic transform bit-depth=3 is deterministic/);
    const noisy = await runCli('eval', '--model', MODEL, '--limit', '10', '--attack', 'pgd', '--steps', '2', '--eot', '2', '--eps', '0.1', '--transform', 'noise=0.1', '--workers', '1', '--quiet');
    expect(noisy.code, noisy.stderr).toBe(0);
  });
});

describe('the two front doors (issue 18, item 5)', () => {
  it('the table names the suite mode that ran, independent included', async () => {
    const base = ['eval', '--model', MODEL, '--limit', '10', '--attack', 'fgsm,fgm', '--eps', '0.1', '--workers', '1', '--quiet'];
    const sequential = await runCli(...base);
    expect(sequential.stdout).toMatch(/sequential suite \(\+\)/);
    const independent = await runCli(...base, '--mode', 'independent');
    expect(independent.code).toBe(0);
    expect(independent.stdout).toMatch(/independent attacks: each ran on every example/);
  });
});
