import type { TopLevelSpec } from 'vega-lite';

/** A Vega-Lite specification rendered to a standalone SVG string in Node (nothing to load at open time). */
export async function specToSvg(spec: TopLevelSpec): Promise<string> {
  // Loaded on first use: vega takes about 0.3 s to import, which every other command would pay.
  const [vega, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** The look every chart of the page shares. */
export const CHART_CONFIG = {
  font: 'DejaVu Sans, Helvetica, Arial, sans-serif',
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: '#e6e6e6' },
  view: { stroke: '#cccccc' },
  header: { labelFontSize: 12, titleFontSize: 12 },
  legend: { labelFontSize: 12, titleFontSize: 12 },
} as const;

/** Tableau 10, the usual categorical scheme. */
export const COLOURS = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

/** Inner width of a full-width card of the page, in CSS pixels. */
export const CARD_WIDTH = 1080;
