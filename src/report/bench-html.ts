import escapeHtml from 'escape-html';
import type { Proportion, Report } from '../harness/report-types.js';
import type { CurvePoint } from './curve-chart.js';
import { runCurvesSpec } from './compare.js';
import { backendLine, dataLine } from './document.js';
import { duration, formatEps } from './figures.js';
import { wilsonInterval } from '../harness/stats.js';
import type { HeldOutRecord } from '../train/monitor.js';
import { SORT_SCRIPT } from './html-assets.js';
import { htmlPage } from './html-page.js';
import { leaderboardSection } from './html.js';
import { commandLine } from './invocation.js';
import type { Leaderboard } from './leaderboard.js';
import { specToSvg } from './vega-svg.js';

/** One entry of a benchmark as its page shows it: the name on the board and the report behind it. */
export interface BenchPageEntry {
  name: string;
  report: Report;
  trainingSeconds?: number;
  /** Of the entry's settings (a changed entry is redone), when the benchmark keeps one. */
  hash?: string;
  /** The held-out monitor after every epoch, with the training time so far. */
  trainingCurve?: HeldOutRecord;
  /** Per ε, the worst case its board row shows, where it is not the report's (a confirming attack ran too). */
  worstCase?: (Proportion & { eps: number })[];
  /** The training examples it was fitted on, where the benchmark varies them (data scaling). */
  trainingExamples?: number;
  /** Per ε, the worst case of the same attacks on training digits (eval.trainLimit). */
  trainWorstCase?: (Proportion & { eps: number })[];
}

/** What `advtest leaderboard --html` shows: a leaderboard per ε, every entry's curve, and where each came from. */
export interface BenchPage {
  title: string;
  /** The benchmark's config file, as given. */
  config?: string;
  /** One per evaluated ε (benchLeaderboards). */
  boards: Leaderboard[];
  entries: BenchPageEntry[];
}

const h = (s: string | number) => escapeHtml(String(s));
const wrap = (table: string) => `<div class="table-wrap">${table}</div>`;

/** Per entry, its worst case at every evaluated ε, starting at ε = 0 from its clean accuracy. */
export function benchCurvePoints(entries: BenchPageEntry[]): CurvePoint[] {
  return entries.flatMap(({ name, report, worstCase }) => {
    const start = report.config.epsilons.includes(0) ? [] : [{ series: name, eps: 0, accuracy: report.clean.accuracy, lo: report.clean.interval[0], hi: report.clean.interval[1] }];
    const worst = [...(worstCase ?? report.worstCase)].sort((a, b) => a.eps - b.eps).map((w) => ({ series: name, eps: w.eps, accuracy: w.accuracy, lo: w.interval[0], hi: w.interval[1] }));
    return [...start, ...worst];
  });
}

/**
 * The training-time axis: the process's CPU time when every epoch of every entry recorded it, as
 * it is not inflated by other processes' load nor by a paused process (a SIGSTOP counts in wall
 * time); else wall time, for models saved before CPU time was recorded.
 */
export function trainingClock(entries: BenchPageEntry[]): 'cpuSeconds' | 'seconds' {
  const epochs = entries.flatMap((e) => e.trainingCurve?.history ?? []);
  return epochs.length > 0 && epochs.every((h) => typeof h.cpuSeconds === 'number') ? 'cpuSeconds' : 'seconds';
}

const CLOCK_TITLE = { cpuSeconds: 'training CPU time (minutes, all threads)', seconds: 'training time (minutes)' } as const;

/** Per entry with a monitor: held-out robust accuracy (95% Wilson band) after each epoch, against training minutes so far. */
export function trainingCurvePoints(entries: BenchPageEntry[], clock = trainingClock(entries)): CurvePoint[] {
  return entries.flatMap(({ name, trainingCurve }) =>
    (trainingCurve?.history ?? []).map((h) => {
      const [lo, hi] = wilsonInterval(Math.round(h.robust * h.n), h.n);
      return { series: name, eps: h[clock]! / 60, accuracy: h.robust, lo, hi };
    }),
  );
}

/**
 * Where entries were trained on different numbers of examples, each on its own: one line for
 * clean accuracy and one per ε for the worst case (test digits, and training digits where
 * evaluated), each against the training examples. The evaluation's attacks only, not a confirming
 * attack run on some points alone, so that every point had the same attacks. Undefined unless there
 * are at least two sizes, or when two entries share one (recipes that differ in more than the
 * examples would be joined into one line).
 */
export function dataScalingRuns(entries: BenchPageEntry[]): { label: string; points: CurvePoint[] }[] | undefined {
  const sized = entries.filter((e) => e.trainingExamples !== undefined).sort((a, b) => a.trainingExamples! - b.trainingExamples!);
  const sizes = new Set(sized.map((e) => e.trainingExamples));
  if (sizes.size < 2 || sizes.size < sized.length) return undefined;
  const line = (label: string, at: (e: BenchPageEntry) => Proportion | undefined) => {
    const points = sized.flatMap((e) => {
      const p = at(e);
      return p ? [{ series: label, eps: e.trainingExamples!, accuracy: p.accuracy, lo: p.interval[0], hi: p.interval[1] }] : [];
    });
    return points.length > 0 ? [{ label, points }] : [];
  };
  const epsilons = [...new Set(sized.flatMap((e) => e.report.config.epsilons))].sort((a, b) => b - a);
  return [
    ...line('clean, test digits', (e) => e.report.clean),
    ...epsilons.flatMap((eps) => line(`ε ${formatEps(eps)}, test digits`, (e) => e.report.worstCase.find((w) => w.eps === eps))),
    ...epsilons.flatMap((eps) => line(`ε ${formatEps(eps)}, training digits`, (e) => e.trainWorstCase?.find((w) => w.eps === eps))),
  ];
}

/** The monitor (or each distinct one, when entries differ) for the caption. */
function monitorLine(entries: BenchPageEntry[]): string {
  const curves = entries.flatMap((e) => (e.trainingCurve ? [e.trainingCurve] : []));
  const kinds = [...new Set(curves.map((c) => `${c.attack} at ε = ${formatEps(c.eps)} on ${c.examples} digits held out of the training split`))];
  return kinds.length === 1 ? kinds[0]! : kinds.join('; ');
}

/** Per entry: the command that computed it, the tool and library versions, the machine, and when. */
function provenanceSection(page: BenchPage): string {
  const rows = page.entries.map(({ name, report: r, trainingSeconds, hash }) => {
    const inv = r.timings.invocation;
    const made = inv?.command ? commandLine(inv.command) : (inv?.api ?? 'not recorded');
    const where = [inv?.cwd, inv?.platform].filter((x) => x !== undefined).join(' · ');
    return `<tr><td class="text"><strong>${h(name)}</strong></td><td class="text wrap"><code>${h(made)}</code>${where ? `<br><span class="ci">${h(where)}</span>` : ''}</td><td class="text">advtest ${h(r.tool.version)}<br><span class="ci">node ${h(r.versions.node)} · tfjs ${h(r.versions.tfjs)}</span></td><td class="text wrap">${h(backendLine(r))}</td><td class="text">seed ${r.seed}<br><span class="ci" title="${h(r.configHash)}">config ${h(r.configHash.slice(0, 12))}${hash ? ` · entry ${h(hash.slice(0, 12))}` : ''}</span></td><td class="text">${h(r.timings.createdAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z'))}<br><span class="ci">evaluation ${h(duration(r.timings.totalSeconds))}${trainingSeconds !== undefined ? ` · training ${h(duration(trainingSeconds))}` : ''}</span></td></tr>`;
  });
  const first = page.entries[0]?.report;
  return `<section id="provenance"><h2>Provenance of every entry</h2>
<p class="note">${page.config ? `Benchmark config <code>${h(page.config)}</code>. ` : ''}${first ? `${h(dataLine(first))}; attacks ${h(first.config.attacks.map((a) => `${a.name} (${a.norm})`).join(', '))}; ε ${h(first.config.epsilons.map(formatEps).join(', '))}.` : ''} An entry computed by an earlier run keeps the command and versions of that run.</p>
${wrap(`<table class="provenance"><thead><tr><th class="text">entry</th><th class="text">made by</th><th class="text">versions</th><th class="text">backend</th><th class="text">seed · hashes</th><th class="text">created (UTC) · time</th></tr></thead><tbody>${rows.join('')}</tbody></table>`)}</section>`;
}

/** The benchmark as one self-contained page: curves over every ε, a leaderboard per ε, provenance. */
export function renderBenchHtml(page: BenchPage, curvesSvg: string | undefined, trainingSvg?: string, dataSvg?: string): string {
  const boards = [...page.boards].sort((a, b) => (b.eps ?? 0) - (a.eps ?? 0));
  const [headline, ...others] = boards;
  const sections: [string, string, string][] = [];
  if (curvesSvg) {
    sections.push([
      'curves',
      'Curves',
      `<section id="curves"><h2>Worst-case robustness curves</h2><figure class="chart">${curvesSvg}</figure><p class="caption">Each entry's worst-case accuracy (an example counts only if it survives every attack, the confirming one too where it ran) at every evaluated ε, with 95% Wilson intervals as bands; ε = 0 is the clean accuracy. The names on the right are in the order of the lines' ends.</p></section>`,
    ]);
  }
  if (trainingSvg) {
    sections.push([
      'training',
      'Training',
      `<section id="training"><h2>Robustness during training</h2><figure class="chart">${trainingSvg}</figure><p class="caption">After every epoch, each entry's accuracy under the training monitor (${h(monitorLine(page.entries))}), against ${trainingClock(page.entries) === 'cpuSeconds' ? "the process's CPU time of training so far (all its threads; the monitor's own time excluded; model.json keeps the wall time too)" : "the wall time of training so far (the monitor's own time excluded; other processes' load inflates it)"}, with 95% Wilson bands. The monitor is weaker than the leaderboard's evaluation: it shows the trend, and where a recipe stood when its budget ran out; the leaderboard's figures are the reference.</p></section>`,
    ]);
  }
  if (dataSvg) {
    sections.push([
      'data',
      'Data',
      `<section id="data"><h2>Robustness against training examples</h2><figure class="chart">${dataSvg}</figure><p class="caption">Entries trained on different numbers of examples: clean and worst-case accuracy on the test digits, and the worst case on training digits where the benchmark evaluates them (the first class-balanced digits of the whole training split, which a few of the monitor's held-out digits may be among; the gap between the two lines is robust overfitting), against the examples each model was fitted on (log scale), with 95% Wilson bands. Worst cases are over the evaluation's attacks, on every point alike: a confirming attack that ran on the leading rows only is in the leaderboards, not here.</p></section>`,
    ]);
  }
  if (headline) sections.push(['leaderboard', 'Leaderboard', leaderboardSection(headline)]);
  others.forEach((b, i) => {
    const at = `Leaderboard at ε = ${formatEps(b.eps ?? 0)}${b.norm ? ` (${b.norm})` : ''}`;
    sections.push([`leaderboard-${i + 2}`, `ε = ${formatEps(b.eps ?? 0)}`, leaderboardSection(b, { id: `leaderboard-${i + 2}`, heading: at })]);
  });
  sections.push(['provenance', 'Provenance', provenanceSection(page)]);
  return htmlPage({
    title: page.title,
    sub: `${page.entries.length} entries · ε ${boards.map((b) => formatEps(b.eps ?? 0)).reverse().join(', ')}`,
    style: 'td.wrap { white-space: normal; overflow-wrap: anywhere; min-width: 12em; }',
    sections,
    script: SORT_SCRIPT,
  });
}

/** Renders the curves (at build time, no network when the page opens) and lays out the page. */
export async function buildBenchHtml(page: BenchPage): Promise<string> {
  if (page.entries.length === 0) return renderBenchHtml(page, undefined);
  const norm = page.entries[0]!.report.config.attacks[0]?.norm ?? 'linf';
  const runs = page.entries.map((e) => ({ label: e.name, points: benchCurvePoints([e]) }));
  const description = 'Worst-case robust accuracy of every benchmark entry against ε, with 95% Wilson intervals';
  const curves = await specToSvg(runCurvesSpec(runs, { xTitle: `ε (${norm === 'linf' ? 'L∞' : norm.toUpperCase()})`, description }));
  const clock = trainingClock(page.entries);
  const trained = page.entries.filter((e) => e.trainingCurve && e.trainingCurve.history.length > 0).map((e) => ({ label: e.name, points: trainingCurvePoints([e], clock) }));
  const training = trained.length > 0 ? await specToSvg(runCurvesSpec(trained, { xTitle: CLOCK_TITLE[clock], yTitle: 'held-out robust accuracy', description: 'Held-out robust accuracy of every benchmark entry after each training epoch, against training time' })) : undefined;
  const scaling = dataScalingRuns(page.entries);
  const data = scaling ? await specToSvg(runCurvesSpec(scaling, { xTitle: 'training examples (log scale)', yTitle: 'accuracy', xLog: true, description: 'Clean and worst-case robust accuracy against the number of training examples' })) : undefined;
  return renderBenchHtml(page, curves, training, data);
}
