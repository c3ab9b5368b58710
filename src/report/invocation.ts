import type { Invocation } from '../harness/report-types.js';

let command: string[] | undefined;

/** Called by the CLI with its arguments (after `advtest`), so that reports can say how they were made. */
export function setInvocation(args: string[] | undefined): void {
  command = args === undefined ? undefined : [...args];
}

/** The command line that is running, or the library call when advtest is used as a library. */
export function currentInvocation(api = 'evaluate()'): Invocation {
  return {
    ...(command ? { command } : { api }),
    cwd: process.cwd(),
    platform: `${process.platform} ${process.arch}`,
  };
}

/** A shell-quoted command line: what to paste to run it again. */
export function commandLine(args: string[]): string {
  const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`);
  return ['advtest', ...args.map(quote)].join(' ');
}
