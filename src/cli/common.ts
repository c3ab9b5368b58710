import { Option, type Command } from 'commander';
import { BACKEND_CHOICES, initBackend, type BackendChoice, type BackendInfo } from '../backend/select.js';
import { parseNonNegativeInt } from './parse.js';

export interface CommonOptions {
  backend: BackendChoice;
  seed: string;
  quiet?: boolean;
}

/** --backend, --seed and --quiet, which every computing command takes. */
export function withCommonOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--backend <name>', 'tensorflow (tfjs-node, when installed) | wasm | cpu').choices([...BACKEND_CHOICES]).default('auto'))
    .option('--seed <n>', 'seed for every random choice', '0')
    .option('--quiet', 'no progress bars or log lines on stderr');
}

export async function setup(opts: CommonOptions): Promise<{ backend: BackendInfo; seed: number; quiet: boolean }> {
  const seed = parseNonNegativeInt(opts.seed, '--seed');
  const backend = await initBackend(opts.backend);
  return { backend, seed, quiet: opts.quiet === true };
}

/** The options that say what to evaluate, shared by eval, baseline and check. */
export interface EvaluationCliOptions {
  data: string;
  dataDir?: string;
  eps: string;
  limit?: string;
  batchSize: string;
  targeted?: string;
  transform?: string;
}
