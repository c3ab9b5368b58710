import { Command, Option } from 'commander';
import writeFileAtomic from 'write-file-atomic';
import { makeAttacks } from '../../../attacks/index.js';
import { UserError } from '../../errors.js';
import { parseTargetSpec } from '../../harness/targets.js';
import { runCheck, type SpecOverrides } from '../../regression/check.js';
import { TEST_NAMES, type TestName } from '../../regression/compare.js';
import { RegressionFound } from '../../regression/errors.js';
import { checkJson, regressionMessage, renderCheck, summaryLine } from '../../regression/render.js';
import { setup, withCommonOptions, type CommonOptions } from '../common.js';
import { parseEpsList, parsePositiveInt } from '../parse.js';
import { logLine, progressBar, type Progress } from '../progress.js';

interface CheckOptions extends CommonOptions {
  baseline: string;
  model?: string;
  tolerance: string;
  alpha: string;
  test: TestName;
  json?: boolean | string;
  data?: string;
  dataDir?: string;
  attack?: string;
  eps?: string;
  limit?: string;
  batchSize?: string;
  targeted?: string;
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

/** Only options the user typed constrain the check; defaults come from the baseline. */
function overrides(opts: CheckOptions, cmd: Command, seed: number): SpecOverrides {
  const given = (name: string) => cmd.getOptionValueSource(name) === 'cli';
  const o: SpecOverrides = {};
  if (opts.data !== undefined) o.data = opts.data;
  if (opts.dataDir !== undefined) o.dataDir = opts.dataDir;
  if (opts.attack !== undefined) o.attacks = makeAttacks(opts.attack);
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
    .option('--data <spec>', 'refuse unless the baseline used this data')
    .option('--data-dir <dir>', 'refuse unless the baseline used this Fashion-MNIST folder')
    .option('--attack <names>', 'refuse unless the baseline used these attacks')
    .option('--eps <list>', 'refuse unless the baseline used these budgets')
    .option('--limit <n>', 'refuse unless the baseline used this subset size')
    .option('--batch-size <n>', 'refuse unless the baseline used this batch size')
    .option('--targeted <spec>', 'refuse unless the baseline used this target');
  return withCommonOptions(cmd).action(async (opts: CheckOptions, command: Command) => {
    const { seed, quiet } = await setup(opts);
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
    if (typeof opts.json === 'string') await writeFileAtomic(opts.json, json);
    process.stdout.write(opts.json === true ? json : renderCheck(result) + '\n');
    if (!result.passed) throw new RegressionFound(regressionMessage(result));
    // The table ends with the verdict; JSON on stdout does not, so say it on stderr.
    if (opts.json === true) logLine(quiet, summaryLine(result));
  });
}
