import { UserError } from '../errors.js';
import { assemble, type CellData } from './assemble.js';
import { REPORT_FORMAT, type Report } from './report.js';

function sameAcross<T>(reports: Report[], what: string, get: (r: Report) => T): T {
  const first = JSON.stringify(get(reports[0]!));
  const other = reports.find((r) => JSON.stringify(get(r)) !== first);
  if (other) throw new UserError(`shard ${other.data.shard?.index ?? '?'} differs in ${what} (${JSON.stringify(get(other))} vs ${first}): merge only the shards of one evaluation`);
  return get(reports[0]!);
}

/**
 * Combines the shard reports of one evaluation (`eval --shard i/n`) into the report the whole run
 * would have produced: the per-example results are concatenated in shard order and every figure
 * is recomputed from them.
 */
export function mergeReports(reports: Report[]): Report {
  if (reports.length === 0) throw new UserError('advtest merge needs the shard reports: advtest merge results-*.json');
  for (const r of reports) {
    if (r.format !== REPORT_FORMAT) throw new UserError(`a file to merge has format ${String(r.format)}, not ${REPORT_FORMAT}: re-run that shard with this version`);
    if (!r.data.shard) throw new UserError(`a report for ${r.data.name} is not a shard (no data.shard): merge only reports made with --shard i/n`);
  }
  sameAcross(reports, 'configuration', (r) => r.configHash);
  sameAcross(reports, 'data', (r) => r.data.fingerprint);
  sameAcross(reports, 'seed', (r) => r.seed);
  sameAcross(reports, 'backend', (r) => r.backend.name);
  const count = sameAcross(reports, 'shard count', (r) => r.data.shard!.count);
  const byIndex = [...reports].sort((a, b) => a.data.shard!.index - b.data.shard!.index);
  const indices = byIndex.map((r) => r.data.shard!.index);
  const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !indices.includes(i));
  if (missing.length > 0 || indices.length !== count) {
    throw new UserError(`shards ${missing.length > 0 ? `${missing.join(', ')} missing` : 'repeated'} (have ${indices.join(', ')} of ${count}): give each shard's report exactly once`);
  }
  const first = byIndex[0]!;
  const cells: CellData[] = first.examples.results.map((cell, k) => ({
    attack: cell.attack,
    eps: cell.eps,
    predictions: byIndex.flatMap((r) => r.examples.results[k]!.predictions),
    quantizedPredictions: byIndex.flatMap((r) => r.examples.results[k]!.quantizedPredictions),
    linf: byIndex.flatMap((r) => r.examples.results[k]!.linf),
    l2: byIndex.flatMap((r) => r.examples.results[k]!.l2),
    attacked: byIndex.flatMap((r) => r.examples.results[k]!.attacked),
    gradients: byIndex.reduce((a, r) => a + r.results[k]!.costs.gradients, 0),
    queries: byIndex.reduce((a, r) => a + r.results[k]!.costs.queries, 0),
    seconds: byIndex.reduce((a, r) => a + r.timings.results[k]!.seconds, 0),
  }));
  const { shard: _shard, size: _size, ...dataInfo } = first.data;
  void _shard;
  void _size;
  const probe = byIndex.find((r) => r.probe)?.probe;
  const targeted = first.config.target !== 'untargeted';
  return assemble({
    model: first.model,
    data: { ...dataInfo, ids: byIndex.flatMap((r) => r.examples.ids), labels: byIndex.flatMap((r) => r.examples.labels) },
    attacks: first.config.attacks,
    epsilons: first.config.epsilons,
    seed: first.seed,
    target: first.config.target,
    mode: first.config.mode,
    batchSize: first.config.batchSize,
    cells,
    cleanPredictions: byIndex.flatMap((r) => r.examples.cleanPredictions),
    ...(targeted ? { targets: byIndex.flatMap((r) => r.examples.targets ?? []) } : {}),
    backend: first.backend,
    ...(probe ? { probe } : {}),
    totalSeconds: byIndex.reduce((a, r) => a + r.timings.totalSeconds, 0),
  });
}
