import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runChild } from '../helpers/child.js';

/**
 * Issue 18, item 4: what a person sees in a terminal. Each command runs under a pseudo-terminal
 * (util-linux `script`), and the assertions are on the screen text: ANSI codes removed and
 * carriage returns taken as line breaks, as the successive states of the bar.
 */
// `node --import tsx`, not the tsx binary (which wraps the CLI in a second node process).
const CLI = `${process.execPath} --import tsx ${path.resolve('src/cli/index.ts')}`;

/**
 * A small terminal: characters overwrite at the cursor; \r and ESC[nG move it, ESC[2K / ESC[0K
 * clear, ESC[nA / ESC[nB move up and down. Returns every state a line showed before it was
 * rewritten, then the final screen: what a person saw, one line per state.
 */
function screenStates(output: string): string[] {
  const lines: string[][] = [[]];
  const seen: string[] = [];
  let row = 0;
  let col = 0;
  const line = () => (lines[row] ??= []);
  const snapshot = () => seen.push(line().join('').trimEnd());
  // eslint-disable-next-line no-control-regex
  const tokens = output.match(/\x1b\[[0-9;?]*[A-Za-z]|\r|\n|[^\x1b\r\n]/gu) ?? [];
  for (const t of tokens) {
    if (t === '\n') {
      row++;
      col = 0;
      line();
    } else if (t === '\r') {
      snapshot();
      col = 0;
    } else if (t.startsWith('\x1b[')) {
      const n = Number(t.slice(2, -1)) || 0;
      const op = t.at(-1);
      if (op === 'G') {
        snapshot();
        col = Math.max(0, n - 1);
      } else if (op === 'K') {
        snapshot();
        if (n === 2) lines[row] = [];
        else line().length = Math.min(line().length, col);
      } else if (op === 'A') row = Math.max(0, row - Math.max(1, n));
      else if (op === 'B') row += Math.max(1, n);
    } else {
      const l = line();
      while (l.length < col) l.push(' ');
      l[col++] = t;
    }
  }
  return [...seen, ...lines.map((l) => l.join('').trimEnd())].filter((l) => l.trim().length > 0);
}

async function inTerminal(command: string): Promise<{ status: number | null; screen: string[] }> {
  const r = await runChild('script', ['-qfec', command, '/dev/null'], { timeout: 280_000, env: { ...process.env, COLUMNS: '160' } });
  return { status: r.status, screen: screenStates(r.stdout) };
}

function checkBar(lines: string[]): void {
  const bars = lines.filter((l) => /^evaluating\s/.test(l));
  expect(bars.length).toBeGreaterThan(2);
  for (const l of bars) {
    expect(l).not.toMatch(/\{\w+\}|NaN|Infinity|NFs/);
    expect(l).toMatch(/ETA (\d+[smh]|…)/);
  }
  // Rate and ETA in seconds once something is done; the phase is named.
  expect(bars.some((l) => /ETA \d+s \| \d+\/\d+ attacks, \d+(\.\d+)?\/s/.test(l))).toBe(true);
  expect(bars.some((l) => /pgd ε=0\.1/.test(l))).toBe(true);
  // Below the whole: it moves before the first batch of examples is finished (sub-batch progress).
  expect(bars.some((l) => /[1-9]\d*% .*\d+\/\d+ attacks.* 0\/\d+ examples done/.test(l))).toBe(true);
}

// Concurrent: four CLI runs, each in its own pseudo-terminal, two cores; slower runs only show more states.
describe('progress in a terminal', { timeout: 300_000, concurrent: true }, () => {
  it('eval: a bar with rate, ETA and phase, moving within a batch', async () => {
    const r = await inTerminal(`${CLI} eval --model fixtures/models/mnist-cnn --limit 200 --attack fgsm,pgd --steps 5 --eps 0.1 --workers 1`);
    expect(r.status).toBe(0);
    checkBar(r.screen);
  });

  it('eval --workers 2: the same, with the workers named', async () => {
    const r = await inTerminal(`${CLI} eval --model fixtures/models/mnist-cnn --limit 300 --attack fgsm,pgd --steps 5 --eps 0.1 --workers 2 --batch-size 50`);
    expect(r.status).toBe(0);
    checkBar(r.screen);
    expect(r.screen.some((l) => /\(2 workers\)/.test(l))).toBe(true);
  });

  it('stdout redirected, stderr a terminal: plain progress lines on stderr', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'advtest-tty-'));
    const out = path.join(dir, 'table.txt');
    const r = await inTerminal(`${CLI} eval --model fixtures/models/mnist-cnn --limit 300 --attack fgsm,pgd --steps 10 --eps 0.1,0.2 --workers 1 > ${out}`);
    expect(r.status).toBe(0);
    const plain = r.screen.filter((l) => /^evaluating: \d+% \(\d+\/\d+ attacks(, [\d.]+\/s)?\) \| ETA/.test(l));
    expect(plain.length, r.screen.join('\n')).toBeGreaterThan(0);
    for (const l of plain) expect(l).not.toMatch(/\{\w+\}|NaN|Infinity|█|░/);
    expect(r.screen.some((l) => /^evaluating: done \(1200\/1200\)/.test(l))).toBe(true);
    expect(await readFile(out, 'utf8')).toMatch(/clean accuracy/);
  });

  it('train: the epoch line is printed whole above the bar, not into it', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'advtest-tty-'));
    const r = await inTerminal(`${CLI} train --arch mlp --epochs 1 --defense fgsm-at --holdout 100 --monitor-steps 2 --out ${path.join(dir, 'm')}`);
    expect(r.status, r.screen.join('\n')).toBe(0);
    const epoch = r.screen.filter((l) => /epoch 1\/1:/.test(l));
    expect(epoch.length).toBeGreaterThan(0);
    for (const l of epoch) {
      expect(l).toMatch(/^epoch 1\/1: loss [\d.]+, train acc [\d.]+%, held-out clean [\d.]+%, pgd ε=0\.1 [\d.]+% \(n=100\)$/);
    }
    for (const l of r.screen.filter((x) => /^training\s/.test(x))) expect(l).not.toMatch(/\{\w+\}|NaN|NFs/);
  });
});
