import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { UserError } from '../errors.js';
import type { ExampleCell, ModelProbeRecord } from './report.js';

export const JOURNAL_FORMAT = 'advtest-journal/1';

/** One (attack, ε) of one batch, per example of the batch, with what it cost. */
export interface CellRecord extends Omit<ExampleCell, 'attack' | 'eps'> {
  gradients: number;
  queries: number;
  seconds: number;
}

/** Everything one batch contributed; a journal holds one per line. */
export interface BatchRecord {
  batch: number;
  start: number;
  clean: number[];
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
  shard?: { index: number; count: number };
}

function sameHeader(a: JournalHeader, b: JournalHeader): string | undefined {
  for (const key of ['configHash', 'fingerprint', 'seed', 'model'] as const) {
    if (a[key] !== b[key]) return key;
  }
  if (JSON.stringify(a.shard ?? null) !== JSON.stringify(b.shard ?? null)) return 'shard';
  return undefined;
}

/**
 * An append-only record of finished batches, so that a killed evaluation resumes where it stopped.
 * Each line is flushed to disk before the next batch starts; a torn last line (kill -9 mid-write)
 * is ignored and that batch is simply redone.
 */
export class Journal {
  private fd: number | undefined;
  readonly done = new Map<number, BatchRecord>();

  constructor(
    readonly path: string,
    private readonly header: JournalHeader,
  ) {
    if (existsSync(path)) this.load();
  }

  private load(): void {
    const lines = readFileSync(this.path, 'utf8').split('\n').filter((l) => l.length > 0);
    const parsed: unknown[] = [];
    for (const line of lines) {
      try {
        parsed.push(JSON.parse(line));
      } catch {
        // Only a torn final line is expected; anything after it is ignored with it.
        break;
      }
    }
    const head = parsed[0] as JournalHeader | undefined;
    if (!head || head.format !== JOURNAL_FORMAT) {
      throw new UserError(`${this.path} is not an advtest journal: delete it to start the evaluation afresh`);
    }
    const differs = sameHeader(head, this.header);
    if (differs) {
      throw new UserError(`${this.path} holds a journal of another evaluation (its ${differs} differs): delete it, or give another output path`);
    }
    for (const record of parsed.slice(1) as BatchRecord[]) this.done.set(record.batch, record);
  }

  append(record: BatchRecord): void {
    if (this.fd === undefined) {
      // Rewrite what was loaded, so that a torn line from a kill never sits before new lines.
      const lines = [this.header, ...[...this.done.values()].sort((a, b) => a.batch - b.batch)];
      const tmp = `${this.path}.tmp-${process.pid}`;
      writeFileSync(tmp, lines.map((l) => JSON.stringify(l) + '\n').join(''));
      renameSync(tmp, this.path);
      this.fd = openSync(this.path, 'a');
    }
    writeSync(this.fd, JSON.stringify(record) + '\n');
    fsyncSync(this.fd);
    this.done.set(record.batch, record);
  }

  /** The evaluation finished and its report is written: the journal is no longer needed. */
  remove(): void {
    this.close();
    rmSync(this.path, { force: true });
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
