import { createHash } from 'node:crypto';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import stableStringify from 'fast-json-stable-stringify';
import type { CertifyReport } from '../certify/report.js';
import { certifyDataset, type CertifyOptions } from '../certify/run.js';
import type { Classifier, Dataset } from '../types.js';
import type { BenchCertify, BenchConfig, BenchEntry } from './config.js';

/** An entry's certification, kept in its result file beside the evaluation. */
export interface EntryCertification {
  /** Of everything that decides the certificates; another key redoes the certification. */
  key: string;
  report: CertifyReport;
}

/**
 * What decides an entry's certificates: the trained model (its training key), the input transform,
 * the data and subset, the seed and the certification settings. The attacks and ε of the
 * evaluation are not in it, so changing those keeps the certificates (as it keeps the model).
 */
export function certificationKey(config: BenchConfig, entry: BenchEntry, trainingKey: string): string {
  const c = config.certify!;
  return createHash('sha256')
    .update(
      stableStringify({
        format: 1,
        training: trainingKey,
        transform: entry.transform ?? null,
        data: config.data ?? 'mnist',
        dataDir: config.dataDir ?? null,
        limit: certifyLimit(config) ?? null,
        seed: config.eval.seed ?? 0,
        // The sample batch size changes no result.
        certify: { sigma: c.sigma, n0: c.n0, n: c.n, alpha: c.alpha, radii: [...c.radii].sort((a, b) => a - b) },
      }),
    )
    .digest('hex');
}

/** How many test examples are certified: certify.limit, else the evaluation's limit. */
export function certifyLimit(config: BenchConfig): number | undefined {
  return config.certify?.limit ?? config.eval.limit;
}

export interface CertifyEntryOptions extends Pick<CertifyOptions, 'subset' | 'onProgress'> {
  out: string;
  seed: number;
}

/**
 * CERTIFY (Cohen et al. 2019) on every example of `data` with the entry's model, journaled in
 * out/entries/<name>.certify-<key>.journal so that a killed benchmark resumes mid-certification; a
 * journal of another certification of the entry (older settings) is removed first.
 */
export async function certifyEntry(model: Classifier, name: string, data: Dataset, c: BenchCertify, key: string, o: CertifyEntryOptions): Promise<EntryCertification> {
  const dir = path.join(o.out, 'entries');
  const journal = path.join(dir, `${name}.certify-${key.slice(0, 16)}.journal`);
  // Only this entry's journals: another entry may be named "<name>.certify-x".
  const ours = new RegExp(`^${name.replace(/[.]/g, '\\.')}\\.certify-[0-9a-f]{16}\\.journal$`);
  for (const f of await readdir(dir)) {
    if (ours.test(f) && f !== path.basename(journal)) await rm(path.join(dir, f), { force: true });
  }
  // The certify section is CertifyOptions but for `limit`, which chose `data`.
  const { limit: _limit, ...settings } = c;
  const report = await certifyDataset(model, data, {
    ...settings,
    seed: o.seed,
    journal,
    ...(o.subset ? { subset: o.subset } : {}),
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
  });
  return { key, report };
}

/** The journal is spent once the result file holds the certification. */
export async function removeCertifyJournal(out: string, name: string, key: string): Promise<void> {
  await rm(path.join(out, 'entries', `${name}.certify-${key.slice(0, 16)}.journal`), { force: true });
}
