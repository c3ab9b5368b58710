import { bpda, eot } from '../../attacks/adaptive.js';
import { checkDiversityProbability, withInputDiversity } from '../../attacks/input-diversity.js';
import { PLACEMENTS, parseAttackSpec, type AttackOptions } from '../../attacks/index.js';
import { UserError } from '../errors.js';
import type { SuiteMode } from '../harness/evaluate.js';
import { parseLossName } from '../tensor/loss.js';
import type { Attack, NormName } from '../types.js';
import { parsePositiveInt, parseStepSize } from '../parse.js';

/** The attacks of a run as the command line spells them (also stored in baselines, sent to workers). */
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
  /** patch: random | fixed. */
  placement?: string;
  /** DI (Xie et al. 2019): gradients through a random resize-and-pad with this probability. */
  inputDiversity?: string;
}

export function attackOptionsFrom(o: AttackCliOptions): AttackOptions {
  const out: AttackOptions = {};
  if (o.steps !== undefined) out.steps = parsePositiveInt(o.steps, '--steps');
  if (o.stepSize !== undefined) Object.assign(out, parseStepSize(o.stepSize));
  if (o.restarts !== undefined) out.restarts = parsePositiveInt(o.restarts, '--restarts');
  if (o.targets !== undefined) out.targets = parsePositiveInt(o.targets, '--targets');
  if (o.norm !== undefined) out.norm = o.norm;
  if (o.loss !== undefined) out.loss = parseLossName(o.loss);
  if (o.placement !== undefined) {
    if (!(PLACEMENTS as readonly string[]).includes(o.placement)) throw new UserError(`--placement "${o.placement}": use ${PLACEMENTS.join(' or ')}`);
    out.placement = o.placement as AttackOptions['placement'];
  }
  return out;
}

/** --input-diversity p: a probability; di-fgsm has its own (the paper's 0.5). */
function parseDiversity(text: string, attack: string): number {
  const p = /^\s*(\d+(\.\d*)?|\.\d+)\s*$/.test(text) ? Number(text) : NaN;
  checkDiversityProbability(p);
  if (attack === 'di-fgsm') throw new UserError(`--input-diversity ${text}: di-fgsm has the paper's p = 0.5; for another p use --attack bim --input-diversity ${text}`);
  return p;
}

/** Wraps gradient attacks in EOT and BPDA as asked; score-based attacks need neither. */
function adaptive(given: Attack, o: AttackCliOptions): Attack {
  // Input diversity first: it changes the gradients the attack sees, EOT/BPDA wrap around it.
  const attack = o.inputDiversity === undefined ? given : withInputDiversity(given, parseDiversity(o.inputDiversity, given.name));
  if (attack.kind === 'black-box') return attack;
  if (attack.kind === 'universal' && (o.eot !== undefined || o.bpda)) throw new UserError(`${attack.name} fits one perturbation on the model as it is: drop --eot and --bpda`);
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
