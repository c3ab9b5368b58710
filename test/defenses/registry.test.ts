import { beforeAll, describe, expect, it } from 'vitest';
import { makeDefenses, DEFENSE_NAMES, DEFENSE_REGISTRY } from '../../defenses/registry.js';
import { parseInputTransform } from '../../defenses/input-transforms.js';
import { evalCommand } from '../../src/cli/commands/eval.js';
import { trainCommand } from '../../src/cli/commands/train.js';
import { parseDefenseSpecs } from '../../defenses/spec.js';
import { makeAttack } from '../../attacks/index.js';
import { buildArchitecture } from '../../src/model/architectures.js';
import { UserError } from '../../src/errors.js';
import { useTestBackend } from '../helpers/backend.js';
import { linearClassifier } from '../helpers/models.js';

describe('--defense specs', () => {
  beforeAll(useTestBackend);

  it('parses name, =value and @layers', () => {
    expect(parseDefenseSpecs('fgsm-at, augment=crop+noise:0.1 ,clip-norm=1@dense_Dense1+dense_Dense2,label-smoothing=0.1')).toEqual([
      { name: 'fgsm-at', text: 'fgsm-at' },
      { name: 'augment', value: 'crop+noise:0.1', text: 'augment=crop+noise:0.1' },
      { name: 'clip-norm', value: '1', layers: ['dense_Dense1', 'dense_Dense2'], text: 'clip-norm=1@dense_Dense1+dense_Dense2' },
      { name: 'label-smoothing', value: '0.1', text: 'label-smoothing=0.1' },
    ]);
    expect(parseDefenseSpecs('none')).toEqual([]);
    expect(() => parseDefenseSpecs(',')).toThrow(/names no defense/);
    expect(() => parseDefenseSpecs('Clip=1')).toThrow(/write name, name=value/);
  });

  it('builds every defense of a spec, with names as given and values as fractions too', () => {
    const model = buildArchitecture('mlp', [28, 28, 1], 10, 0);
    const layer = model.layers[1]!.name;
    const built = makeDefenses(`fgsm-at,augment=crop+flip,clip-value=8/255,clip-global=1@${layer},max-norm=3,label-smoothing=0.1,temperature=20`, { eps: 0.1, model });
    expect(built.map((d) => d.name)).toEqual(['fgsm-at', 'augment=crop+flip', `clip-value=${8 / 255}`, `clip-global=1@${layer}`, 'max-norm=3', 'label-smoothing=0.1', 'temperature=20']);
    expect(makeDefenses('pgd-at', { eps: 0.1, attack: makeAttack('bim', { steps: 3 }) })[0]!.describe!()).toMatchObject({ attack: 'bim', eps: 0.1 });
    expect(makeDefenses('trades=2', { eps: 0.1, steps: 3 })[0]!.describe!()).toMatchObject({ beta: 2, steps: 3 });
    expect(makeDefenses('distill=20', { eps: 0.1, teacher: linearClassifier([[1]], [0], [1, 1, 1]) })[0]!.name).toBe('distill=20');
    model.dispose();
  });

  it('refuses unknown names with the valid ones, and misplaced values, layers and options', () => {
    const err = (() => {
      try {
        makeDefenses('fgsm-at,dropout=0.5', { eps: 0.1 });
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(UserError);
    expect(err!.message).toMatch(/unknown defense "dropout": use one of/);
    for (const name of DEFENSE_NAMES) expect(err!.message).toContain(name);
    const model = buildArchitecture('mlp', [28, 28, 1], 10, 0);
    expect(() => makeDefenses('clip-norm=1@nope', { eps: 0.1, model })).toThrow(/no trainable layer "nope": its layers are dense_/);
    expect(() => makeDefenses('fgsm-at@dense_1', { eps: 0.1 })).toThrow(/only clip-value, clip-norm, clip-global and max-norm take @layers/);
    expect(() => makeDefenses('clip-norm', { eps: 0.1 })).toThrow(/needs a value, e.g. clip-norm=C/);
    expect(() => makeDefenses('pgd-at=3', { eps: 0.1 })).toThrow(/takes no value/);
    expect(() => makeDefenses('distill=20', { eps: 0.1 })).toThrow(/needs a teacher/);
    expect(() => makeDefenses('trades', { eps: 0.1, attack: makeAttack('pgd') })).toThrow(/drop --train-attack/);
    expect(() => makeDefenses('fgsm-at', { eps: 0.1, steps: 7 })).toThrow(/add --train-attack bim or pgd/);
    expect(() => makeDefenses('fast-fgsm', { eps: 0.1, steps: 7 })).toThrow(/drop --train-steps/);
    model.dispose();
  });

  it('holds training defenses and input transforms in one registry: each flag takes its own kind, and its help lists them', () => {
    const entries = Object.entries(DEFENSE_REGISTRY);
    const transforms = entries.filter(([, e]) => e.kind === 'input-transform');
    const training = entries.filter(([, e]) => e.kind === 'training');
    expect(transforms.map(([name]) => name).sort()).toEqual(['bit-depth', 'jpeg', 'median', 'noise']);
    expect(DEFENSE_NAMES).toEqual(training.map(([name]) => name));
    const help = (cmd: ReturnType<typeof trainCommand>, flag: string) => cmd.options.find((o) => o.long === flag)!.description;
    for (const [name, e] of transforms) {
      expect(parseInputTransform(`${name}=3`).name).toBe(`${name}=3`);
      expect(() => makeDefenses(`${name}=3`, { eps: 0.1 })).toThrow(new RegExp(`${name} is an input transform, not a training defense: give it to eval as --transform ${e.syntax}`));
      expect(help(evalCommand(), '--transform')).toContain(e.syntax);
      expect(help(trainCommand(), '--defense')).not.toContain(e.syntax);
    }
    for (const [name, e] of training) {
      expect(() => parseInputTransform(`${name}=1`)).toThrow(/--transform "[^"]+": use bit-depth=B, noise=SIGMA, median=K or jpeg=Q/);
      expect(help(trainCommand(), '--defense')).toContain(e.syntax);
    }
  });
});
