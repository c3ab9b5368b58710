import { Option, type Command } from 'commander';
import { bpda, eot } from '../../attacks/adaptive.js';
import { ATTACK_REGISTRY, PRESETS, parseAttackSpec, type AttackOptions } from '../../attacks/index.js';
import { UserError } from '../errors.js';
import type { SuiteMode } from '../harness/evaluate.js';
import type { LossName } from '../tensor/loss.js';
import { LOSSES } from '../tensor/loss.js';
import type { Attack, NormName } from '../types.js';
import { parsePositiveInt, parseStepSize } from './parse.js';

export interface AttackCliOptions {
  attack: string;
  steps?: string;
  stepSize?: string;
  restarts?: string;
  norm?: NormName;
  loss?: string;
  mode?: SuiteMode;
  bpda?: boolean;
  eot?: string;
  targets?: string;
}

/** The registered attacks, for help texts (from the registry, so that a new attack is listed). */
function attackNames(): string {
  return Object.keys(ATTACK_REGISTRY).join(', ');
}

function presetNames(): string {
  return Object.entries(PRESETS).map(([name, members]) => `${name} = ${members.join(',')}`).join('; ');
}

/** --attack and the options every attack understands. */
export function withAttackOptions(cmd: Command, defaultAttack = 'fgsm'): Command {
  return cmd
    .option('--attack <names>', `an attack (${attackNames()}), a comma-separated suite of them, or a preset (${presetNames()})`, defaultAttack)
    .option('--steps <n>', 'iterations of iterative attacks')
    .option('--step-size <x>', 'absolute (0.01) or relative to ε (0.1x)')
    .option('--restarts <n>', 'random restarts; each keeps the per-example worst case')
    .addOption(new Option('--norm <norm>', 'threat model').choices(['linf', 'l2']))
    .option('--loss <name>', 'attack loss: ce (cross-entropy) or dlr')
    .option('--bpda', 'attack through the input transform with a straight-through gradient (BPDA)')
    .option('--eot <n>', 'average gradients over n draws of a randomised model (EOT)')
    .option('--targets <k>', 'apgd-t and fab-t: attack the k classes with the highest clean logits other than the true one (default 9)')
    .addOption(new Option('--mode <mode>', 'independent: every attack on every example; sequential: each on the survivors (default for suites)').choices(['independent', 'sequential']));
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

export function attackOptionsFrom(o: AttackCliOptions): AttackOptions {
  const out: AttackOptions = {};
  if (o.steps !== undefined) out.steps = parsePositiveInt(o.steps, '--steps');
  if (o.stepSize !== undefined) Object.assign(out, parseStepSize(o.stepSize));
  if (o.restarts !== undefined) out.restarts = parsePositiveInt(o.restarts, '--restarts');
  if (o.targets !== undefined) out.targets = parsePositiveInt(o.targets, '--targets');
  if (o.norm !== undefined) out.norm = o.norm;
  if (o.loss !== undefined) {
    if (!(o.loss in LOSSES)) throw new UserError(`--loss "${o.loss}": use one of ${Object.keys(LOSSES).join(', ')}`);
    out.loss = o.loss as LossName;
  }
  return out;
}

/** Wraps gradient attacks in EOT and BPDA as asked; score-based attacks need neither. */
function adaptive(attack: Attack, o: AttackCliOptions): Attack {
  if (attack.kind === 'black-box') return attack;
  let out = attack;
  if (o.eot !== undefined) out = eot(out, parsePositiveInt(o.eot, '--eot'));
  if (o.bpda) out = bpda(out);
  return out;
}

/** The attacks and the suite mode a command line asks for. */
export function attacksFrom(o: AttackCliOptions): { attacks: Attack[]; mode: SuiteMode } {
  const parsed = parseAttackSpec(o.attack, attackOptionsFrom(o));
  const { preset } = parsed;
  const attacks = parsed.attacks.map((a) => adaptive(a, o));
  const mode = o.mode ?? (preset !== undefined || attacks.length > 1 ? 'sequential' : 'independent');
  return { attacks, mode };
}
