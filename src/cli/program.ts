import { Command, CommanderError } from 'commander';
import { IntegrityError, UserError } from '../errors.js';
import { toolVersion } from '../package-info.js';
import { RegressionFound } from '../regression/errors.js';
import { attackCommand } from './commands/attack.js';
import { baselineCommand } from './commands/baseline.js';
import { checkCommand } from './commands/check.js';
import { compareCommand } from './commands/compare.js';
import { certifyCommand } from './commands/certify.js';
import { demoCommand } from './commands/demo.js';
import { evalCommand } from './commands/eval.js';
import { gridCommand } from './commands/grid.js';
import { leaderboardCommand } from './commands/leaderboard.js';
import { reportCommand } from './commands/report.js';
import { mergeCommand } from './commands/merge.js';
import { serveCommand } from './commands/serve.js';
import { trainCommand } from './commands/train.js';
import { forSingleAttack } from './common.js';
import { examplesText } from './examples.js';
import { closestOption } from './suggest.js';
import { setInvocation } from '../report/invocation.js';

const FS_REASONS: Record<string, string> = {
  ENOENT: 'no such file or folder',
  ENOTDIR: 'part of the path is a file, not a folder',
  EISDIR: 'it is a folder',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
};

/**
 * A file-system refusal on a path (a missing or read-only folder, a file where a folder should be,
 * a full disk) is about the user's paths or machine, not a bug: one line and exit 2, never a stack.
 * Commands check their outputs up front; this catches what they cannot foresee.
 */
function fileSystemProblem(err: unknown): string | undefined {
  const e = err as NodeJS.ErrnoException;
  if (!(err instanceof Error) || typeof e.path !== 'string' || typeof e.code !== 'string') return undefined;
  const reason = FS_REASONS[e.code];
  if (reason === undefined) return undefined;
  return `cannot ${e.syscall ?? 'access'} ${e.path} (${e.code}: ${reason}): check the path and its permissions, or choose another`;
}

let pipeGuard = false;

/**
 * `advtest … | head`: once the reader has gone, further writes fail with EPIPE. The reader has
 * what it wanted, so the run ends quietly (exit 0) instead of with Node's unhandled-error trace.
 */
function endQuietlyOnClosedPipe(): void {
  if (pipeGuard) return;
  pipeGuard = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(0);
      throw err;
    });
  }
}

/** Commander's messages in advtest's style: `advtest: …` on one line, the suggestion on it too. */
function oneLineError(text: string): string {
  return `${text
    .trimEnd()
    .replace(/^error: /, 'advtest: ')
    .replace(/\n\(Did you mean (.+)\?\)$/, ': did you mean $1?')
    .replace(/\n/g, ' ')}\n`;
}

/**
 * Commander suggests by edit distance among the options of the command and its parents, so a
 * mistyped `--epsilon` got `--version`; advtest suggests the command's own option that the
 * mistyped one starts with (or is close to), e.g. --eps, and points at the command's help.
 */
function suggestCloseOptions(cmd: Command): void {
  const patched = cmd as unknown as { unknownOption(flag: string): void };
  patched.unknownOption = (flag: string) => {
    const longs = cmd.options.map((o) => o.long).filter((l): l is string => l !== undefined);
    const close = closestOption(flag, [...longs, '--help']);
    const hint = close !== undefined ? `: did you mean ${close}?` : '';
    const help = cmd.parent ? `advtest ${cmd.name()} --help` : 'advtest --help';
    cmd.error(`error: unknown option '${flag}'${hint} (${help} lists the options)`, {
      code: 'commander.unknownOption',
      exitCode: 2,
    });
  };
}

/** Exit codes: 0 success, 1 regression found (check), 2 usage or input error, 3 internal error. */
export async function main(argv: string[]): Promise<number> {
  endQuietlyOnClosedPipe();
  const program = new Command('advtest')
    .description('adversarial robustness testbed for TensorFlow.js models')
    .version(toolVersion())
    .exitOverride()
    .addCommand(demoCommand())
    .addCommand(trainCommand())
    .addCommand(evalCommand())
    .addCommand(attackCommand())
    .addCommand(certifyCommand())
    .addCommand(mergeCommand())
    .addCommand(baselineCommand())
    .addCommand(checkCommand())
    .addCommand(leaderboardCommand())
    .addCommand(reportCommand())
    .addCommand(compareCommand())
    .addCommand(gridCommand())
    .addCommand(serveCommand());
  // Usage errors in any subcommand come back here (exit 2), never commander's process.exit(1),
  // since 1 means "regression found".
  for (const sub of program.commands) sub.exitOverride();
  // advtest attack writes one image per input: no suites, presets or --mode in its help.
  const attack = program.commands.find((c) => c.name() === 'attack');
  if (attack) forSingleAttack(attack);
  for (const cmd of [program, ...program.commands]) {
    const examples = examplesText(cmd === program ? 'advtest' : cmd.name());
    if (examples !== undefined) cmd.addHelpText('after', examples);
    cmd.configureOutput({ outputError: (text, write) => write(oneLineError(text)) });
    suggestCloseOptions(cmd);
  }
  try {
    // Reports record the command that made them (provenance).
    setInvocation(argv.slice(2));
    try {
      await program.parseAsync(argv);
    } finally {
      setInvocation(undefined);
    }
    return 0;
  } catch (err) {
    // Help and version exit with 0; commander has already printed its message.
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    const fail = (message: string, code: number) => {
      process.stderr.write(`advtest: ${message}\n`);
      return code;
    };
    if (err instanceof RegressionFound) return fail(err.message, 1);
    if (err instanceof UserError) return fail(err.message, 2);
    const fsProblem = fileSystemProblem(err);
    if (fsProblem !== undefined) return fail(fsProblem, 2);
    if (err instanceof IntegrityError) return fail(`internal check failed: ${err.message}`, 3);
    return fail(`internal error: ${(err as Error).stack ?? String(err)}`, 3);
  }
}

