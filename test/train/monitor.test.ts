import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { fgsm } from '../../attacks/fgsm.js';
import { holdOut, measureRobustness } from '../../src/train/monitor.js';
import { leakedTensors, useTestBackend } from '../helpers/backend.js';
import { tinyDataset } from '../helpers/data.js';
import { thresholdClassifier } from '../helpers/models.js';

describe('held-out robustness monitor', () => {
  beforeAll(useTestBackend);
  // First pixel decides the class (threshold 0.5): 0.1 and 0.9 survive ε = 0.3, 0.45 and 0.6 do not.
  const data = tinyDataset([[0.1, 0], [0.45, 0], [0.6, 0], [0.9, 0], [0.3, 0]], [0, 0, 1, 1, 1]);

  it('holds out a seeded, disjoint part of the training split', () => {
    const { train, heldOut } = holdOut(data, 2, 7);
    expect(heldOut.size).toBe(2);
    expect(train.size).toBe(3);
    expect(new Set([...train.ids, ...heldOut.ids]).size).toBe(5);
    expect(holdOut(data, 2, 7).heldOut.ids).toEqual(heldOut.ids);
    expect(() => holdOut(data, 5, 0)).toThrow(/give a count from 1 to 4/);
  });

  it('measures clean and attacked accuracy (robust = correct both ways) without leaking', async () => {
    const model = thresholdClassifier();
    let probe = { clean: 0, robust: 0, n: 0 };
    expect(await leakedTensors(async () => (probe = await measureRobustness(model, { data, attack: fgsm(), eps: 0.3, batchSize: 2 }, 0)))).toBe(0);
    // 0.3 with label 1 is wrong clean; of the four right ones 0.1 and 0.9 survive.
    expect(probe).toEqual({ clean: 0.8, robust: 0.4, n: 5 });
    void tf;
  });
});
