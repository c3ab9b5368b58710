import { closeSync, fsyncSync, ftruncateSync, fstatSync, openSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { UserError } from '../errors.js';
import { writeAllSync, writeFailure } from '../report/write-file.js';
import type { ExampleCell, ModelProbeRecord } from './report-types.js';
import type { ConvergenceSums } from '../report/convergence.js';
import type { ExampleTraceRecord } from '../../attacks/convergence.js';

export const JOURNAL_FORMAT = 'advtest-journal/1';

/** One (attack, ε) of one batch, per example of the batch, with what it cost. */
export interface CellRecord extends Omit<ExampleCell, 'attack' | 'eps' | 'margin' | 'confidence'> {
  /** Per example, null where this attack did not run on it (see recordAdversarial). */
  margin?: (number | null)[];
  confidence?: (number | null)[];
  /**
   * Minimal attacks only: per example the verified distance (in the attack's norm) of the
   * smallest adversarial found; null where none was found or the example was not attacked.
   */
  minimal?: (number | null)[];
  gradients: number;
  queries: number;
  seconds: number;
  /** Per-iteration sums of an iterative attack (see report/convergence.ts). */
  convergence?: ConvergenceSums;
  /** Per-iteration loss and margin of the traced examples of this batch (--trace). */
  traces?: ExampleTraceRecord[];
}

/** Everything one batch contributed; a journal holds one per line. */
export interface BatchRecord {
  batch: number;
  start: number;
  clean: number[];
  /** Per example on the clean image: true-class margin and top-1 probability (absent in older journals). */
  cleanMargin?: number[];
  cleanConfidence?: number[];
  targets?: number[];
  /** Attack-major, like the report's results. */
  cells: CellRecord[];
  probe?: ModelProbeRecord;
}

/** What a journal must match to be resumed: the same evaluation of the same data. */
export interface JournalHeader {
  format: typeof JOURNAL_FORMAT;
  configHash: string;
  fingerprint: string;
  seed: number;
  model: string;
  /** sha256 of the model's weight files (see model-digest.ts), when it was loaded from a folder. */
  weights?: string;
  shard?: { index: number; count: number };
  /**
   * The traced examples (--trace), when any: batches recorded without traces (or with others)
   * would leave a resumed report with traces for only some batches.
   */
  trace?: number[];
}

/** What differs between a journal's header and this run, in words a person recognises. */
const DIFFERENCES = {
  configHash: 'the evaluation settings (attacks, ε, batch size, target or mode) differ',
  fingerprint: 'the data differs (its examples, labels or pixels)',
  seed: 'the seed differs',
  model: 'the model differs (another path, architecture or parameter count)',
  weights: "the model's weights differ (the model folder was retrained or replaced since)",
} as const;

/** --trace as the journal compares it: the same positions in any order or repetition are the same trace. */
function traceKey(trace: number[] | undefined): string {
  return trace === undefined || trace.length === 0 ? 'none' : [...new Set(trace)].sort((x, y) => x - y).join(',');
}

function sameHeader(a: JournalHeader, b: JournalHeader): string | undefined {
  for (const key of ['weights', 'configHash', 'fingerprint', 'seed', 'model'] as const) {
    if (a[key] !== b[key]) return DIFFERENCES[key];
  }
  if (JSON.stringify(a.shard ?? null) !== JSON.stringify(b.shard ?? null)) return 'the shard differs';
  const [was, now] = [traceKey(a.trace), traceKey(b.trace)];
  if (was !== now) return `the traced examples differ (--trace ${was} then, ${now} now)`;
  return undefined;
}

function exists(file: string): boolean {
  try {
    if (statSync(file).isDirectory()) {
      throw new UserError(`journal path ${file} is a folder: move it away, or give --json another file name`);
    }
    return true;
  } catch (err) {
    if (err instanceof UserError) throw err;
    return false;
  }
}

/**
 * A journal file: a header line, then one JSON record a line, each flushed to disk before the next
 * piece of work starts. A torn last line (kill -9 mid-write) is ignored and that work is simply
 * redone. The evaluation's journal (below) and the certification's (certify/journal.ts) share it.
 */
export abstract class LineJournal<H, R> {
  protected fd: number | undefined;
  readonly done = new Map<number, R>();

  constructor(
    readonly path: string,
    protected readonly header: H,
    private readonly keyOf: (record: R) => number,
    /** What a record is ("batches"), for the message of a failed write. */
    private readonly finished: string,
  ) {}

  /** Reads the file: `checkHead` refuses the header of another run (by throwing); the records after it are done. */
  protected load(checkHead: (head: H | undefined) => void): void {
    const parsed: unknown[] = [];
    for (const line of readFileSync(this.path, 'utf8').split('\n').filter((l) => l.length > 0)) {
      try {
        parsed.push(JSON.parse(line));
      } catch {
        // Only a torn final line is expected; anything after it is ignored with it.
        break;
      }
    }
    checkHead(parsed[0] as H | undefined);
    for (const record of parsed.slice(1) as R[]) this.done.set(this.keyOf(record), record);
  }

  /** Before the first append: rewrites what was loaded (in key order), so that a torn line from a kill never sits before new lines. */
  protected openForAppend(): number {
    if (this.fd !== undefined) return this.fd;
    const lines = [this.header, ...[...this.done.values()].sort((a, b) => this.keyOf(a) - this.keyOf(b))];
    const tmp = `${this.path}.tmp-${process.pid}`;
    let fd: number | undefined;
    try {
      fd = openSync(tmp, 'w');
      writeAllSync(fd, lines.map((l) => JSON.stringify(l) + '\n').join(''));
      fsyncSync(fd);
      closeSync(fd);
      fd = undefined;
      renameSync(tmp, this.path);
    } catch (err) {
      if (fd !== undefined) closeSync(fd);
      rmSync(tmp, { force: true });
      throw writeFailure(this.path, err, this.done.size > 0 ? 'the journal was left as it was' : 'nothing was written');
    }
    this.fd = openSync(this.path, 'a');
    return this.fd;
  }

  /** Appends one finished piece of work, flushed to disk before the next starts. */
  append(record: R): void {
    const fd = this.openForAppend();
    const size = fstatSync(fd).size;
    try {
      writeAllSync(fd, JSON.stringify(record) + '\n');
      fsyncSync(fd);
    } catch (err) {
      // Cut the torn line off, so that the journal still resumes once there is room again.
      try {
        ftruncateSync(fd, size);
      } catch {
        // A torn last line is ignored on load anyway.
      }
      throw writeFailure(this.path, err, `the ${this.finished} finished so far are kept in it; run the same command again to resume`);
    }
    this.done.set(this.keyOf(record), record);
  }

  /** The work finished and its output is written: the journal is no longer needed. */
  remove(): void {
    this.close();
    rmSync(this.path, { force: true });
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** An append-only record of finished batches, so that a killed evaluation resumes where it stopped. */
export class Journal extends LineJournal<JournalHeader, BatchRecord> {
  constructor(path: string, header: JournalHeader) {
    super(path, header, (r) => r.batch, 'batches');
    if (exists(path)) this.load((head) => this.checkHead(head));
  }

  private checkHead(head: JournalHeader | undefined): void {
    if (!head || head.format !== JOURNAL_FORMAT) {
      throw new UserError(`${this.path} is not an advtest journal: delete it to start the evaluation afresh`);
    }
    const differs = sameHeader(head, this.header);
    if (differs) {
      throw new UserError(`${this.path} holds a journal of another evaluation, not resumed: ${differs}; delete the journal to start afresh, or give another output path (--json)`);
    }
  }
}
