import { Option, type Command } from 'commander';
import { BACKEND_CHOICES, initBackend, type BackendChoice, type BackendInfo } from '../backend/select.js';
import { parseNonNegativeInt, parsePositiveInt } from './parse.js';

export interface CommonOptions {
  backend: BackendChoice;
  threads?: string;
  seed: string;
  quiet?: boolean;
}

/** --backend, --threads, --seed and --quiet, which every computing command takes. */
export function withCommonOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--backend <name>', 'tensorflow (tfjs-node, when installed) | wasm | cpu').choices([...BACKEND_CHOICES]).default('auto'))
    .option('--threads <n>', 'wasm kernel threads in this process (default: one per core; results are identical for any n)')
    .option('--seed <n>', 'seed for every random choice', '0')
    .option('--quiet', 'no progress bars or log lines on stderr');
}

export async function setup(opts: CommonOptions): Promise<{ backend: BackendInfo; seed: number; quiet: boolean }> {
  const seed = parseNonNegativeInt(opts.seed, '--seed');
  const threads = opts.threads === undefined ? undefined : parsePositiveInt(opts.threads, '--threads');
  const backend = await initBackend(opts.backend, threads === undefined ? {} : { threads });
  return { backend, seed, quiet: opts.quiet === true };
}

/** The options that say what to evaluate, shared by eval, baseline and check. */
export interface EvaluationCliOptions {
  data: string;
  dataDir?: string;
  split: 'train' | 'test';
  eps: string;
  limit?: string;
  batchSize: string;
  targeted?: string;
  transform?: string;
}

/** --data, --eps and the other options that say what to evaluate (eval, baseline). */
export function withEvaluationOptions(cmd: Command): Command {
  return cmd
    .option('--data <spec>', 'mnist | fashion-mnist | folder:PATH', 'mnist')
    .option('--data-dir <dir>', 'folder holding the Fashion-MNIST IDX files')
    .addOption(new Option('--split <name>', 'which split of mnist / fashion-mnist (train: e.g. the robust generalisation gap)').choices(['test', 'train']).default('test'))
    .option('--eps <list>', 'budgets: 0.1,0.2,0.3 or 8/255 or a range 0:0.3:0.05', '0.1,0.2,0.3')
    .option('--limit <n>', 'a fixed class-balanced subset of n examples of the split')
    .option('--batch-size <n>', 'examples per batch', '128')
    .option('--targeted <spec>', 'least-likely | random | a class index')
    .option('--transform <spec>', 'evaluate the model behind an input transform: bit-depth=B | median=K | jpeg=Q | noise=SIGMA');
}
