import { beforeAll, describe, expect, it } from 'vitest';
import { makeAttack } from '../../attacks/index.js';
import { composeDefenses } from '../../defenses/defense.js';
import { makeDefenses } from '../../defenses/registry.js';
import { balancedSubset } from '../../src/data/dataset.js';
import { loadMnist } from '../../src/data/mnist.js';
import { buildArchitecture } from '../../src/model/architectures.js';
import { layersClassifier } from '../../src/model/classifier.js';
import { trainModel } from '../../src/train/loop.js';
import { leakedTensors, useTestBackend } from '../helpers/backend.js';

describe('no tensor leaks over a short training run with each defense', () => {
  beforeAll(useTestBackend);
  const data = balancedSubset(loadMnist('train'), 96);
  // Each spec with the train command's options: [spec, --train-attack (bim, 2 steps), --train-steps 2].
  const specs: [string, boolean, boolean][] = [
    ['fgsm-at', false, false],
    ['fgsm-at', true, false],
    ['fast-fgsm', false, false],
    ['pgd-at', false, true],
    ['pgd-at', true, false],
    ['trades', false, true],
    ...[
    'augment=crop+flip+noise+cutout',
    'clip-value=0.1',
    'clip-norm=1',
    'clip-global=1',
    'max-norm=1',
    'label-smoothing=0.1',
    'temperature=10',
    'distill=10',
    'augment=crop,label-smoothing=0.1,fgsm-at,clip-global=1,max-norm=2',
    ].map((spec): [string, boolean, boolean] => [spec, false, false]),
  ];

  it.each(specs)('%s (train attack %s, steps %s)', async (spec, attack, steps) => {
    const model = buildArchitecture('mlp', [28, 28, 1], 10, 1);
    const teacherModel = buildArchitecture('mlp', [28, 28, 1], 10, 2);
    const teacher = layersClassifier(teacherModel, { owned: true });
    const hooks = composeDefenses(makeDefenses(spec, { eps: 0.1, model, teacher, ...(steps ? { steps: 2 } : {}), ...(attack ? { attack: makeAttack('bim', { steps: 2 }) } : {}) }));
    const leaked = await leakedTensors(() => trainModel(model, data, { epochs: 1, batchSize: 48, seed: 1, hooks, schedule: 'one-cycle', optimizer: 'momentum' }));
    expect(leaked).toBe(0);
    model.dispose();
    teacher.dispose?.();
  });
});
