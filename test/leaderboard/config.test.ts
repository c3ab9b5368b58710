import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDefenseSpecs } from '../../defenses/spec.js';
import { parseInputTransform } from '../../defenses/input-transforms.js';
import { parseAttackSpec } from '../../attacks/index.js';
import { loadBenchConfig } from '../../src/leaderboard/config.js';
import { packageRoot } from '../../src/package-info.js';

describe.each(['defenses.json', 'clipping-grid.json'])('the shipped benchmark config %s', (name) => {
  it('is valid and names only defenses, transforms and attacks that exist', async () => {
    const config = await loadBenchConfig(path.join(packageRoot(), 'fixtures', 'bench', name));
    expect(config.entries.length).toBeGreaterThan(1);
    expect(parseAttackSpec(config.eval.attack).attacks.length).toBeGreaterThan(0);
    for (const entry of config.entries) {
      const defense = entry.defense ?? config.train?.defense;
      if (defense) expect(parseDefenseSpecs(defense).length).toBeGreaterThan(0);
      if (entry.transform) expect(parseInputTransform(entry.transform).name).toBe(entry.transform);
    }
  });
});

it('the defenses config covers the defenses the issue lists', async () => {
  const config = await loadBenchConfig(path.join(packageRoot(), 'fixtures', 'bench', 'defenses.json'));
  expect(config.entries.map((e) => e.name)).toEqual(['standard', 'fgsm-at', 'fast-at', 'pgd-at', 'trades', 'augmentation', 'label-smoothing', 'distillation', 'ensemble', 'bit-depth']);
  expect(config.eval.eps).toEqual([0.1, 0.3]);
});
