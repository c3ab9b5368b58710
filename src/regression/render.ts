import Table from 'cli-table3';
import { wilsonInterval } from '../harness/stats.js';
import { formatEps } from '../report/text.js';
import type { CheckedFigure, CheckResult } from './check.js';
import { TEST_DESCRIPTIONS, type Count } from './compare.js';
import { pct } from '../number-format.js';

export const CHECK_FORMAT = 'advtest-check/1';

const withInterval = (c: Count) => {
  const [lo, hi] = wilsonInterval(c.correct, c.n);
  return `${pct(c.accuracy)} [${pct(lo)}, ${pct(hi)}]`;
};
const points = (x: number) => `${x > 0 ? '+' : ''}${(x * 100).toFixed(1)} pts`;

/** p-values below 0.0001 say nothing more to a reader than "far below α". */
export function formatP(p: number): string {
  return p < 1e-4 ? '<0.0001' : p.toFixed(4);
}

export function figureLabel(f: CheckedFigure): string {
  if (f.kind === 'clean') return 'clean';
  if (f.kind === 'worst case') return 'worst case';
  return `${f.cumulative ? '+ ' : ''}${f.attack} (${f.norm})`;
}

function figureName(f: CheckedFigure): string {
  return f.eps === undefined ? figureLabel(f) : `${figureLabel(f)} ε=${formatEps(f.eps)}`;
}

const COMPACT = { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' };
const MAX_IDS = 10;

/** The examples a figure lost, capped so that a collapse does not flood the log. */
export function lostLine(f: CheckedFigure, max = MAX_IDS): string {
  const more = f.lostIds.length > max ? ` … (+${f.lostIds.length - max} more)` : '';
  return `${figureName(f)} lost: ${f.lostIds.slice(0, max).join(', ')}${more}`;
}

/** The one-line verdict: what failed, by how much, under which rule. */
export function summaryLine(result: CheckResult): string {
  const o = result.options;
  const rule = `drop > ${(o.tolerance * 100).toFixed(1)} pts and p < ${o.alpha}, ${TEST_DESCRIPTIONS[o.test]}`;
  if (result.passed) return `PASS: no figure regressed (${rule})`;
  const list = result.regressions.map((f) => `${figureName(f)} ${points(f.change)}`).join(', ');
  return `FAIL: ${result.regressions.length} regression${result.regressions.length === 1 ? '' : 's'}: ${list} (${rule})`;
}

/** One line for stderr when a check fails; the table on stdout has the details. */
export function regressionMessage(result: CheckResult): string {
  const worst = [...result.regressions].sort((a, b) => a.change - b.change)[0];
  const largest = worst ? `; largest: ${figureName(worst)} ${points(worst.change)}` : '';
  const weights = result.weightsDiffer ? "; note: the model's weights differ from the baseline's (retrained or replaced since it was recorded)" : '';
  return `regression: ${result.regressions.length} of ${result.figures.length} figures dropped by more than ${(result.options.tolerance * 100).toFixed(1)} pts with p < ${result.options.alpha}${largest}${weights}`;
}

/** Before/after/change/verdict per figure, then the lost examples of each regression. */
export function renderCheck(result: CheckResult): string {
  const b = result.baseline;
  const lines: string[] = [];
  lines.push(`baseline: ${result.baselinePath} (${b.createdAt.slice(0, 10)}, ${b.backend.name}, seed ${b.evaluation.seed}, config ${b.configHash.slice(0, 12)})`);
  lines.push(`model:    ${result.model}`);
  lines.push(`data:     ${b.data.name} ${b.data.split}, ${b.data.size} examples${b.data.subset ? ` (${b.data.subset})` : ''}, the baseline's own`);
  const table = new Table({
    head: ['figure', 'ε', 'before [95% CI]', 'after [95% CI]', 'change', 'lost', 'gained', 'p', 'verdict'],
    style: { head: [], border: [] },
    chars: COMPACT,
  });
  for (const f of result.figures) {
    table.push([
      figureLabel(f),
      f.eps === undefined ? '' : formatEps(f.eps),
      withInterval(f.before),
      withInterval(f.after),
      points(f.change),
      String(f.lost),
      String(f.gained),
      formatP(f.pValue),
      f.verdict === 'regression' ? 'REGRESSION' : f.verdict,
    ]);
  }
  lines.push(table.toString());
  if (result.figures.some((f) => f.cumulative)) lines.push('sequential suite: a "+" row is the robust accuracy after that attack and all before it');
  for (const f of result.figures.filter((x) => x.verdict === 'regression')) lines.push(lostLine(f));
  for (const note of result.notes) lines.push(`note: ${note}`);
  lines.push(summaryLine(result));
  return lines.join('\n');
}

/** The check for machines: the same figures, no report (its size is the baseline's business). */
export function checkJson(result: CheckResult): Record<string, unknown> {
  return {
    format: CHECK_FORMAT,
    passed: result.passed,
    baseline: result.baselinePath,
    configHash: result.baseline.configHash,
    model: result.model,
    tolerance: result.options.tolerance,
    alpha: result.options.alpha,
    test: result.options.test,
    figures: result.figures.map((f) => ({
      kind: f.kind,
      ...(f.attack !== undefined ? { attack: f.attack, norm: f.norm } : {}),
      ...(f.eps !== undefined ? { eps: f.eps } : {}),
      before: f.before,
      after: f.after,
      change: f.change,
      lost: f.lost,
      gained: f.gained,
      pValue: f.pValue,
      verdict: f.verdict,
      lostIds: f.lostIds,
    })),
    notes: result.notes,
    backend: result.report.backend,
  };
}
