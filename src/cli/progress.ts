import cliProgress from 'cli-progress';

export interface Progress {
  update(done: number, payload?: Record<string, string | number>): void;
  stop(): void;
}

const silent: Progress = { update: () => undefined, stop: () => undefined };

/**
 * A progress bar on stderr, shown only when both streams are terminals and --quiet is not
 * given, so that piped output and CI logs stay clean.
 */
export function progressBar(label: string, total: number, quiet: boolean, extra = ''): Progress {
  if (quiet || !process.stderr.isTTY || !process.stdout.isTTY) return silent;
  const bar = new cliProgress.SingleBar(
    { format: `${label.padEnd(18)} {bar} {percentage}% | {value}/{total} | ETA {eta_formatted}${extra}`, stream: process.stderr, hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return { update: (done, payload) => bar.update(done, payload), stop: () => bar.stop() };
}

/** One line to stderr unless quiet: logs never mix with results on stdout. */
export function logLine(quiet: boolean, line: string): void {
  if (!quiet) process.stderr.write(`${line}\n`);
}
