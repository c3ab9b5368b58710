import type * as tf from '@tensorflow/tfjs';
import { parseEps } from '../src/parse.js';
import { UserError } from '../src/errors.js';
import type { InputTransform, TransformedClassifier } from '../src/model/input-transform.js';
import type { Attack, Classifier } from '../src/types.js';
import { fastFgsmTraining, fgsmAdversarialTraining, pgdAdversarialTraining, type AscentTraining } from './adversarial-training.js';
import { augment, parseAugmentations } from './augment.js';
import { checkLayerNames, clipGradients, maxNorm, type ClipKind } from './clipping.js';
import type { Defense } from './defense.js';
import { distill, temperature } from './distillation.js';
import { gaussianAugmentation } from './gaussian.js';
import { labelSmoothing } from './label-smoothing.js';
import { parseDefenseSpecs, type DefenseSpec } from './spec.js';
import { parseSmoothAdv, smoothAdvTraining } from './smooth-adv.js';
import { trades } from './trades.js';
import { mart } from './mart.js';
import { adversarialWeightPerturbation, parseAwp } from './awp.js';
import { weightAverage } from './weight-average.js';
import { bitDepth } from './bit-depth.js';
import { gaussianNoise } from './noise-injection.js';
import { medianSmoothing } from './median.js';
import { jpegClassifier, jpegTransform } from './jpeg.js';

/**
 * What defenses are built with besides their own spec, from the train command's options: the
 * training ε (L∞), ramp, steps and step size of the built-in inner maximisation (--train-eps,
 * --train-eps-ramp, --train-steps, --train-step-size).
 */
export interface DefenseEnv extends AscentTraining {
  /** --train-attack, already built with --train-steps / --train-step-size (fgsm-at, pgd-at). */
  attack?: Attack;
  /** The model being trained: layer names in specs are checked against it. */
  model?: tf.LayersModel;
  /** distill=T's teacher. */
  teacher?: Classifier;
  /** Layers for clip-* and max-norm items written without @ (--clip-layers); absent: all. */
  layers?: string[];
}

/** A training-time defense: `advtest train --defense`. */
interface TrainingEntry {
  kind: 'training';
  syntax: string;
  help: string;
  takesLayers?: boolean;
  make(spec: DefenseSpec, env: DefenseEnv): Defense;
}

/** An input transform in front of a trained model: `--transform name=value` (eval, bench, baselines). */
export interface TransformEntry {
  kind: 'input-transform';
  syntax: string;
  help: string;
  transform(value: number, seed: number): InputTransform;
  /** The classifier behind it when it is not withInputTransform's (JPEG: judged by sharp's codec). */
  classifier?(base: Classifier, value: number): TransformedClassifier;
}

function numberOf(spec: DefenseSpec, fallback?: number): number {
  if (spec.value === undefined) {
    if (fallback === undefined) throw new UserError(`--defense ${spec.text}: ${spec.name} needs a value, e.g. ${DEFENSE_REGISTRY[spec.name]!.syntax}`);
    return fallback;
  }
  return parseEps(spec.value, `--defense ${spec.name}`);
}

function noTrainAttack(spec: DefenseSpec, env: DefenseEnv, why: string): void {
  if (env.attack) throw new UserError(`--defense ${spec.name} ${why}: drop --train-attack (or use pgd-at / fgsm-at, which take any attack)`);
}

/** clip-value, clip-norm, clip-global: the same entry but for the clip and its help. */
function clip(kind: ClipKind, help: string): Omit<TrainingEntry, 'kind'> {
  return { syntax: `${kind}=C[@layer+…]`, help, takesLayers: true, make: (s, env) => clipGradients(kind, numberOf(s), s.layers ?? env.layers) };
}

/** The training-time defenses (--defense). */
const TRAINING_DEFENSES: Record<string, Omit<TrainingEntry, 'kind'>> = {
  'fgsm-at': {
    syntax: 'fgsm-at[=α]',
    help: 'FGSM adversarial training, loss α·L(x) + (1−α)·L(x_adv), α = 0.5 (Goodfellow et al. 2015); x_adv from --train-attack (default fgsm)',
    make: (s, env) => {
      if (env.steps !== undefined && !env.attack) throw new UserError(`--defense ${s.text} makes its examples with FGSM, one step: add --train-attack bim or pgd for --train-steps`);
      return fgsmAdversarialTraining({ eps: env.eps, alpha: numberOf(s, 0.5), attack: env.attack, ramp: env.ramp });
    },
  },
  'fast-fgsm': {
    syntax: 'fast-fgsm[=step/ε]',
    help: 'FGSM from a random start with step 1.25·ε, training on x_adv only (Wong et al. 2020); pair with --early-stop',
    make: (s, env) => {
      noTrainAttack(s, env, 'is FGSM from a random start by definition');
      if (env.steps !== undefined) throw new UserError(`--defense ${s.text} takes one step by definition: drop --train-steps (or use pgd-at)`);
      return fastFgsmTraining({ eps: env.eps, relStepsize: numberOf(s, 1.25), ramp: env.ramp });
    },
  },
  'pgd-at': {
    syntax: 'pgd-at',
    help: 'PGD adversarial training on x_adv only (Madry et al. 2018): PGD-7 from a random start, last iterate (--train-steps, --train-step-size), or any --train-attack',
    make: (s, env) => {
      if (s.value !== undefined) throw new UserError(`--defense ${s.text}: ${s.name} takes no value (its settings come from --train-eps, --train-attack, --train-steps, --train-step-size)`);
      return pgdAdversarialTraining(env);
    },
  },
  trades: {
    syntax: 'trades[=β]',
    help: 'TRADES, CE(f(x), y) + β·KL(f(x) ‖ f(x′)), β = 6, x′ maximising the KL (Zhang et al. 2019); --train-steps (default 10), --train-step-size',
    make: (s, env) => {
      noTrainAttack(s, env, 'crafts x′ by maximising its KL term');
      return trades({ ...env, beta: numberOf(s, 6) });
    },
  },
  augment: {
    syntax: 'augment[=crop[:pad]+flip+noise[:σ]+cutout[:side]]',
    help: 'data augmentation on tensors, in the order given (default crop:2; flip is off unless named)',
    make: (s) => augment(parseAugmentations(s.value)),
  },
  'clip-value': clip('clip-value', 'clip each gradient element to [−C, C]'),
  'clip-norm': clip('clip-norm', 'rescale each gradient tensor to L2 norm ≤ C'),
  'clip-global': clip('clip-global', 'rescale all (selected) gradients together to global L2 norm ≤ C'),
  'max-norm': {
    syntax: 'max-norm=M[@layer+…]',
    help: 'after each update, rescale each unit’s incoming weights to L2 norm ≤ M',
    takesLayers: true,
    make: (s, env) => maxNorm(numberOf(s), s.layers ?? env.layers),
  },
  'label-smoothing': {
    syntax: 'label-smoothing[=s]',
    help: 'targets (1−s)·one-hot + s/K, s = 0.1',
    make: (s) => labelSmoothing(numberOf(s, 0.1)),
  },
  temperature: {
    syntax: 'temperature=T',
    help: 'train with the softmax at temperature T (the teacher of defensive distillation)',
    make: (s) => temperature(numberOf(s)),
  },
  distill: {
    syntax: 'distill=T',
    help: 'defensive distillation (Papernot et al. 2016): a student trained at T on a teacher’s probabilities at T (--teacher DIR, or the train command trains the teacher first); not a robust defense',
    make: (s, env) => {
      if (!env.teacher) throw new UserError(`--defense ${s.text} needs a teacher: pass --teacher DIR (a model trained with --defense temperature=T)`);
      return distill(env.teacher, numberOf(s));
    },
  },
  gaussian: {
    syntax: 'gaussian=σ',
    help: 'Gaussian data augmentation for randomized smoothing: x + N(0, σ²), not clipped (Cohen et al. 2019); certify with advtest certify --sigma σ',
    make: (s) => gaussianAugmentation(numberOf(s)),
  },
  'smooth-adv': {
    syntax: 'smooth-adv[=sigma:σ+eps:ε+steps:T+m:M]',
    help: 'SmoothAdv (Salman et al. 2019): L2 PGD on the soft smoothed classifier with m noise draws, trained on the noisy adversarial copies; defaults sigma:0.25+eps:0.5+steps:1+m:1',
    make: (s, env) => {
      noTrainAttack(s, env, 'attacks the smoothed classifier with its own L2 PGD');
      if (env.steps !== undefined || env.stepSize !== undefined || env.ramp !== undefined) {
        throw new UserError(`--defense ${s.text} takes its steps and ε from its value (smooth-adv=steps:T+eps:ε): drop --train-steps, --train-step-size and --train-eps-ramp`);
      }
      return smoothAdvTraining(parseSmoothAdv(s.value));
    },
  },
  mart: {
    syntax: 'mart[=λ]',
    help: 'MART, BCE(f(x′), y) + λ·KL(f(x) ‖ f(x′))·(1 − p_y(x)), λ = 6, x′ from PGD on the CE (Wang et al. 2020); --train-steps (default 10), --train-step-size',
    make: (s, env) => {
      noTrainAttack(s, env, 'crafts x′ with its own PGD on the cross-entropy');
      return mart({ ...env, lambda: numberOf(s, 6) });
    },
  },
  awp: {
    syntax: 'awp[=γ|gamma:γ+warmup:E]',
    help: 'adversarial weight perturbation (Wu et al. 2020): each kernel moved by γ·‖w‖ along its loss gradient before the step, restored after, γ = 0.005, from epoch E + 1 (warmup:E, default 0); add to pgd-at, trades or mart',
    make: (s) => adversarialWeightPerturbation(parseAwp(s.value)),
  },
  ema: {
    syntax: 'ema[=τ]',
    help: 'weight averaging: EMA of the weights with decay min(τ, (1+t)/(10+t)), τ = 0.999 (Rebuffi et al. 2021); the monitor evaluates and the saved model is the average',
    make: (s) => weightAverage({ decay: numberOf(s, 0.999) }),
  },
};

/** The input transforms (--transform). */
const INPUT_TRANSFORMS: Record<string, Omit<TransformEntry, 'kind'>> = {
  'bit-depth': {
    syntax: 'bit-depth=B',
    help: 'bit-depth reduction to B bits (feature squeezing, Xu et al. 2018); zero gradient: attack with --bpda',
    transform: (bits) => bitDepth(bits),
  },
  noise: {
    syntax: 'noise=SIGMA',
    help: 'Gaussian noise N(0, σ²) added to every input, drawn anew per call (randomised): attack with --eot',
    transform: (sigma, seed) => gaussianNoise(sigma, seed),
  },
  median: {
    syntax: 'median=K',
    help: 'median smoothing over K×K windows as scipy.ndimage computes it (feature squeezing, Xu et al. 2018)',
    transform: (k) => medianSmoothing(k),
  },
  jpeg: {
    syntax: 'jpeg=Q',
    help: 'JPEG re-encoding at quality Q: predictions through sharp’s codec, logits and BPDA through its lossy steps in tensor ops',
    transform: (quality) => jpegTransform(quality),
    classifier: (base, quality) => jpegClassifier(base, quality),
  },
};

/** Every defense, with its syntax: training-time ones (--defense), then input transforms (--transform). */
export const DEFENSE_REGISTRY: Record<string, TrainingEntry | TransformEntry> = {
  ...Object.fromEntries(Object.entries(TRAINING_DEFENSES).map(([name, e]) => [name, { kind: 'training' as const, ...e }])),
  ...Object.fromEntries(Object.entries(INPUT_TRANSFORMS).map(([name, e]) => [name, { kind: 'input-transform' as const, ...e }])),
};

/** The syntax of every defense of one kind, joined for help text and messages (e.g. "a | b | c", or "a, b or c" with `last`). */
export function defenseSyntax(kind: (TrainingEntry | TransformEntry)['kind'], separator = ' | ', last = separator): string {
  const syntax = Object.values(DEFENSE_REGISTRY).flatMap((e) => (e.kind === kind ? [e.syntax] : []));
  return syntax.length < 2 ? syntax.join('') : `${syntax.slice(0, -1).join(separator)}${last}${syntax.at(-1)}`;
}

/** The names --defense accepts (training-time defenses). */
export const DEFENSE_NAMES: readonly string[] = Object.keys(DEFENSE_REGISTRY).filter((name) => DEFENSE_REGISTRY[name]!.kind === 'training');

/** The defenses of a --defense value, validated (names, values, layer names against env.model). */
export function makeDefenses(list: string | DefenseSpec[], env: DefenseEnv): Defense[] {
  const specs = typeof list === 'string' ? parseDefenseSpecs(list) : list;
  return specs.map((s) => {
    const entry = DEFENSE_REGISTRY[s.name];
    if (entry?.kind === 'input-transform') throw new UserError(`--defense ${s.text}: ${s.name} is an input transform, not a training defense: give it to eval as --transform ${entry.syntax}`);
    if (!entry) throw new UserError(`unknown defense "${s.name}": use one of ${DEFENSE_NAMES.join(', ')} (comma-separated, e.g. fgsm-at,clip-global=1)`);
    if (s.layers && !entry.takesLayers) throw new UserError(`--defense ${s.text}: only clip-value, clip-norm, clip-global and max-norm take @layers`);
    const layers = s.layers ?? (entry.takesLayers ? env.layers : undefined);
    if (layers && env.model) checkLayerNames(layers, env.model);
    return entry.make(s, env);
  });
}
