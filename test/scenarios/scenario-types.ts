/** The shape of fixtures/scenarios/<name>/scenario.json (written by scripts/make-scenarios.ts). */

export type Shape = [number, number, number];

/** The library call a scenario makes; scenarios.test.ts maps each to the functions it names. */
export type ApiCall =
  | { call: 'decodeImage'; file: string; shape: Shape }
  /** labels: a labels file read as --labels does; preprocessing: as --mean/--std give it (issue 13). */
  | { call: 'loadModel'; model: string; labels?: string; preprocessing?: { mean?: number[]; std?: number[] } }
  | { call: 'loadDataset'; spec: string; shape: Shape; dataDir?: string }
  /** loadModel, loadDataset at the model's input shape, evaluate with FGSM: what `advtest eval` does. */
  | { call: 'evaluate'; model: string; data: string; eps: number[] }
  /** loadModel, decodeImage, attackImages with FGSM: what `advtest attack` does. */
  | { call: 'attackImages'; model: string; image: string; eps: number; out: string; existing?: 'refuse' }
  /** The memory floor `advtest attack` checks before decoding (images: how many were given). */
  | { call: 'checkBatchFits'; batchSize: number; images: number; shape: Shape }
  | { call: 'parseEpsList'; text: string }
  | { call: 'checkEpsAgainstRange'; eps: number[]; range: number }
  | { call: 'checkOutputFile'; file: string; option: string; createFolders?: boolean }
  | { call: 'readBaseline'; file: string }
  | { call: 'initBackend'; backend: 'wasm'; threads: number }
  /** saveModel of a tiny LayersModel built by the test. */
  | { call: 'saveModel'; dir: string }
  // Faults (issue 18): the library side of a refused output path, integer option, merge, journal.
  | { call: 'parsePositiveInt'; text: string; option: string }
  | { call: 'checkRunPaths'; run: import('../../src/cli/output-path.js').RunPaths }
  /** Reads each file as JSON and merges them as `advtest merge` does. */
  | { call: 'mergeFiles'; files: string[] }
  /** Opens a journal at file with a header of no particular evaluation. */
  | { call: 'openJournal'; file: string }
  /** loadBenchConfig, then runBench into `out`: what `advtest bench` does. */
  | { call: 'runBench'; config: string; out: string };

export interface Scenario {
  /** What is wrong with the input, for people reading the folder. */
  description: string;
  /**
   * CLI arguments after `advtest`. Placeholders: {dir} the scenario's folder, {fixtures} the
   * repository's fixtures/ folder, {out} a path in a fresh empty temporary folder.
   */
  cli: string[];
  /** 2: the user's input or usage; 3: an internal error (none of the scenarios). */
  exitCode: 2 | 3;
  /** A regular expression the single stderr line (with its `advtest: ` prefix) must match. */
  stderr: string;
  /** The line must contain this: the bad value or file, so that the user knows what to fix. */
  names: string;
  /** The library call that must reject with the same message (without the `advtest: ` prefix). */
  api: ApiCall;
  /** Class name of the error the library call rejects with. */
  error: 'UserError';
}
