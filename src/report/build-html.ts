import { encodePng } from '../data/image-codec.js';
import { exampleCaptions } from './captions.js';
import { renderCurvesSvg } from './curve-chart.js';
import type { ReportDocument } from './document.js';
import { renderGridPng } from './grid-png.js';
import { renderHtml, type HtmlAssets, type HtmlExample } from './html.js';
import type { Report } from '../harness/report-types.js';
import { confusionSpec, convergenceSpec, fellAtSpec, MANY_CLASSES, marginSpec, minimalSpec, perClassHeatmapSpec, perClassSpec, traceSpec } from './analysis-charts.js';
import { minimalDistributions } from './minimal-distribution.js';
import { classCount } from './breakdown.js';
import { fellAtDistribution } from './fell-at.js';
import { headlineSeries } from './html-analysis.js';
import { specToSvg } from './vega-svg.js';
import { runCurvesSpec } from './compare.js';
import type { ExampleImage } from './regenerate.js';
import { exampleTiles, type RgbTile } from './tiles.js';

export interface BuildHtmlOptions {
  /** Regenerated examples for the image grid; absent: no grid (say why in `notes`). */
  examples?: ExampleImage[];
  classNames?: readonly string[];
  notes?: string[];
}

async function dataUri(tile: RgbTile): Promise<string> {
  const png = await encodePng(tile.data, [tile.height, tile.width, 3]);
  return `data:image/png;base64,${png.toString('base64')}`;
}

/** The per-class, confusion, smallest-ε and convergence charts of a report, as inline SVG. */
export async function analysisCharts(report: Report, classNames?: readonly string[]): Promise<NonNullable<HtmlAssets['charts']>> {
  const charts: NonNullable<HtmlAssets['charts']> = {};
  const k = classCount(report, report.probe?.numClasses);
  // Many classes: bars per class and K × K heatmaps are unreadable; one heatmap, and tables instead.
  const many = k > MANY_CLASSES;
  if ((report.perClass ?? []).length > 0) charts.perClass = await specToSvg(many ? perClassHeatmapSpec(report, headlineSeries(report), classNames) : perClassSpec(report, classNames));
  if ((report.confusion ?? []).length > 0 && !many) charts.confusion = await specToSvg(confusionSpec(report, headlineSeries(report), k, classNames));
  if (report.examples.fellAt.length > 0) charts.fellAt = await specToSvg(fellAtSpec(fellAtDistribution(report)));
  if ((report.convergence ?? []).length > 0) charts.convergence = await specToSvg(convergenceSpec(report.convergence!));
  const minimal = minimalDistributions(report);
  if (minimal.length > 0) charts.minimal = await specToSvg(minimalSpec(minimal));
  if ((report.traces ?? []).length > 0) charts.traces = await specToSvg(traceSpec(report));
  if ((report.margins ?? []).length > 0) {
    charts.margin = await specToSvg(marginSpec(report, 'margin'));
    charts.confidence = await specToSvg(marginSpec(report, 'confidence'));
  }
  return charts;
}

/** Renders the curves and images of a document and lays out the self-contained page. */
export async function buildHtml(doc: ReportDocument, options: BuildHtmlOptions = {}): Promise<string> {
  // A regression check: the baseline's curves and the re-run's on one chart, as on the compare page.
  const curvesSvg = doc.regression?.curves ? await specToSvg(runCurvesSpec(doc.regression.curves)) : doc.report ? await renderCurvesSvg(doc.report) : undefined;
  const charts = doc.report ? await analysisCharts(doc.report, options.classNames) : undefined;
  let examples: HtmlExample[] | undefined;
  let gridPng: string | undefined;
  if (options.examples && options.examples.length > 0) {
    examples = [];
    for (const ex of options.examples) {
      const tiles = exampleTiles(ex);
      examples.push({
        captions: exampleCaptions(ex, tiles.magnification, options.classNames),
        facets: { attack: ex.attack, eps: ex.eps, label: ex.label },
        clean: await dataUri(tiles.clean),
        perturbation: await dataUri(tiles.perturbation),
        adversarial: await dataUri(tiles.adversarial),
      });
    }
    const grid = await renderGridPng(options.examples, options.classNames ? { classNames: options.classNames } : {});
    gridPng = `data:image/png;base64,${grid.toString('base64')}`;
  }
  return renderHtml(doc, {
    ...(curvesSvg ? { curvesSvg } : {}),
    ...(examples ? { examples } : {}),
    ...(gridPng ? { gridPng } : {}),
    ...(options.notes ? { notes: options.notes } : {}),
    ...(charts ? { charts } : {}),
    ...(options.classNames ? { classNames: options.classNames } : {}),
  });
}
