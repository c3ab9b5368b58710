import { Option, type Command } from 'commander';
import { ATTACK_REGISTRY, PRESETS } from '../../attacks/index.js';
import { defenseSyntax } from '../../defenses/registry.js';
import { parseParallelism } from '../backend/parallelism.js';
import { BACKEND_CHOICES, initBackend, type BackendChoice, type BackendInfo } from '../backend/select.js';
import { parseNonNegativeInt } from '../parse.js';
import { ATTACK_OPTION_TABLE, type AttackOptionTable } from '../run/attack-option-table.js';

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
    .option('--threads <n>', 'wasm kernel threads in this process: a number, or auto (as many as a start-up measurement finds worth it) (default: one per core; results are identical for any n)')
    .option('--seed <n>', 'seed for every random choice', '0')
    .option('--quiet', 'no progress bars or log lines on stderr');
}

export async function setup(opts: CommonOptions): Promise<{ backend: BackendInfo; seed: number; quiet: boolean }> {
  const seed = parseNonNegativeInt(opts.seed, '--seed');
  const threads = opts.threads === undefined ? undefined : parseParallelism(opts.threads, '--threads');
  const backend = await initBackend(opts.backend, threads === undefined ? {} : { threads });
  if (opts.quiet !== true) for (const line of backend.parallelism ?? []) process.stderr.write(`advtest: ${line}\n`);
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
    .option('--transform <spec>', `evaluate the model behind an input transform: ${defenseSyntax('input-transform')}`);
}

/** --model DIR, or an HTTP endpoint with what advtest cannot read from it. */
export function withModelOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--model <dir|url>', 'folder with model.json (LayersModel or GraphModel), or an http(s) endpoint answering {"predictions"}')
    .option('--input-shape <h,w,c>', 'input shape of an HTTP model, e.g. 28,28,1')
    .option('--classes <n>', 'number of classes of an HTTP model')
    .addOption(new Option('--outputs <kind>', 'what an HTTP model returns').choices(['logits', 'probabilities']).default('logits'))
    .option('--concurrency <n>', 'requests in flight to an HTTP model', '4')
    .option('--input-range <lo,hi>', "the range the model takes, e.g. 0,1 | -1,1 | 0,255 (pixels and ε stay in [0, 1]; default: the model's metadata, else 0,1)")
    .option('--mean <r,g,b>', "per-channel mean subtracted after --input-range, in the model's channel order, e.g. 0.485,0.456,0.406")
    .option('--std <r,g,b>', 'per-channel standard deviation divided after --mean, e.g. 0.229,0.224,0.225')
    .option('--channel-order <rgb|bgr>', 'channel order the model takes (pixels are decoded as RGB)')
    .option('--labels <file>', 'class names: a text file with one name per line, or a JSON array / {"labels": [...]}');
}

/** The registered attacks, for help texts (from the registry, so that a new attack is listed). */
function attackNames(): string {
  return Object.keys(ATTACK_REGISTRY).join(', ');
}

function presetNames(): string {
  return Object.entries(PRESETS).map(([name, members]) => `${name} = ${members.join(',')}`).join('; ');
}

/** --attack, the options every attack understands (declared in src/run/attack-option-table.ts) and --mode. */
export function withAttackOptions(cmd: Command, defaultAttack = 'fgsm', table: AttackOptionTable = ATTACK_OPTION_TABLE): Command {
  cmd.option('--attack <names>', `an attack (${attackNames()}), a comma-separated suite of them, or a preset (${presetNames()})`, defaultAttack);
  for (const row of table) {
    // The default is applied where the value is parsed (the same for bench configs and baselines), not by commander.
    const option = new Option(row.flag, row.default === undefined ? row.help : `${row.help} (default: ${row.default})`);
    if (row.choices) option.choices([...row.choices]);
    if (option.attributeName() !== row.name) throw new Error(`attack option ${row.name}: its flag ${row.flag} would be read as ${option.attributeName()}`);
    cmd.addOption(option);
  }
  return cmd.addOption(new Option('--mode <mode>', 'independent: every attack on every example; sequential: each on the survivors (default for suites)').choices(['independent', 'sequential']));
}

/**
 * For a command that runs exactly one attack (advtest attack): --attack lists single attacks
 * only and --mode (a suite setting) is not offered, since such a command refuses both.
 */
export function forSingleAttack(cmd: Command): Command {
  const attack = cmd.options.find((o) => o.long === '--attack');
  if (attack) attack.description = `the attack: one of ${attackNames()}`;
  const mode = cmd.options.findIndex((o) => o.long === '--mode');
  if (mode >= 0) (cmd.options as Option[]).splice(mode, 1);
  return cmd;
}
