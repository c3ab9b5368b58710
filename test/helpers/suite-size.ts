import { inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Set by vitest.slow.config.ts: the opt-in suite runs shared test bodies at full size. */
    fullSize?: boolean;
  }
}

/**
 * True under `npm run test:slow`. A test file shared by both suites (test/slow/<name> imports
 * it) picks its size with `bySuite(fast, full)`: the same assertions, on fewer digits or steps in
 * `npm test`, on the full-size reproduction in the opt-in suite.
 */
export function fullSize(): boolean {
  return inject('fullSize') === true;
}

export function bySuite<T>(fast: T, full: T): T {
  return fullSize() ? full : fast;
}
