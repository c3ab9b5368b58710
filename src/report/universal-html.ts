import escapeHtml from 'escape-html';
import type { Report } from '../harness/report-types.js';
import { formatBudget, pct } from '../number-format.js';

/**
 * The HTML section of universal attacks: each fitted patch or perturbation (the PNG, embedded),
 * the file written beside the report, and its success rate on the evaluated examples.
 */
export function universalSection(report: Report): string {
  const norms = new Map(report.config.attacks.map((a) => [a.name, a.norm]));
  const cards = (report.universal ?? []).map((u) => {
    const [h, w] = u.shape;
    const what = u.kind === 'patch' ? `patch of ${h}×${w} pixels` : `perturbation (grey = 0, shown ×1/max|δ|)`;
    const fit = typeof u.details.fitSetErrorRate === 'number' ? ` · error on its ${String(u.details.examples)} fit examples ${pct(u.details.fitSetErrorRate)}` : '';
    const img = u.image ? `<img src="${u.image}" alt="${escapeHtml(`${u.attack} ${what}`)}" width="160" style="image-rendering: pixelated">` : '';
    return `<figure class="universal">${img}<figcaption><b>${escapeHtml(u.attack)}</b> ε = ${escapeHtml(formatBudget(u.eps, norms.get(u.attack)))}: ${escapeHtml(what)}<br>success on the evaluated examples ${pct(u.successRate)}${escapeHtml(fit)}${u.file ? `<br>file: <code>${escapeHtml(u.file)}</code>` : ''}</figcaption></figure>`;
  });
  return `<section id="universal"><h2>Universal perturbations and patches</h2>
<p class="note">One perturbation or patch per ε, fitted on training examples and applied unchanged to every evaluated example.</p>${cards.join('')}</section>`;
}
