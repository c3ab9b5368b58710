import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import writeFileAtomic from 'write-file-atomic';
import { UserError } from '../../errors.js';
import { mergeReports } from '../../harness/merge.js';
import type { Report } from '../../harness/report.js';
import { renderText } from '../../report/text.js';

interface MergeOptions {
  json?: boolean | string;
}

async function readReport(file: string): Promise<Report> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new UserError(`cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? ''}): give the shard reports written by eval --shard i/n --json FILE`);
  }
  try {
    return JSON.parse(text) as Report;
  } catch {
    throw new UserError(`${file} is not JSON: give the shard reports written by eval --shard i/n --json FILE`);
  }
}

export function mergeCommand(): Command {
  return new Command('merge')
    .description('combine the shard reports of one evaluation (eval --shard i/n) into the full report')
    .argument('<reports...>', 'shard reports (JSON)')
    .option('--json [file]', 'write the merged report as JSON to file (no file: JSON on stdout)')
    .action(async (files: string[], opts: MergeOptions) => {
      const merged = mergeReports(await Promise.all(files.map(readReport)));
      const json = JSON.stringify(merged, null, 2) + '\n';
      if (typeof opts.json === 'string') await writeFileAtomic(opts.json, json);
      process.stdout.write(opts.json === true ? json : renderText(merged) + '\n');
    });
}
