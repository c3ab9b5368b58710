import { encodePng } from '../data/image-codec.js';
import { exampleCaptions } from './captions.js';
import { renderCurvesSvg } from './curve-chart.js';
import type { ReportDocument } from './document.js';
import { renderGridPng } from './grid-png.js';
import { renderHtml, type HtmlExample } from './html.js';
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

/** Renders the curves and images of a document and lays out the self-contained page. */
export async function buildHtml(doc: ReportDocument, options: BuildHtmlOptions = {}): Promise<string> {
  const curvesSvg = doc.report ? await renderCurvesSvg(doc.report) : undefined;
  let examples: HtmlExample[] | undefined;
  let gridPng: string | undefined;
  if (options.examples && options.examples.length > 0) {
    examples = [];
    for (const ex of options.examples) {
      const tiles = exampleTiles(ex);
      examples.push({
        captions: exampleCaptions(ex, tiles.magnification, options.classNames),
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
  });
}
