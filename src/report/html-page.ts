import escapeHtml from 'escape-html';
import { STYLE } from './html-assets.js';

const h = (v: unknown): string => escapeHtml(String(v));

/** A section of a page: its anchor, its label in the navigation bar, its HTML ('' leaves it out). */
export type PageSection = [id: string, label: string, html: string];

export interface PageParts {
  title: string;
  /** advtest's version, for the generator tag and the footer, when the page knows it. */
  version?: string;
  /** The line under the title (text, escaped here). */
  sub?: string;
  /** CSS after the shared stylesheet. */
  style?: string;
  /** HTML between the header and the navigation (the KPI cards). */
  lead?: string;
  sections: PageSection[];
  /** Leave out the navigation bar (a page of one or two sections). */
  nav?: boolean;
  /** Facts for the footer after "Made by advtest" (text, escaped here). */
  footer?: string;
  /** Inline script; without one the page's policy allows none. */
  script?: string;
}

/**
 * The one HTML page every advtest report is: self-contained (inline style, script and images, a
 * policy that forbids any network request), a header, a navigation bar over its sections, a footer.
 */
export function htmlPage(p: PageParts): string {
  const csp = `default-src 'none'; img-src data:; style-src 'unsafe-inline'${p.script ? "; script-src 'unsafe-inline'" : ''}`;
  const made = `advtest${p.version ? ` ${p.version}` : ''}`;
  const sections = p.sections.filter(([, , html]) => html !== '');
  const nav = p.nav === false ? '' : `<nav>${sections.map(([id, label]) => `<a href="#${id}">${h(label)}</a>`).join('')}</nav>\n`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="${h(made)}">
<title>${h(p.title)}</title>
<style>${STYLE}${p.style ? `\n${p.style}` : ''}</style>
</head>
<body>
<main>
<header><h1>${h(p.title)}</h1>${p.sub ? `<p class="sub">${h(p.sub)}</p>` : ''}</header>
${p.lead ? `${p.lead}\n` : ''}${nav}${sections.map(([, , html]) => html).join('\n')}
<footer>Made by ${h(made)}${p.footer ? ` · ${h(p.footer)}` : ''}. Self-contained: this page loads nothing from the network.</footer>
</main>
${p.script ? `<script>${p.script}</script>\n` : ''}</body>
</html>
`;
}
