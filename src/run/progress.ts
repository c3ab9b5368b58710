import cliProgress from 'cli-progress';

export interface Progress {
  /** `done` units of the total; payload fills the `{name}` placeholders of the bar's extra text. */
  update(done: number, payload?: Record<string, string | number>): void;
  stop(): void;
}

export interface ProgressOptions {
  /** What is counted, for the rate: "steps", "attacks" (one example under one attack at one ε). */
  unit?: string;
  /** Seconds between the plain lines written when stderr is a terminal but stdout is not. */
  interval?: number;
}

const silent: Progress = { update: () => undefined, stop: () => undefined };

/** The bar (or periodic reporter) on screen now: log lines go above it instead of into it. */
let active: { log(line: string): void } | undefined;

/** 75 → "1m15s", 4000 → "1h06m"; undefined when not known yet. */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '…';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function formatRate(perSecond: number): string {
  return perSecond >= 100 ? perSecond.toFixed(0) : perSecond >= 10 ? perSecond.toFixed(1) : perSecond.toFixed(2);
}

/**
 * Rate and ETA from the units done in this run since the first update (units a resumed run found
 * done count toward the percentage, not toward the rate). Unknown until a unit is done.
 */
class Meter {
  private readonly started = Date.now();
  private baseline: number | undefined;

  constructor(readonly total: number) {}

  measure(done: number): { rate?: number; eta?: number } {
    this.baseline ??= done;
    const seconds = (Date.now() - this.started) / 1000;
    const progressed = done - this.baseline;
    if (progressed <= 0 || seconds <= 0) return done >= this.total ? { eta: 0 } : {};
    const rate = progressed / seconds;
    return { rate, eta: (this.total - done) / rate };
  }
}

/** Fills `{name}` from the payload; a name without a value becomes empty, never a literal placeholder. */
function fill(template: string, payload: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (_, key: string) => (payload[key] === undefined ? '' : String(payload[key])));
}

/** " | a | b" without empty parts. */
function joinParts(parts: string[]): string {
  return parts
    .flatMap((p) => p.split(' | '))
    .map((p) => p.trim())
    .filter((p) => p.length > 0)
    .join(' | ');
}

/**
 * Progress on stderr, never on stdout (results): a bar with rate and ETA when both streams are
 * terminals; a plain line every `interval` seconds when only stderr is (stdout redirected to a
 * file, a person still watching); nothing when stderr is not a terminal (CI logs) or with --quiet.
 * `extra` is appended to the bar, with `{name}` placeholders filled from update()'s payload.
 */
export function progressBar(label: string, total: number, quiet: boolean, extra = '', options: ProgressOptions = {}): Progress {
  if (quiet || !process.stderr.isTTY) return silent;
  const unit = options.unit ?? '';
  const meter = new Meter(total);
  let payload: Record<string, string | number> = {};
  // Most important first: a narrow terminal cuts the line at its width.
  const describe = (done: number): { counts: string; timing: string; extraText: string } => {
    const { rate, eta } = meter.measure(done);
    return {
      counts: `${done}/${total}${unit ? ` ${unit}` : ''}${rate === undefined ? '' : `, ${formatRate(rate)}/s`}`,
      timing: `ETA ${formatDuration(eta)}`,
      extraText: fill(extra, payload),
    };
  };
  if (!process.stdout.isTTY) return periodicLines(label, total, describe, (p) => (payload = { ...payload, ...p }), options.interval ?? 10);

  const multi = new cliProgress.MultiBar(
    {
      stream: process.stderr,
      barsize: 20,
      hideCursor: true,
      clearOnComplete: false,
      format: (opts, params) => {
        const bar = cliProgress.Format.BarFormat(params.progress, opts);
        const { counts, timing, extraText } = describe(params.value);
        return `${label} ${bar} ${Math.floor(params.progress * 100)}% ${joinParts([timing, counts, extraText])}`;
      },
    },
    cliProgress.Presets.shades_classic,
  );
  const bar = multi.create(total, 0);
  let drawn = 0;
  const self = {
    log(line: string) {
      multi.log(`${line}\n`);
      // The log line took the bar's place: draw the bar again below it even if its text is unchanged.
      (bar as unknown as { lastDrawnString: string }).lastDrawnString = '';
      multi.update();
    },
  };
  active = self;
  return {
    update: (done, p) => {
      if (p) payload = { ...payload, ...p };
      bar.update(done);
      // Attacks compute synchronously, so the bar's own timer seldom fires: draw here, ≤ 10/s.
      const now = Date.now();
      if (now - drawn >= 100) {
        drawn = now;
        multi.update();
      }
    },
    stop: () => {
      multi.stop();
      if (active === self) active = undefined;
    },
  };
}

/** The plain, periodic form: "label: 40% (120/300 attacks, 3.10/s) | ETA 58s | pgd ε=0.3". */
function periodicLines(
  label: string,
  total: number,
  describe: (done: number) => { counts: string; timing: string; extraText: string },
  setPayload: (p: Record<string, string | number>) => void,
  interval: number,
): Progress {
  let done = 0;
  const started = Date.now();
  const line = () => {
    const { counts, timing, extraText } = describe(done);
    const pct = total > 0 ? Math.floor((done / total) * 100) : 100;
    process.stderr.write(`${label}: ${pct}% (${counts}) | ${joinParts([timing, extraText])}\n`);
  };
  // The first line soon (the run is alive), then one every `interval` seconds.
  let timer = setTimeout(() => {
    line();
    timer = setInterval(line, interval * 1000);
    timer.unref();
  }, Math.min(2, interval) * 1000);
  timer.unref();
  const self = { log: (text: string) => process.stderr.write(`${text}\n`) };
  active = self;
  return {
    update: (d, p) => {
      done = d;
      if (p) setPayload(p);
    },
    stop: () => {
      clearTimeout(timer);
      clearInterval(timer);
      process.stderr.write(`${label}: done (${done}/${total}) in ${formatDuration((Date.now() - started) / 1000)}\n`);
      if (active === self) active = undefined;
    },
  };
}

/** One line to stderr unless quiet: logs never mix with results on stdout, and go above a bar. */
export function logLine(quiet: boolean, line: string): void {
  if (quiet) return;
  if (active) active.log(line);
  else process.stderr.write(`${line}\n`);
}
