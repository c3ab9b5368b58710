import { existsSync } from 'node:fs';
import { UserError } from '../errors.js';
import { LineJournal, type JournalHeader } from '../harness/journal.js';
import type { CertifiedExample } from './report.js';

export const CERTIFY_JOURNAL_FORMAT = 'advtest-certify-journal/1';

/** What a journal must match to be resumed: the same certification of the same data and model. */
export interface CertifyJournalHeader extends Pick<JournalHeader, 'configHash' | 'fingerprint' | 'seed' | 'model' | 'shard'> {
  format: typeof CERTIFY_JOURNAL_FORMAT;
}

/**
 * Finished examples of a certification, one JSON line each, flushed before the next example
 * starts, so that a killed `advtest certify` resumes where it stopped. The same rules as the
 * evaluation journal (src/harness/journal.ts), whose records are per batch of attack cells: a torn
 * last line is ignored and that example redone; a journal of another run is refused.
 */
export class CertifyJournal extends LineJournal<CertifyJournalHeader, CertifiedExample> {
  constructor(path: string, header: CertifyJournalHeader) {
    super(path, header, (r) => r.index, 'examples');
    if (existsSync(path)) this.load((head) => this.checkHead(head));
  }

  private checkHead(head: CertifyJournalHeader | undefined): void {
    if (!head || head.format !== CERTIFY_JOURNAL_FORMAT) throw new UserError(`${this.path} is not an advtest certify journal: delete it to start the certification afresh`);
    for (const key of ['configHash', 'fingerprint', 'seed', 'model', 'shard'] as const) {
      if (JSON.stringify(head[key] ?? null) !== JSON.stringify(this.header[key] ?? null)) {
        throw new UserError(`${this.path} holds a journal of another certification (its ${key} differs): delete it, or give another output path`);
      }
    }
  }
}
