import { Command } from 'commander';
import { renderCertifyText } from '../../certify/render.js';
import { CERTIFY_FORMAT, mergeCertifyReports, type CertifyReport } from '../../certify/report.js';
import { readJsonFile } from '../../json-file.js';
import { mergeReports } from '../../harness/merge.js';
import type { Report } from '../../harness/report-types.js';
import { renderText } from '../../report/text.js';
import { writeFileSafely } from '../../report/write-file.js';
import { checkOutputFile, checkRunPaths } from '../output-path.js';
import { lockOutput } from '../../harness/output-lock.js';

export function mergeCommand(): Command {
  return new Command('merge')
    .description('combine the shard reports of one evaluation (eval --shard i/n) into the full report')
    .argument('<reports...>', 'shard reports (JSON)')
    .option('--json [file]', 'write the merged report as JSON to file (no file: JSON on stdout)')
    .action(async (files: string[], opts: { json?: boolean | string }) => {
      if (typeof opts.json === 'string') {
        await checkOutputFile(opts.json, '--json');
        await checkRunPaths({ files, outputs: [{ option: '--json', path: opts.json }] });
      }
      // Two merges writing the same --json at once: the second is refused rather than one lost.
      const release = typeof opts.json === 'string' ? lockOutput(opts.json, '--json') : undefined;
      try {
        const parsed = await Promise.all(files.map((file) => readJsonFile(file, 'give the shard reports written by eval --shard i/n --json FILE')));
        // Shards of advtest certify have their own shape and merge (src/certify/report.ts).
        const certified = parsed.length > 0 && parsed.every((r) => (r as { format?: unknown } | null)?.format === CERTIFY_FORMAT) ? mergeCertifyReports(parsed as CertifyReport[]) : undefined;
        const merged = certified ?? mergeReports(parsed, files);
        const json = JSON.stringify(merged, null, 2) + '\n';
        if (typeof opts.json === 'string') await writeFileSafely(opts.json, json);
        process.stdout.write(opts.json === true ? json : (certified ? renderCertifyText(certified) : renderText(merged as Report)) + '\n');
      } finally {
        release?.();
      }
    });
}
