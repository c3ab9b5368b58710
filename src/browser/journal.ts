import { UserError } from '../errors.js';
import type { BatchRecord, JournalHeader } from '../harness/journal.js';

/**
 * Stands in for harness/journal.ts in the browser build: resumable journals are files, so
 * evaluate(…, { journal }) is refused there. The format string is checked against the real
 * module's type, so it cannot drift.
 */
export const JOURNAL_FORMAT: JournalHeader['format'] = 'advtest-journal/1';

export class Journal {
  readonly done = new Map<number, BatchRecord>();
  constructor(file: string, _header: JournalHeader) {
    throw new UserError(`journal ${file}: journals are files and need Node; leave the journal option out in the browser`);
  }
  append(_record: BatchRecord): void {}
  close(): void {}
}
