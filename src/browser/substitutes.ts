/**
 * The browser build's module substitutions: each Node-bound module the browser entry reaches is
 * replaced by a browser-safe stand-in exporting the same names (esbuild fails the build if one is
 * missing). Keys are paths from the repository root (sources) or bare specifiers. Used by
 * scripts/build-browser.ts and test/browser/bundle.test.ts; nothing else needs to know.
 */
export const BROWSER_SUBSTITUTES: Readonly<Record<string, string>> = {
  'node:crypto': 'src/browser/node-crypto.ts',
  'src/backend/select.ts': 'src/browser/backend.ts',
  'src/harness/journal.ts': 'src/browser/journal.ts',
  'src/harness/model-digest.ts': 'src/browser/model-digest.ts',
  'src/package-info.ts': 'src/browser/package-info.ts',
};
