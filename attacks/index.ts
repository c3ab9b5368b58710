import { UserError } from '../src/errors.js';
import type { Attack, NormName } from '../src/types.js';
import { apgd } from './apgd.js';
import { bim } from './bim.js';
import { fgm, fgsm } from './fgsm.js';
import { miFgsm } from './mi-fgsm.js';
import type { LoopOptions } from './options.js';
import { pgd } from './pgd.js';
import { square } from './square.js';
import { eot } from './adaptive.js';
import { fab } from './fab.js';
import { cwL2 } from './cw.js';
import { ddn } from './ddn.js';
import { deepFool } from './deepfool.js';
import { fmn } from './fmn.js';
import { withInputDiversity } from './input-diversity.js';
import { sparseRs } from './sparse-rs.js';
import { uap } from './uap.js';
import { adversarialPatch, type Placement_ } from './patch.js';

export { apgd, apgdCheckpoints } from './apgd.js';
export { bpda, eot } from './adaptive.js';
export { bim } from './bim.js';
export { fgm, fgsm } from './fgsm.js';
export { miFgsm } from './mi-fgsm.js';
export { pgd } from './pgd.js';
export { square } from './square.js';
export { fab, fabMinimal, type FabOptions } from './fab.js';
export { projectL1, projectL2, projectLinf } from './fab-projections.js';
export { topOtherClasses } from './apgd.js';
export { cwL2, type CwOptions } from './cw.js';
export { ddn, type DdnOptions } from './ddn.js';
export { deepFool, type DeepFoolOptions } from './deepfool.js';
export { fmn, type FmnOptions } from './fmn.js';
export { gradientDescentAttack, type GradientDescentConfig } from './gradient-descent.js';
export { sparseRs, sparseRsFraction, type SparseRsOptions } from './sparse-rs.js';
export { uap, type UapOptions } from './uap.js';
export { adversarialPatch, parsePatchSize, patchEpsilons, PLACEMENTS, type PatchOptions } from './patch.js';
export { transferFrom, transferSources, checkTransferPair } from './transfer.js';
export { withInputDiversity, diverseInputs, checkDiversityProbability } from './input-diversity.js';
export type { LoopOptions } from './options.js';

/** Options the CLI passes to every attack; each attack takes what applies to it. */
export type AttackOptions = LoopOptions & {
  /** Query budget of score-based attacks. */ queries?: number;
  /** APGD-T / FAB-T: how many target classes (highest clean logits other than the true one). */ targets?: number;
  /** patch: where the patch goes when evaluated (and fitted). */ placement?: Placement_;
};

function singleStep(name: string, make: (o: AttackOptions) => Attack, norm: 'linf' | 'l2'): (o: AttackOptions) => Attack {
  return (o) => {
    if (o.norm && o.norm !== norm) throw new UserError(`${name} is the ${norm === 'linf' ? 'L∞' : 'L2'} single-step attack: use ${name === 'fgsm' ? 'fgm' : 'fgsm'} for --norm ${o.norm}`);
    if (o.steps !== undefined && o.steps !== 1) throw new UserError(`${name} takes one step: use bim or pgd for --steps ${o.steps}`);
    return make(o);
  };
}

/** Attacks by the name the CLI accepts. */
export const ATTACK_REGISTRY: Record<string, (o: AttackOptions) => Attack> = {
  fgsm: singleStep('fgsm', (o) => fgsm(o.loss ? { loss: o.loss } : {}), 'linf'),
  fgm: singleStep('fgm', (o) => fgm(o.loss ? { loss: o.loss } : {}), 'l2'),
  bim: (o) => bim(o),
  pgd: (o) => pgd(o),
  'mi-fgsm': (o) => miFgsm(o),
  'apgd-ce': (o) => apgdFrom(o, 'ce'),
  'apgd-dlr': (o) => apgdFrom(o, 'dlr'),
  square: (o) => {
    if (o.norm !== undefined && o.norm !== 'linf' && o.norm !== 'l2') throw new UserError(`square has L∞ and L2 versions: use --norm linf|l2${o.norm === 'l0' ? ', or --attack sparse-rs for l0' : ''}`);
    return square({ ...(o.queries !== undefined ? { queries: o.queries } : {}), ...(o.norm === 'l2' ? { norm: 'l2' as const } : {}) });
  },
  'apgd-t': (o) => {
    if (o.loss !== undefined && o.loss !== 'dlr') throw new UserError(`apgd-t uses the targeted DLR loss: drop --loss ${o.loss}`);
    return apgdFrom({ ...o, loss: 'dlr' }, 'dlr', o.targets ?? DEFAULT_TARGETS);
  },
  // DI-FGSM (Xie et al. 2019): BIM through input diversity, p = 0.5, torchattacks' 10 steps of ε/4.
  'di-fgsm': (o) => {
    const { steps = 10, relStepsize = 0.25, absStepsize, norm, restarts, loss } = o;
    return withInputDiversity(bim({ steps, relStepsize, ...(absStepsize !== undefined ? { absStepsize } : {}), ...(norm ? { norm } : {}), ...(restarts !== undefined ? { restarts } : {}), ...(loss ? { loss } : {}) }), 0.5, 'di-fgsm');
  },
  fab: (o) => fabFrom('fab', o),
  'fab-t': (o) => fabFrom('fab-t', o, o.targets ?? DEFAULT_TARGETS),
  // Minimal-perturbation attacks (Attack.minimal): one run gives every ε.
  'cw-l2': (o) => {
    minimalOptions('cw-l2', o, 'l2');
    return cwL2(o.steps !== undefined ? { steps: o.steps } : {});
  },
  deepfool: (o) => {
    minimalOptions('deepfool', o);
    return deepFool({ ...(o.norm ? { norm: o.norm } : {}), ...(o.steps !== undefined ? { steps: o.steps } : {}) });
  },
  ddn: (o) => {
    minimalOptions('ddn', o, 'l2');
    return ddn(o.steps !== undefined ? { steps: o.steps } : {});
  },
  fmn: (o) => {
    minimalOptions('fmn', o);
    return fmn({ ...(o.norm ? { norm: o.norm } : {}), ...(o.steps !== undefined ? { steps: o.steps } : {}) });
  },
  // Sparse and universal attacks.
  'sparse-rs': (o) => {
    ownOptionsOnly('sparse-rs', o, ['steps', 'loss']);
    if (o.norm !== undefined && o.norm !== 'l0') throw new UserError(`sparse-rs is the L0 attack (ε = pixels): use --norm l0, or --attack square for --norm linf`);
    if (o.loss !== undefined && o.loss !== 'ce') throw new UserError(`sparse-rs minimises the margin or --loss ce: drop --loss ${o.loss}`);
    // --steps is its query budget (it takes no gradient steps); queries is the library's name.
    const queries = o.steps ?? o.queries;
    return sparseRs({ ...(queries !== undefined ? { queries } : {}), ...(o.loss ? { loss: 'ce' as const } : {}) });
  },
  uap: (o) => {
    ownOptionsOnly('uap', o, ['steps']);
    if (o.norm !== undefined && o.norm !== 'linf' && o.norm !== 'l2') throw new UserError(`uap perturbs whole images in an L∞ or L2 ball: use --norm linf|l2 (or --attack patch for a local one)`);
    return uap({ ...(o.norm ? { norm: o.norm } : {}), ...(o.steps !== undefined ? { epochs: o.steps } : {}) });
  },
  patch: (o) => {
    ownOptionsOnly('patch', o, ['steps', 'placement']);
    if (o.norm !== undefined) throw new UserError(`patch has its own threat model (one square of --patch-size of the area): drop --norm ${o.norm}`);
    return adversarialPatch({ ...(o.placement ? { placement: o.placement } : {}), ...(o.steps !== undefined ? { epochs: o.steps } : {}) });
  },
};

// The options' command-line spelling, for messages: attacks/ must not import src/run's option table, so
// test/attacks/option-flags.test.ts checks every flag named here against the CLI. queries has no flag.
const OPTION_FLAGS = { steps: '--steps', absStepsize: '--step-size', relStepsize: '--step-size', restarts: '--restarts', loss: '--loss', targets: '--targets', placement: '--placement', queries: 'queries' } as const satisfies Partial<Record<keyof AttackOptions, string>>;

/** Refuses the loop options an attack does not take (besides norm, which each checks itself). */
function ownOptionsOnly(name: string, o: AttackOptions, allowed: (keyof AttackOptions)[]): void {
  for (const key of Object.keys(OPTION_FLAGS) as (keyof typeof OPTION_FLAGS)[]) {
    if (o[key] !== undefined && !allowed.includes(key) && !(key === 'queries' && name === 'sparse-rs')) {
      throw new UserError(`${name} does not take ${OPTION_FLAGS[key]}: drop it${key === 'placement' ? ' (--placement applies to --attack patch)' : ''}`);
    }
  }
}

/** Minimal attacks take steps (and a norm where they have several), nothing else. */
function minimalOptions(name: string, o: AttackOptions, only?: 'l2' | 'linf'): void {
  if (only && o.norm && o.norm !== only) throw new UserError(`${name} is an ${only === 'l2' ? 'L2' : 'L∞'} attack: use fmn or deepfool for --norm ${o.norm}`);
  if (o.absStepsize !== undefined || o.relStepsize !== undefined) throw new UserError(`${name} chooses its own step size: drop --step-size`);
  if (o.loss !== undefined) throw new UserError(`${name} uses its own loss: drop --loss`);
  if (o.restarts !== undefined && o.restarts !== 1) throw new UserError(`${name} is deterministic, restarts would repeat it: drop --restarts`);
}

/** APGD-T and FAB-T attack the 9 classes with the highest clean logits by default (autoattack). */
const DEFAULT_TARGETS = 9;

/** APGD takes steps, restarts and the norm; its step size is its own (the point of APGD). */
function apgdFrom(o: AttackOptions, loss: 'ce' | 'dlr', targets?: number): Attack {
  if (o.loss !== undefined && o.loss !== loss) throw new UserError(`apgd-${loss} uses the ${loss} loss: use apgd-${o.loss} for --loss ${o.loss}`);
  if (o.absStepsize !== undefined || o.relStepsize !== undefined) throw new UserError('APGD chooses its own step size: drop --step-size');
  if (targets === undefined && o.targets !== undefined) throw new UserError(`--targets applies to apgd-t and fab-t, not apgd-${loss}: use --attack apgd-t`);
  return apgd({
    loss,
    ...(o.norm ? { norm: o.norm } : {}),
    ...(o.steps !== undefined ? { steps: o.steps } : {}),
    ...(o.restarts !== undefined ? { restarts: o.restarts } : {}),
    ...(targets !== undefined ? { targets } : {}),
  });
}

/** FAB takes steps, restarts, the norm and (FAB-T) the number of targets; no step size or loss. */
function fabFrom(name: string, o: AttackOptions, targets?: number): Attack {
  if (o.absStepsize !== undefined || o.relStepsize !== undefined) throw new UserError(`${name} chooses its own steps (projections onto the linearised boundary): drop --step-size`);
  if (o.loss !== undefined) throw new UserError(`${name} uses no loss (it projects onto the nearest linearised boundary): drop --loss`);
  if (targets === undefined && o.targets !== undefined) throw new UserError(`--targets applies to fab-t, not fab: use --attack fab-t`);
  return fab({
    ...(o.norm ? { norm: o.norm } : {}),
    ...(o.steps !== undefined ? { steps: o.steps } : {}),
    ...(o.restarts !== undefined ? { restarts: o.restarts } : {}),
    ...(targets !== undefined ? { targets } : {}),
  });
}

const SINGLE_STEP = new Set(['fgsm', 'fgm']);
/** Members that choose their own step size or take none. */
const OWN_STEP = new Set(['apgd-ce', 'apgd-dlr', 'square', 'sparse-rs', 'uap', 'patch']);
for (const own of ['apgd-t', 'fab', 'fab-t']) OWN_STEP.add(own);
for (const minimal of ['cw-l2', 'deepfool', 'ddn', 'fmn']) OWN_STEP.add(minimal);

/** Named suites: evaluated sequentially, each attack on the examples the earlier ones left standing. */
export const PRESETS: Record<string, string[]> = {
  // Not AutoAttack's `standard` version (that is `autoattack` below): APGD-CE, APGD-DLR and Square
  // of the paper's first ensemble, without FAB, and PGD in front (cheap; it removes the easy examples).
  strong: ['pgd', 'apgd-ce', 'apgd-dlr', 'square'],
  // The reference evaluation (Croce & Hein 2020, fra31/auto-attack): fixed recipes, see RECIPES.
  autoattack: ['apgd-ce', 'apgd-t', 'fab-t', 'square'],
  'autoattack-rand': ['apgd-ce', 'apgd-dlr'],
};

/**
 * Presets that are fixed recipes: their members' settings are the reference code's, so the
 * command line may choose the norm only. autoattack = version 'standard' (APGD-CE without
 * restarts, APGD-T and FAB-T against 9 targets, Square with 5,000 queries, 100 iterations each,
 * APGD with the reference code's step-halving conditions); 'autoattack-rand' = version 'rand'
 * (APGD-CE and APGD-DLR, gradients of the mean logits over 20 draws). The L2 recipe runs
 * Square's L2 version. Departure: Square rescales its p schedule to the budget, where
 * autoattack's (resc_schedule=False) keeps the 10,000-query thresholds.
 */
const RECIPES: Record<string, (norm: NormName) => Attack[]> = {
  autoattack: (norm) => {
    const members = [
      apgd({ loss: 'ce', norm, steps: 100, restarts: 1, schedule: 'reference' }),
      apgd({ loss: 'dlr', norm, steps: 100, restarts: 1, targets: 9, schedule: 'reference' }),
      fab({ norm, steps: 100, restarts: 1, targets: 9 }),
      square({ queries: 5000, norm: norm === 'l2' ? 'l2' : 'linf' }),
    ];
    return members.map((a) => inSuite(a, 'autoattack (standard version)'));
  },
  'autoattack-rand': (norm) =>
    [apgd({ loss: 'ce', norm, steps: 100, restarts: 1, schedule: 'reference' }), apgd({ loss: 'dlr', norm, steps: 100, restarts: 1, schedule: 'reference' })].map((a) =>
      inSuite(eot(a, 20), 'autoattack (rand version, EOT over 20 draws)'),
    ),
};

/** The suite a member ran in goes into its config, so that the report says which recipe ran. */
function inSuite(attack: Attack, suite: string): Attack {
  return { ...attack, config: { ...attack.config, suite } };
}

function recipeMembers(name: string, options: AttackOptions): Attack[] {
  const { norm, ...rest } = options;
  const given = Object.entries(rest).filter(([, v]) => v !== undefined).map(([k]) => k);
  if (given.length > 0) {
    const flag = OPTION_FLAGS[given[0] as keyof typeof OPTION_FLAGS] ?? given[0]!;
    throw new UserError(`--attack ${name} is the fixed reference recipe (only --norm applies): drop ${flag}, or list the attacks as a suite (--attack ${PRESETS[name]!.join(',')} ${flag} …)`);
  }
  if (norm !== undefined && norm !== 'linf' && norm !== 'l2') throw new UserError(`--attack ${name} is the L∞ or L2 recipe: use --norm linf|l2 (for --norm ${norm}, run ${norm === 'l1' ? 'fmn or fab' : 'sparse-rs or fmn'})`);
  return RECIPES[name]!(norm ?? 'linf');
}

export function makeAttack(name: string, options: AttackOptions = {}): Attack {
  const factory = ATTACK_REGISTRY[name];
  if (!factory) {
    throw new UserError(`unknown attack "${name}": use one of ${[...Object.keys(ATTACK_REGISTRY), ...Object.keys(PRESETS)].join(', ')}`);
  }
  if (options.norm === 'l0' && name !== 'sparse-rs' && name !== 'fmn') throw new UserError(`${name} has no l0 version: use --attack sparse-rs (score-based) or fmn (gradient) for --norm l0`);
  if (options.norm === 'l1' && !['fab', 'fab-t', 'fmn'].includes(name)) throw new UserError(`${name} has no l1 version: use --attack fmn, fab or fab-t for --norm l1`);
  if (options.norm === 'patch' && name !== 'patch') throw new UserError(`--norm patch is the threat model of --attack patch: use --attack patch`);
  if (options.placement !== undefined && name !== 'patch') throw new UserError(`--placement applies to --attack patch, not ${name}: drop it`);
  return factory(options);
}

/**
 * The members of a suite with the options that apply to each: single-step attacks take no
 * iteration options, APGD and Square choose their own step and loss.
 */
function membersOf(names: string[], options: AttackOptions): Attack[] {
  return names.map((n) => {
    if (names.length === 1) return makeAttack(n, options);
    if (SINGLE_STEP.has(n)) return makeAttack(n, options.loss ? { loss: options.loss } : {});
    if (OWN_STEP.has(n)) {
      const { absStepsize: _a, relStepsize: _r, loss: _l, ...rest } = options;
      return makeAttack(n, rest);
    }
    return makeAttack(n, options);
  });
}

/** Parses "fgsm,pgd" or a preset name; a list of several attacks is a suite. */
export function parseAttackSpec(list: string, options: AttackOptions = {}): { attacks: Attack[]; preset?: string } {
  const names = list.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (names.length === 0) throw new UserError(`--attack "${list}" names no attack: use e.g. --attack fgsm`);
  const preset = names.length === 1 ? PRESETS[names[0]!] : undefined;
  if (preset && RECIPES[names[0]!]) return { attacks: recipeMembers(names[0]!, options), preset: names[0]! };
  if (preset) return { attacks: membersOf(preset, options), preset: names[0]! };
  return { attacks: membersOf(names, options) };
}

/** The attacks of "fgsm,pgd" or of a preset. */
export function makeAttacks(list: string, options: AttackOptions = {}): Attack[] {
  return parseAttackSpec(list, options).attacks;
}
