import { bpda, eot } from '../../attacks/adaptive.js';
import { checkDiversityProbability, withInputDiversity } from '../../attacks/input-diversity.js';
import { PLACEMENTS, type AttackOptions } from '../../attacks/index.js';
import { UserError } from '../errors.js';
import type { AttackDescription } from '../harness/report-types.js';
import { parsePositiveInt, parseStepSize } from '../parse.js';
import { isLossName, parseLossName } from '../tensor/loss.js';
import type { Attack, NormName } from '../types.js';

/** One attack option, declared once: the CLI, workers, bench configs, baselines and report rebuilding read it from here. */
export interface AttackOptionDeclaration {
  /** Its key in AttackCliOptions, a worker request, a bench config's eval section and a baseline's request. */
  name: string;
  /** The commander flag with its value, e.g. '--steps <n>'. */
  flag: string;
  /**
   * count = a positive integer, number, text (optionally one of `choices`), switch = a flag
   * without a value. The command line and baselines hold the text as typed; a bench config holds
   * the JSON value (a number for count and number).
   */
  type: 'count' | 'number' | 'text' | 'switch';
  choices?: readonly string[];
  /** Used when the option is absent, by every front door alike. */
  default?: string;
  help: string;
  /** Checks the text and sets what the attack's factory takes. */
  factory?: (text: string, out: AttackOptions) => void;
  /** Or wraps each built attack; wrappers apply by layer, innermost (lowest) first. A switch is applied only when on. */
  wrap?: { layer: number; apply: (attack: Attack, text: string) => Attack };
  /** Report rebuilding: the factory options a stored attack (name, norm, configuration) was built with. */
  fromStored?: (stored: AttackDescription) => AttackOptions;
  /** Report rebuilding: a wrapper's part of the attack name ("eot10" for pgd+eot10), with the value as group 1. */
  namePart?: RegExp;
}

export type AttackOptionTable = readonly AttackOptionDeclaration[];

/** l1: the minimal attacks fmn, fab, fab-t; l0: sparse-rs and fmn. */
const NORM_CHOICES = ['linf', 'l2', 'l1', 'l0'] as const;

/** A --flag <value> that must be one of its choices (commander checks the CLI; this, every other door). */
function oneOf(flag: string, choices: readonly string[], text: string): string {
  if (!choices.includes(text)) throw new UserError(`${flag} "${text}": use ${choices.join(' or ')}`);
  return text;
}

/** --input-diversity p: a probability; di-fgsm has its own (the paper's 0.5). */
function parseDiversity(text: string, attack: string): number {
  const p = /^\s*(\d+(\.\d*)?|\.\d+)\s*$/.test(text) ? Number(text) : NaN;
  checkDiversityProbability(p);
  if (attack === 'di-fgsm') throw new UserError(`--input-diversity ${text}: di-fgsm has the paper's p = 0.5; for another p use --attack bim --input-diversity ${text}`);
  return p;
}

/** EOT and BPDA change gradients: score-based attacks need neither, universal ones refuse both. */
function gradientWrapper(wrap: (attack: Attack, text: string) => Attack): (attack: Attack, text: string) => Attack {
  return (attack, text) => {
    if (attack.kind === 'black-box') return attack;
    if (attack.kind === 'universal') throw new UserError(`${attack.name} fits one perturbation on the model as it is: drop --eot and --bpda`);
    return wrap(attack, text);
  };
}

const storedNumber = (key: string) => (s: AttackDescription): AttackOptions => (typeof s.config[key] === 'number' ? { [key]: s.config[key] } : {});

/** A positive integer the factory takes under the option's name, read back from the attack's configuration under it. */
function countOption<N extends { [K in keyof AttackOptions]-?: AttackOptions[K] extends number | undefined ? K : never }[keyof AttackOptions]>(name: N, flag: `--${string} <${string}>`, help: string) {
  const option = flag.split(' ')[0]!;
  return {
    name,
    flag,
    type: 'count',
    help,
    factory: (text: string, out: AttackOptions) => void Object.assign(out, { [name]: parsePositiveInt(text, option) }),
    fromStored: storedNumber(name),
  } as const;
}

/** The attack options, in the order of `--help`. */
export const ATTACK_OPTION_TABLE = [
  countOption('steps', '--steps <n>', 'iterations of iterative attacks'),
  {
    name: 'stepSize',
    flag: '--step-size <x>',
    type: 'text',
    help: 'absolute (0.01) or relative to ε (0.1x)',
    factory: (text, out) => void Object.assign(out, parseStepSize(text)),
    fromStored: (s) => ({ ...storedNumber('relStepsize')(s), ...storedNumber('absStepsize')(s) }),
  },
  countOption('restarts', '--restarts <n>', 'random restarts; each keeps the per-example worst case'),
  {
    name: 'norm',
    flag: '--norm <norm>',
    type: 'text',
    choices: NORM_CHOICES,
    help: 'threat model (l1: fmn, fab; l0: ε = pixels, for sparse-rs, fmn)',
    factory: (text, out) => void (out.norm = oneOf('--norm', NORM_CHOICES, text) as NormName),
    fromStored: (s) => ({ norm: s.norm as NormName }),
  },
  {
    name: 'placement',
    flag: '--placement <where>',
    type: 'text',
    choices: PLACEMENTS,
    help: 'patch: a random position per image (default), or fixed at the centre',
    factory: (text, out) => void (out.placement = oneOf('--placement', PLACEMENTS, text) as AttackOptions['placement']),
  },
  {
    name: 'loss',
    flag: '--loss <name>',
    type: 'text',
    help: 'attack loss: ce (cross-entropy), dlr, or cw / cw=κ (C&W logit margin, capped at κ)',
    factory: (text, out) => void (out.loss = parseLossName(text)),
    fromStored: (s) => (typeof s.config.loss === 'string' && isLossName(s.config.loss) ? { loss: s.config.loss } : {}),
  },
  {
    name: 'bpda',
    flag: '--bpda',
    type: 'switch',
    help: 'attack through the input transform with a straight-through gradient (BPDA)',
    wrap: { layer: 3, apply: gradientWrapper((attack) => bpda(attack)) },
    namePart: /^bpda$/,
  },
  {
    name: 'eot',
    flag: '--eot <n>',
    type: 'count',
    help: 'average gradients over n draws of a randomised model (EOT)',
    wrap: { layer: 2, apply: gradientWrapper((attack, text) => eot(attack, parsePositiveInt(text, '--eot'))) },
    namePart: /^eot(\d+)$/,
  },
  {
    name: 'inputDiversity',
    flag: '--input-diversity <p>',
    type: 'number',
    help: 'gradients through a random resize-and-pad of the input with probability p (DI, Xie et al. 2019), for transfer attacks',
    // First: it changes the gradients the attack sees, and EOT/BPDA wrap around it.
    wrap: { layer: 1, apply: (attack, text) => withInputDiversity(attack, parseDiversity(text, attack.name)) },
    namePart: /^di([\d.]+)$/,
  },
  countOption('targets', '--targets <k>', 'apgd-t and fab-t: attack the k classes with the highest clean logits other than the true one (default 9)'),
] as const satisfies AttackOptionTable;

type Row = (typeof ATTACK_OPTION_TABLE)[number];

/** The attack options as the command line gives them: text, or true for a switch. */
export type AttackOptionValues = { [R in Row as R['name']]?: R['type'] extends 'switch' ? boolean : string };

/** The same options in a bench config's JSON: numbers for counts and numbers. */
export type AttackOptionJson = { [R in Row as R['name']]?: R['type'] extends 'switch' ? boolean : R['type'] extends 'text' ? string : number };

/** The options of `o` that are set (a switch only when on), as their text: what a worker or a baseline stores. */
export function givenAttackOptions(o: object, table: AttackOptionTable = ATTACK_OPTION_TABLE): Record<string, string | boolean> {
  const out: Record<string, string | boolean> = {};
  for (const row of table) {
    const value: unknown = (o as Record<string, unknown>)[row.name];
    if (value === undefined || value === null || value === false) continue;
    out[row.name] = row.type === 'switch' ? true : String(value);
  }
  return out;
}

/** The text of each option to apply: given, else its default. */
export function effectiveAttackOptions(o: object, table: AttackOptionTable = ATTACK_OPTION_TABLE): [AttackOptionDeclaration, string][] {
  const given = givenAttackOptions(o, table);
  return table.flatMap((row): [AttackOptionDeclaration, string][] => {
    const value = given[row.name] ?? row.default;
    return value === undefined ? [] : [[row, String(value)]];
  });
}

/** JSON Schema of one option's value: a bench config's (`json`) or a baseline's (the command-line text). */
export function optionSchema(row: AttackOptionDeclaration, form: 'json' | 'text'): Record<string, unknown> {
  if (row.type === 'switch') return { type: 'boolean' };
  if (row.choices) return { type: 'string', enum: [...row.choices] };
  if (form === 'text' || row.type === 'text') return { type: 'string' };
  return row.type === 'count' ? { type: 'integer', minimum: 1 } : { type: 'number' };
}

/** The options as JSON Schema properties. */
export function optionSchemas(form: 'json' | 'text', table: AttackOptionTable = ATTACK_OPTION_TABLE): Record<string, Record<string, unknown>> {
  return Object.fromEntries(table.map((row) => [row.name, optionSchema(row, form)]));
}
