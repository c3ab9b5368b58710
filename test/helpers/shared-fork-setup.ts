import { afterAll } from 'vitest';

/**
 * Setup of the "shared" project (vitest.config.ts), whose files run one after another in one
 * process: src modules are evaluated afresh for each file, but process.stdout and process.stderr
 * are the same objects, so a listener a module adds once per process (the CLI's EPIPE guard)
 * piled up one per file and Node warned on stderr, into output a test compared. Each file's
 * listeners are removed after it, as its own process would have dropped them.
 */
const streams = [process.stdout, process.stderr];
const before = streams.map((s) => new Map(s.eventNames().map((e) => [e, new Set(s.listeners(e))])));

afterAll(() => {
  streams.forEach((s, i) => {
    for (const e of s.eventNames()) {
      for (const l of s.listeners(e)) if (!before[i]!.get(e)?.has(l)) s.removeListener(e, l as (...args: unknown[]) => void);
    }
  });
});
