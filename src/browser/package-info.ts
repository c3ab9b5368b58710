/** Stands in for src/package-info.ts in the browser build: the version is written in at bundle time. */
declare const __ADVTEST_VERSION__: string;

export function toolVersion(): string {
  return typeof __ADVTEST_VERSION__ === 'string' ? __ADVTEST_VERSION__ : 'unknown';
}
