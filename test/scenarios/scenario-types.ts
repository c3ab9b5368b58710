/** The shape of fixtures/scenarios/<name>/scenario.json (written by scripts/make-scenarios.ts). */

export type Shape = [number, number, number];

/** The library call a scenario makes; scenarios.test.ts maps each to the functions it names. */
export type ApiCall =
  | { call: 'decodeImage'; file: string; shape: Shape }
  | { call: 'loadModel'; model: string }
  | { call: 'loadDataset'; spec: string; shape: Shape; dataDir?: string }
  /** loadModel, loadDataset at the model's input shape, evaluate with FGSM: what `advtest eval` does. */
  | { call: 'evaluate'; model: string; data: string; eps: number[] }
  /** loadModel, decodeImage, attackImages with FGSM: what `advtest attack` does. */
  | { call: 'attackImages'; model: string; image: string; eps: number; out: string }
  | { call: 'parseEpsList'; text: string }
  | { call: 'checkEpsAgainstRange'; eps: number[]; range: number }
  | { call: 'checkOutputFile'; file: string; option: string; createFolders?: boolean }
  | { call: 'readBaseline'; file: string }
  | { call: 'initBackend'; backend: 'wasm'; threads: number }
  /** saveModel of a tiny LayersModel built by the test. */
  | { call: 'saveModel'; dir: string };

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
