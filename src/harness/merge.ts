import { UserError } from '../errors.js';
import { assemble, type CellData } from './assemble.js';
import { addSums, type ConvergenceSums } from '../report/convergence.js';
import { REPORT_FORMAT, type Report, type UniversalRecord } from './report-types.js';
import { validateShardReport } from './report-schema.js';

/**
 * One shard checked against the report schema and against itself: every per-example array as
 * long as the shard, one cell and one cost per (attack, ε). Anything else was edited or damaged,
 * and merging it would give figures that are silently wrong.
 */
function checkShard(value: unknown, name: string): Report {
  const fix = `re-run that shard (eval --shard i/n --json FILE)`;
  if (typeof value === 'object' && value !== null && (value as { format?: unknown }).format !== REPORT_FORMAT) {
    throw new UserError(`${name} has format ${JSON.stringify((value as { format?: unknown }).format ?? null)}, not ${REPORT_FORMAT}: ${fix} with this version`);
  }
  if (!validateShardReport(value)) {
    const e = validateShardReport.errors?.[0];
    const where = e?.instancePath ? e.instancePath : 'the top level';
    throw new UserError(`${name} is not a valid shard report (${where} ${e?.message ?? 'is invalid'}): ${fix}`);
  }
  const r = value;
  const { from, to, total, index, count } = r.data.shard!;
  const n = to - from;
  const bad = (what: string) => new UserError(`${name} is not a consistent shard report (${what}): ${fix}`);
  if (index >= count || from > to || to > total) throw bad(`data.shard ${JSON.stringify(r.data.shard)} is not a slice of the data`);
  const cells = r.config.attacks.length * r.config.epsilons.length;
  if (r.results.length !== cells || r.examples.results.length !== cells || r.timings.results.length !== cells) {
    throw bad(`${cells} attack × ε cells expected, it holds ${r.results.length} results, ${r.examples.results.length} per-example cells and ${r.timings.results.length} timings`);
  }
  const perExample: [string, unknown[] | undefined][] = [
    ['examples.ids', r.examples.ids],
    ['examples.labels', r.examples.labels],
    ['examples.cleanPredictions', r.examples.cleanPredictions],
    ...(r.config.target !== 'untargeted' ? ([['examples.targets', r.examples.targets ?? []]] as [string, unknown[]][]) : []),
    ...r.examples.results.flatMap((c, k) =>
      (['predictions', 'quantizedPredictions', 'linf', 'l2', 'attacked'] as const).map((key): [string, unknown[]] => [`examples.results[${k}].${key} (${c.attack} ε=${c.eps})`, c[key]]),
    ),
  ];
  for (const [what, xs] of perExample) {
    if (xs!.length !== n) throw bad(`${what} holds ${xs!.length} values for the ${n} examples of the shard`);
  }
  return r;
}

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
export function mergeReports(input: unknown[], names: string[] = input.map((_, i) => `shard report ${i + 1}`)): Report {
  if (input.length === 0) throw new UserError('advtest merge needs the shard reports: advtest merge results-*.json');
  for (const [i, r] of input.entries()) {
    const data = (r as Partial<Report> | null)?.data;
    if ((r as Partial<Report> | null)?.format === REPORT_FORMAT && typeof data === 'object' && data !== null && !data.shard) {
      throw new UserError(`${names[i]} (a report for ${data.name}) is not a shard (no data.shard): merge only reports made with --shard i/n`);
    }
  }
  const reports = input.map((r, i) => checkShard(r, names[i]!));
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
  // Shards of one run tile the data: each starts where the previous ended, no example twice.
  const owner = new Map<string, number>();
  for (const [k, r] of byIndex.entries()) {
    const shard = r.data.shard!;
    const expectedFrom = k === 0 ? 0 : byIndex[k - 1]!.data.shard!.to;
    if (shard.from !== expectedFrom || (k === byIndex.length - 1 && shard.to !== shard.total)) {
      throw new UserError(`shard ${shard.index} holds examples [${shard.from}, ${shard.to}) of ${shard.total}, which does not continue the shards before it: merge only the shards of one evaluation`);
    }
    for (const id of r.examples.ids) {
      const other = owner.get(id);
      if (other !== undefined) throw new UserError(`example ${id} appears ${other === shard.index ? 'twice in' : `in shard ${other} and in`} shard ${shard.index}: the shards were edited or come from different data; re-run them`);
      owner.set(id, shard.index);
    }
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
    // Shards from before margins were recorded have none: then the merged report has none either.
    ...(byIndex.every((r) => r.examples.results[k]!.margin && r.examples.results[k]!.confidence)
      ? { margin: byIndex.flatMap((r) => r.examples.results[k]!.margin!), confidence: byIndex.flatMap((r) => r.examples.results[k]!.confidence!) }
      : {}),
    gradients: byIndex.reduce((a, r) => a + r.results[k]!.costs.gradients, 0),
    queries: byIndex.reduce((a, r) => a + r.results[k]!.costs.queries, 0),
    seconds: byIndex.reduce((a, r) => a + r.timings.results[k]!.seconds, 0),
    ...shardConvergence(byIndex, cell.attack, cell.eps),
    ...shardMinimal(byIndex, cell.attack),
    ...(byIndex.some((r) => r.traces?.some((t) => t.attack === cell.attack && t.eps === cell.eps))
      ? { traces: byIndex.flatMap((r) => (r.traces ?? []).filter((t) => t.attack === cell.attack && t.eps === cell.eps).map(({ index, loss, margin, truncated }) => ({ index, loss, margin, ...(truncated ? { truncated } : {}) }))) }
      : {}),
  }));
  const { shard: _shard, size: _size, ...dataInfo } = first.data;
  const probe = byIndex.find((r) => r.probe)?.probe;
  const targeted = first.config.target !== 'untargeted';
  const merged = assemble({
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
    ...(byIndex.every((r) => r.examples.cleanMargin && r.examples.cleanConfidence)
      ? { cleanMargin: byIndex.flatMap((r) => r.examples.cleanMargin!), cleanConfidence: byIndex.flatMap((r) => r.examples.cleanConfidence!) }
      : {}),
    ...(targeted ? { targets: byIndex.flatMap((r) => r.examples.targets ?? []) } : {}),
    backend: first.backend,
    ...(probe ? { probe } : {}),
    totalSeconds: byIndex.reduce((a, r) => a + r.timings.totalSeconds, 0),
    concurrency: Math.max(...byIndex.map((r) => r.timings.concurrency ?? 1)),
  });
  const universal = mergeUniversal(byIndex, merged);
  if (universal) merged.universal = universal;
  return merged;
}

/** A minimal attack's per-example distances, concatenated in shard order (absent if any shard lacks them). */
function shardMinimal(shards: Report[], attack: string): { minimal?: (number | null)[] } {
  const parts = shards.map((r) => r.examples.minimal?.find((m) => m.attack === attack)?.distances);
  return parts.every((p) => p !== undefined) ? { minimal: parts.flatMap((p) => p!) } : {};
}

/**
 * The universal attacks' fitted images: every shard fitted the same perturbation (same seed, fit
 * set and model), so the first shard's image stands for all, with its success rate recomputed on
 * the merged results. Its `file` is dropped: it was written next to that shard's report. The
 * fit costs stay summed over the shards, as each shard did fit.
 */
function mergeUniversal(shards: Report[], merged: Report): UniversalRecord[] | undefined {
  const first = shards[0]!.universal;
  if (!first) return undefined;
  return first.map((record) => {
    const missing = shards.find((r) => !r.universal?.some((u) => u.attack === record.attack && u.eps === record.eps));
    if (missing) throw new UserError(`shard ${missing.data.shard?.index ?? '?'} holds no fitted ${record.attack} at ε = ${record.eps}, shard ${shards[0]!.data.shard?.index ?? '?'} does: merge only the shards of one evaluation`);
    const { file: _file, ...rest } = record;
    const result = merged.results.find((r) => r.attack === record.attack && r.eps === record.eps);
    return { ...rest, successRate: result?.success.rate ?? 0 };
  });
}

/** The shards' convergence sums of one cell, added (shards from before convergence was recorded have none). */
function shardConvergence(shards: Report[], attack: string, eps: number): { convergence?: ConvergenceSums } {
  const sums = shards.reduce<ConvergenceSums | undefined>((a, r) => addSums(a, r.convergence?.find((t) => t.attack === attack && t.eps === eps)?.sums), undefined);
  return sums ? { convergence: sums } : {};
}
