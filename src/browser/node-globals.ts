/**
 * Node globals the harness uses, for the browser build (scripts/build-browser.ts imports these into
 * advtest's own modules that name them, and only those — tfjs must keep seeing no `process`): `process` — what a report records about where it ran: the page instead of a working
 * directory, the browser instead of Node; `setImmediate` — evaluate() yields between batches.
 */
const nav = (globalThis as { navigator?: { userAgent?: string } }).navigator;
const loc = (globalThis as { location?: { origin?: string; pathname?: string } }).location;

export const process = {
  cwd: (): string => (loc ? `${loc.origin ?? ''}${loc.pathname ?? ''}` : ''),
  platform: 'browser',
  arch: nav?.userAgent ?? 'unknown',
  versions: { node: 'none (browser)' } as Record<string, string>,
};

export function setImmediate(callback: () => void): ReturnType<typeof setTimeout> {
  return setTimeout(callback, 0);
}
