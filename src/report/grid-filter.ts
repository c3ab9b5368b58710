import { UserError } from '../errors.js';
import { formatEps } from '../number-format.js';
import type { Report } from '../harness/report-types.js';
import { parseEps } from '../parse.js';
import { classCount } from './breakdown.js';

/** Which examples an image grid shows; every field optional (absent: no restriction). */
export interface GridFilter {
  /** Only images made by this attack. */
  attack?: string;
  /** Only images at this ε (one of the report's). */
  eps?: number;
  /** Only examples the attack fooled there, or only those that held. */
  fate?: 'fooled' | 'robust';
  /** Only examples of these true classes. */
  classes?: number[];
}

/** The filter as the command line gives it, before it is checked against the report. */
export interface GridFilterInput {
  attack?: string;
  eps?: string;
  fooled?: boolean;
  robust?: boolean;
  classes?: string;
}

/** What a filter may name: the report's (or the coming evaluation's) attacks, ε and classes. */
export interface GridChoices {
  attacks: string[];
  epsilons: number[];
  numClasses: number;
  classNames?: readonly string[];
}

export function gridChoices(report: Report, classNames?: readonly string[]): GridChoices {
  return {
    attacks: report.config.attacks.map((a) => a.name),
    epsilons: [...report.config.epsilons],
    numClasses: classCount(report, report.probe?.numClasses),
    ...(classNames ? { classNames } : {}),
  };
}

/**
 * Checks a grid filter against what the report holds. `prefix` is put before every option name
 * in the messages ("grid-" for eval, whose --attack and --eps choose the attacks themselves).
 */
export function parseGridFilter(input: GridFilterInput, choices: GridChoices, prefix = ''): GridFilter {
  const opt = (name: string) => `--${prefix}${name}`;
  const out: GridFilter = {};
  if (input.fooled && input.robust) throw new UserError(`${opt('fooled')} and ${opt('robust')} exclude each other: give one, or neither for both kinds`);
  if (input.fooled) out.fate = 'fooled';
  if (input.robust) out.fate = 'robust';
  if (input.attack !== undefined) {
    const name = input.attack.trim();
    if (!choices.attacks.includes(name)) throw new UserError(`${opt('attack')} "${input.attack}" is not an attack of this run: choose one of ${choices.attacks.join(', ')}`);
    out.attack = name;
  }
  if (input.eps !== undefined) {
    const value = parseEps(input.eps, opt('eps'));
    // ε are compared to a precision finer than any budget written by hand (8/255 ≠ 0.0314).
    const eps = choices.epsilons.find((e) => Math.abs(e - value) <= 1e-9 * Math.max(1, Math.abs(e)));
    if (eps === undefined) throw new UserError(`${opt('eps')} "${input.eps}" is not an ε of this run: choose one of ${choices.epsilons.map(formatEps).join(', ')}`);
    out.eps = eps;
  }
  if (input.classes !== undefined) {
    const names = choices.classNames ?? [];
    const range = `0–${choices.numClasses - 1}${names.some((n, k) => n !== String(k)) ? ' or a class name' : ''}`;
    const parts = input.classes.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
    if (parts.length === 0) throw new UserError(`${opt('classes')} "${input.classes}" names no class: write e.g. ${opt('classes')} 3,5 (classes ${range})`);
    out.classes = [
      ...new Set(
        parts.map((p) => {
          const byName = names.indexOf(p);
          const k = /^\d+$/.test(p) ? Number(p) : byName;
          if (!(k >= 0 && k < choices.numClasses)) throw new UserError(`${opt('classes')}: "${p}" is not a class of this model: choose among ${range}`);
          return k;
        }),
      ),
    ];
  }
  return out;
}

/** The filter in words, for notes ("robust, pgd, ε=0.3, classes 3, 5"). */
export function describeGridFilter(filter: GridFilter): string {
  const parts = [
    filter.fate === 'robust' ? 'held' : filter.fate ?? '',
    filter.attack ?? '',
    filter.eps === undefined ? '' : `ε=${formatEps(filter.eps)}`,
    filter.classes ? `class${filter.classes.length > 1 ? 'es' : ''} ${filter.classes.join(', ')}` : '',
  ];
  return parts.filter((p) => p.length > 0).join(', ');
}
