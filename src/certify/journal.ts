import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { UserError } from '../errors.js';
import type { CertifiedExample } from './report.js';

export const CERTIFY_JOURNAL_FORMAT = 'advtest-certify-journal/1';

/** What a journal must match to be resumed: the same certification of the same data and model. */
export interface CertifyJournalHeader {
  format: typeof CERTIFY_JOURNAL_FORMAT;
  configHash: string;
  fingerprint: string;
  seed: number;
  model: string;
  shard?: { index: number; count: number };
}

/**
 * Finished examples of a certification, one JSON line each, flushed before the next example
 * starts, so that a killed `advtest certify` resumes where it stopped. The same rules as the
 * evaluation journal (src/harness/journal.ts), whose records are per batch of attack cells: a torn
 * last line is ignored and that example redone; a journal of another run is refused.
 */
export class CertifyJournal {
  private fd: number | undefined;
  readonly done = new Map<number, CertifiedExample>();

  constructor(
    readonly path: string,
    private readonly header: CertifyJournalHeader,
  ) {
    if (existsSync(path)) this.load();
  }

  private load(): void {
    const parsed: unknown[] = [];
    for (const line of readFileSync(this.path, 'utf8').split('\n').filter((l) => l.length > 0)) {
      try {
        parsed.push(JSON.parse(line));
      } catch {
        break;
      }
    }
    const head = parsed[0] as CertifyJournalHeader | undefined;
    if (!head || head.format !== CERTIFY_JOURNAL_FORMAT) throw new UserError(`${this.path} is not an advtest certify journal: delete it to start the certification afresh`);
    for (const key of ['configHash', 'fingerprint', 'seed', 'model', 'shard'] as const) {
      if (JSON.stringify(head[key] ?? null) !== JSON.stringify(this.header[key] ?? null)) {
        throw new UserError(`${this.path} holds a journal of another certification (its ${key} differs): delete it, or give another output path`);
      }
    }
    for (const record of parsed.slice(1) as CertifiedExample[]) this.done.set(record.index, record);
  }

  append(record: CertifiedExample): void {
    if (this.fd === undefined) {
      // Rewrite what was loaded, so that a torn line from a kill never sits before new lines.
      const lines = [this.header, ...[...this.done.values()].sort((a, b) => a.index - b.index)];
      const tmp = `${this.path}.tmp-${process.pid}`;
      writeFileSync(tmp, lines.map((l) => JSON.stringify(l) + '\n').join(''));
      renameSync(tmp, this.path);
      this.fd = openSync(this.path, 'a');
    }
    writeSync(this.fd, JSON.stringify(record) + '\n');
    fsyncSync(this.fd);
    this.done.set(record.index, record);
  }

  remove(): void {
    this.close();
    rmSync(this.path, { force: true });
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
