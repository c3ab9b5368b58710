import { buildHtml } from '../../report/build-html.js';
import { renderMarkdown } from '../../report/markdown.js';
import { regressionTableFromCheck } from '../../report/regression-table.js';
import { Command, Option } from 'commander';
import { UserError } from '../../errors.js';
import { parseTargetSpec } from '../../harness/targets.js';
import { runCheck, type SpecOverrides } from '../../regression/check.js';
import { TEST_NAMES, type TestName } from '../../regression/compare.js';
import { RegressionFound } from '../../regression/errors.js';
import { checkJson, regressionMessage, renderCheck, summaryLine } from '../../regression/render.js';
import { attackRequest } from '../../regression/spec.js';
import type { AttackCliOptions } from '../../run/attack-options.js';
import { ATTACK_OPTION_TABLE } from '../../run/attack-option-table.js';
import { setup, withAttackOptions, withCommonOptions, type CommonOptions, type EvaluationCliOptions } from '../common.js';
import { checkOutputFile, checkRunPaths } from '../output-path.js';
import { writeFileSafely } from '../../report/write-file.js';
import { baselineModelDir } from '../../regression/store.js';
import { parseEpsList, parsePositiveInt } from '../../parse.js';
import { logLine, progressBar, type Progress } from '../../run/progress.js';
import { lockOutput } from '../../harness/output-lock.js';
import type { EvalOptions } from './eval.js';

interface CheckOptions extends Omit<CommonOptions, 'seed'>, Omit<AttackCliOptions, 'attack'>, Partial<Omit<EvaluationCliOptions, 'split'>>, Pick<EvalOptions, 'json' | 'html' | 'md' | 'wide'> {
  /** Absent unless given (these and the evaluation options): the baseline's are the defaults. */
  seed?: string;
  attack?: string;
  baseline: string;
  model?: string;
  tolerance: string;
  alpha: string;
  test: TestName;
}

/**
 * An accuracy drop: "1%" or "1pt" (percentage points) or a fraction "0.01". A bare number ≥ 1
 * is refused rather than guessed: "2" could mean 2 points or 200%.
 */
export function parseTolerance(text: string, option = '--tolerance'): number {
  const t = text.trim();
  const m = /^(\d+(?:\.\d+)?|\.\d+)\s*(%|pts?)?$/.exec(t);
  if (!m) throw new UserError(`${option} "${text}" is not a drop in accuracy: write 1% (one point) or 0.01`);
  const value = m[2] ? Number(m[1]) / 100 : Number(m[1]);
  if (value >= 1) throw new UserError(`${option} ${text} is 100% or more: write 2% or 0.02 for two points`);
  return value;
}

export function parseAlpha(text: string): number {
  const n = Number(text);
  if (!(text.trim() !== '' && n > 0 && n < 1)) throw new UserError(`--alpha "${text}" must be a significance level between 0 and 1, e.g. 0.05`);
  return n;
}

const ATTACK_OPTIONS = ['attack', ...ATTACK_OPTION_TABLE.map((row) => row.name)];

/**
 * Only options the user typed constrain the check; everything else comes from the baseline.
 * Attack options given without --attack apply to the baseline's own attacks.
 */
function overrides(opts: CheckOptions, cmd: Command, seed: number): SpecOverrides {
  const given = (name: string) => cmd.getOptionValueSource(name) === 'cli';
  const o: SpecOverrides = {};
  if (ATTACK_OPTIONS.some(given)) {
    const { attack, ...rest } = attackRequest({ ...opts, attack: opts.attack ?? '' });
    o.request = opts.attack !== undefined ? { attack, ...rest } : rest;
  }
  if (opts.mode !== undefined) o.mode = opts.mode;
  if (opts.transform !== undefined) o.transform = opts.transform;
  if (opts.data !== undefined) o.data = opts.data;
  if (opts.dataDir !== undefined) o.dataDir = opts.dataDir;
  if (opts.eps !== undefined) o.epsilons = parseEpsList(opts.eps);
  if (opts.limit !== undefined) o.limit = parsePositiveInt(opts.limit, '--limit');
  if (opts.batchSize !== undefined) o.batchSize = parsePositiveInt(opts.batchSize, '--batch-size');
  if (opts.targeted !== undefined) o.target = parseTargetSpec(opts.targeted);
  if (given('seed')) o.seed = seed;
  return o;
}

export function checkCommand(): Command {
  // exitOverride: commander's own exit code for a usage error is 1, which here means "regression".
  const cmd = new Command('check')
    .exitOverride()
    .description('re-run a baseline\'s evaluation and fail (exit 1) when a figure dropped by more than the tolerance, significantly')
    .requiredOption('--baseline <file>', 'the file written by `advtest baseline`')
    .option('--model <dir>', 'the model to check (default: the baseline\'s own model)')
    .option('--tolerance <drop>', 'largest accepted accuracy drop: 1% (one point) or 0.01', '1%')
    .option('--alpha <level>', 'significance level of the one-sided test', '0.05')
    .addOption(new Option('--test <name>', 'paired: exact McNemar on the same examples; unpaired: two-proportion z-test').choices([...TEST_NAMES]).default('paired'))
    .option('--json [file]', 'write the comparison as JSON to file (no file: JSON on stdout)')
    .option('--html <file>', 'also write a self-contained HTML page with the comparison and the new curves')
    .option('--md', 'print the comparison as GitHub-flavoured Markdown (for pull-request comments)')
    .option('--wide', 'every column in the terminal table (95% intervals, each row\'s norm) and the per-class tables whatever their size, one per attack too; by default they fit 100 columns')
    .option('--data <spec>', 'refuse unless the baseline used this data')
    .option('--data-dir <dir>', 'refuse unless the baseline used this Fashion-MNIST folder')
    .option('--transform <spec>', 'refuse unless the baseline used this input transform')
    .option('--eps <list>', 'refuse unless the baseline used these budgets')
    .option('--limit <n>', 'refuse unless the baseline used this subset size')
    .option('--batch-size <n>', 'refuse unless the baseline used this batch size')
    .option('--targeted <spec>', 'refuse unless the baseline used this target');
  // The attack options (--attack, --steps, …, --mode) and --seed likewise refuse a baseline
  // built otherwise; their defaults are the baseline's, not those of eval.
  withCommonOptions(withAttackOptions(cmd));
  const fromBaseline: Record<string, string> = {
    '--attack': 'refuse unless the baseline used these attacks (a suite or a preset)',
    '--seed': 'refuse unless the baseline used this seed',
  };
  for (const option of cmd.options) {
    const description = option.long === undefined ? undefined : fromBaseline[option.long];
    if (description === undefined) continue;
    option.defaultValue = undefined;
    option.description = description;
    // Commander stored the default when the option was added; take it back.
    cmd.setOptionValue(option.attributeName(), undefined);
  }
  return cmd.action(async (opts: CheckOptions, command: Command) => {
    // Before the re-run: a path that cannot be written must not fail the check at its very end.
    if (typeof opts.json === 'string') await checkOutputFile(opts.json, '--json');
    if (opts.html !== undefined) await checkOutputFile(opts.html, '--html');
    await checkRunPaths({
      models: [opts.model ?? (await baselineModelDir(opts.baseline))],
      ...(opts.data !== undefined ? { data: opts.data } : {}),
      folders: [opts.dataDir],
      files: [opts.baseline],
      outputs: [
        { option: '--json', path: opts.json },
        { option: '--html', path: opts.html },
      ],
    });
    // Two runs writing the same --json at once: the second is refused rather than one lost.
    const release = typeof opts.json === 'string' ? lockOutput(opts.json, '--json') : undefined;
    try {
      const { seed, quiet } = await setup({ ...opts, seed: opts.seed ?? '0' });
      const tolerance = parseTolerance(opts.tolerance);
      const alpha = parseAlpha(opts.alpha);
      let bar: Progress | undefined;
      const result = await runCheck({
        baseline: opts.baseline,
        model: opts.model,
        overrides: overrides(opts, command, seed),
        compare: { tolerance, alpha, test: opts.test },
        onProgress: (p) => {
          bar ??= progressBar('checking', p.total, quiet);
          bar.update(p.done);
        },
      });
      bar?.stop();
      const json = JSON.stringify(checkJson(result), null, 2) + '\n';
      if (typeof opts.json === 'string') await writeFileSafely(opts.json, json);
      if (opts.html !== undefined) {
        await writeFileSafely(opts.html, await buildHtml({ regression: regressionTableFromCheck(result), report: result.report }));
      }
      process.stdout.write(opts.json === true ? json : opts.md ? renderMarkdown({ regression: regressionTableFromCheck(result), report: result.report }) : renderCheck(result, { wide: opts.wide === true }) + '\n');
      if (!result.passed) throw new RegressionFound(regressionMessage(result));
      // The table ends with the verdict; JSON on stdout does not, so say it on stderr.
      if (opts.json === true) logLine(quiet, summaryLine(result));
    } finally {
      release?.();
    }
  });
}
