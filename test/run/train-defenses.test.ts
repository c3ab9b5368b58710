import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDefenseSpecs } from '../../defenses/spec.js';
import { buildArchitecture } from '../../src/model/architectures.js';
import { epochLine, trainingDefenses } from '../../src/run/train.js';
import { makeDefenses } from '../../defenses/registry.js';
import { useTestBackend } from '../helpers/backend.js';

describe('trainingDefenses: the training attack settings need a defense of the adversarial stage', () => {
  let model: tf.LayersModel;
  beforeAll(async () => {
    await useTestBackend();
    model = buildArchitecture('mlp', [28, 28, 1], 10, 0);
  });
  afterAll(() => model.dispose());

  const build = (defense: string, job: Parameters<typeof trainingDefenses>[1], names?: 'flags' | 'config') => tf.tidy(() => void trainingDefenses(parseDefenseSpecs(defense), job, model, undefined, names));

  it('refuses them without one, naming the flags or the config keys', () => {
    expect(() => build('augment=crop', { trainSteps: 3 })).toThrow('--train-attack, --train-steps, --train-step-size and --train-eps-ramp set the attack of adversarial training: add fgsm-at, fast-fgsm, pgd-at or trades to --defense');
    expect(() => build('none', { trainAttack: 'pgd' }, 'config')).toThrow('trainAttack, trainSteps, trainStepSize and trainEpsRamp set the attack of adversarial training: add fgsm-at, fast-fgsm, pgd-at or trades to defense');
  });

  it('takes the list from Defense.stage: every adversarial-stage defense accepts them, not a fixed four', () => {
    expect(() => build('pgd-at', { trainSteps: 3, trainEpsRamp: 2 })).not.toThrow();
    expect(() => build('trades,label-smoothing', { trainSteps: 3 })).not.toThrow();
    // smooth-adv is of the adversarial stage but sets its own steps: it says so itself.
    expect(() => build('smooth-adv', { trainSteps: 3 })).toThrow('--defense smooth-adv takes its steps and ε from its value (smooth-adv=steps:T+eps:ε): drop --train-steps, --train-step-size and --train-eps-ramp');
  });
});

describe('epochLine: what the train command prints after each epoch', () => {
  const epoch = { epoch: 0, epochs: 16, loss: 2.3062, accuracy: 0.107, heldOut: { clean: 0.105, robust: 0.105, n: 200 } };

  it('warns of a collapse with ln K worked out, and suggests an AWP warm-up only when AWP runs', () => {
    const awp = makeDefenses('pgd-at,awp', { eps: 0.3 });
    const line = epochLine({ ...epoch, collapsed: true }, 'pgd', 0.3, awp, 10);
    expect(line).toBe(
      'epoch 1/16: loss 2.3062, train acc 10.7%, held-out clean 10.5%, pgd ε=0.3 10.5% (n=200) — warning: the loss is ln 10 = 2.303, that of one output for every input, and accuracy is at chance: the network collapsed (dead ReLUs) and may not recover; start AWP later (awp=warmup:1 or more), lower --lr or change --seed',
    );
    expect(epochLine({ ...epoch, collapsed: true }, 'pgd', 0.3, [], 10)).toMatch(/may not recover; lower --lr or change --seed$/);
    expect(epochLine(epoch, 'pgd', 0.3, awp, 10)).not.toMatch(/warning/);
  });
});
