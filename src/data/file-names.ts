import { basename } from 'node:path';

/**
 * The class label written into an image file name as `label<k>`, e.g.
 * `fixtures/images/mnist-test-1234-label7.png` → 7. Only the base name is searched, the
 * match is case-insensitive and must not be followed by more letters (`labels3` does not count);
 * returns undefined when the name carries no label.
 */
export function labelFromFileName(path: string): number | undefined {
  const match = /(?:^|[^a-z])label(\d+)(?![a-z0-9])/i.exec(basename(path));
  return match === null ? undefined : Number.parseInt(match[1], 10);
}

/** The fixture file name for example `index` of a split with label `label`. */
export function fixtureFileName(dataset: string, split: string, index: number, label: number): string {
  return `${dataset}-${split}-${index}-label${label}.png`;
}
