import type { SuiteMode } from '../harness/evaluate.js';
import type { Proportion, SanityCheck } from '../harness/report-types.js';
import type { TargetSpec } from '../harness/targets.js';
import type { AttackCliOptions } from '../run/attack-options.js';
import type { EvaluationRequest } from '../run/requests.js';

/** Bumped whenever a reader of the old format would misread the new one. */
export const BASELINE_FORMAT = 'advtest-baseline/1';

/**
 * The attack options as given on the command line (`--attack pgd --steps 40 …`; every option of
 * src/run/attack-option-table.ts): the attacks are rebuilt from them by the parser `advtest eval`
 * uses, so presets, norms and EOT/BPDA wrappers come back exactly as the registry builds them today.
 */
export type AttackRequest = Omit<AttackCliOptions, 'mode'>;

/**
 * Everything needed to re-run the evaluation a baseline was made with, and nothing about the model:
 * the run description's data, subset size (absent = the whole split), input transform (applied to
 * the model loaded from a folder) and seed; `folder:PATH` and `dataDir` are relative to the baseline's folder.
 */
export interface EvaluationSpec extends Pick<EvaluationRequest, 'data' | 'dataDir' | 'limit' | 'transform' | 'seed'> {
  split: 'train' | 'test';
  request: AttackRequest;
  /** What the request built: a check compares it with what the request builds now. */
  attacks: { name: string; norm: string; config: Record<string, unknown> }[];
  mode: SuiteMode;
  epsilons: number[];
  batchSize: number;
  target: TargetSpec;
}

/** One figure (clean, one attack at one ε, or the worst case at one ε) with its per-example bits. */
export interface BaselineFigure extends Proportion {
  /** Per-example robustness (correct, for clean) as a bitset, base64; bit i = example i, LSB first. */
  bits: string;
}

export interface Baseline {
  format: typeof BASELINE_FORMAT;
  tool: { name: 'advtest'; version: string };
  createdAt: string;
  versions: { node: string; tfjs: string };
  backend: { name: string; fastKernels: boolean; note?: string };
  /** The model the baseline was recorded on; `path` is relative to the baseline's folder. */
  model: {
    path: string;
    info: Record<string, unknown>;
    /** sha256 of the model's weight files when recorded (absent in baselines of older versions). */
    weights?: string;
  };
  evaluation: EvaluationSpec;
  /** sha256 of the canonical JSON of `evaluation`: equal hashes = the same evaluation. */
  configHash: string;
  data: { name: string; split: string; size: number; shape: number[]; fingerprint: string; subset?: string };
  figures: {
    clean: BaselineFigure;
    results: (BaselineFigure & { attack: string; norm: string; eps: number })[];
    /** Robust only if the example survived every attack at that ε. */
    worstCase: (BaselineFigure & { eps: number })[];
  };
  /** Ids of the evaluated examples, in bit order. */
  examples: { ids: string[] };
  /**
   * The sanity checks of the run that made the baseline, so that `check` can show them beside the
   * re-run's. Absent in baselines of older versions ("not recorded").
   */
  sanity?: SanityCheck[];
  /**
   * Per class (index = label), per attack × ε and for the worst case ("worst case", with several
   * attacks): the examples and those robust, so that `check` can show per-class deltas. The
   * robust counts add up to the figure's `correct`. Absent in baselines of older versions.
   */
  perClass?: BaselineClassCounts[];
}

/** One series at one ε, per class: examples (`n`) and robust examples (`robust`), as integers. */
export interface BaselineClassCounts {
  /** An attack's name, or "worst case". */
  attack: string;
  eps: number;
  n: number[];
  robust: number[];
}
