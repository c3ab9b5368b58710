import { existsSync } from 'node:fs';
import { Command } from 'commander';
import { UserError } from '../../errors.js';
import { parseTargetSpec } from '../../harness/targets.js';
import { recordBaseline } from '../../regression/baseline.js';
import { attackRequest } from '../../regression/spec.js';
import { renderText } from '../../report/text.js';
import type { AttackCliOptions } from '../../run/attack-options.js';
import { setup, withAttackOptions, withCommonOptions, withEvaluationOptions, type CommonOptions, type EvaluationCliOptions } from '../common.js';
import { checkOutputFile, checkRunPaths } from '../output-path.js';
import { parseEpsList, parsePositiveInt } from '../../parse.js';
import { logLine, progressBar, type Progress } from '../../run/progress.js';
import { lockOutput } from '../../harness/output-lock.js';

interface BaselineOptions extends CommonOptions, AttackCliOptions, EvaluationCliOptions {
  model: string;
  out: string;
  force?: boolean;
}

export function baselineCommand(): Command {
  // exitOverride: usage errors reach main() as CommanderError and exit with 2, not commander's 1.
  const cmd = new Command('baseline')
    .exitOverride()
    .description('record a model\'s robustness figures, per-example results and evaluation settings for `advtest check`')
    .requiredOption('--model <dir>', 'folder with model.json and weights')
    .option('--out <file>', 'the baseline file to write', 'robustness.json')
    .option('--force', 'replace an existing --out file (a baseline is often committed: it is never replaced unasked)');
  return withCommonOptions(withAttackOptions(withEvaluationOptions(cmd))).action(async (opts: BaselineOptions) => {
    // writeBaseline creates missing folders, but only after the evaluation: refuse an impossible path now.
    await checkOutputFile(opts.out, '--out', { createFolders: true });
    await checkRunPaths({ models: [opts.model], data: opts.data, folders: [opts.dataDir], outputs: [{ option: '--out', path: opts.out }] });
    if (!opts.force && existsSync(opts.out)) throw new UserError(`--out ${opts.out} already exists: pass --force to replace it, or choose another file`);
    // Two runs writing the same baseline at once: the second is refused rather than one lost.
    const release = lockOutput(opts.out, '--out');
    try {
      const { seed, quiet } = await setup(opts);
      // The number of examples is known only once the data is loaded: start the bar then.
      let bar: Progress | undefined;
      const { baseline, report } = await recordBaseline({
        modelDir: opts.model,
        data: opts.data,
        dataDir: opts.dataDir,
        split: opts.split,
        request: attackRequest(opts),
        mode: opts.mode,
        transform: opts.transform,
        epsilons: parseEpsList(opts.eps),
        limit: opts.limit === undefined ? undefined : parsePositiveInt(opts.limit, '--limit'),
        seed,
        batchSize: parsePositiveInt(opts.batchSize, '--batch-size'),
        target: parseTargetSpec(opts.targeted),
        out: opts.out,
        onNote: (line) => logLine(quiet, `note: ${line}`),
        onProgress: (p) => {
          bar ??= progressBar('evaluating', p.total, quiet);
          bar.update(p.done);
        },
      });
      bar?.stop();
      process.stdout.write(renderText(report) + '\n');
      const figures = 1 + baseline.figures.results.length + baseline.figures.worstCase.length;
      logLine(quiet, `baseline written to ${opts.out}: ${baseline.data.size} examples, ${figures} figures, config ${baseline.configHash.slice(0, 12)}`);
    } finally {
      release();
    }
  });
}
