/**
 * What each replacement kernel is worth: the input gradient, one PGD-10 batch and one training
 * step of the mnist-cnn (fixture weights, batch 128) on wasm with every replacement, and with one
 * of them switched back to the stock kernel (or to the other algorithm), all configurations
 * interleaved run by run so that load from other processes hits them alike.
 *
 *   node --import tsx test/bench/ablation.ts [--runs N]
 */
import { initBackend } from '../../src/backend/select.js';
import {
  registerWasmGradKernels,
  setFilterGradStrategy,
  setInputGradStrategy,
  unregisterWasmGradKernels,
  type WasmGradKernelOptions,
} from '../../src/backend/wasm-kernels.js';
import { BATCH, benchSetup } from './setup.js';
import { argNumber } from './ab-tools.js';

const RUNS = argNumber('--runs', 15);

interface Config {
  name: string;
  options?: WasmGradKernelOptions;
  input?: 'conv';
  filter?: 'conv';
}

const CONFIGS: Config[] = [
  { name: 'all replacements (default)' },
  { name: 'stock Identity/Cast (copies)', options: { aliases: false } },
  { name: 'stock Tile', options: { tile: false } },
  { name: 'stock Sum (transposes)', options: { sum: false } },
  { name: 'bias Add outside the fused conv', options: { fusedBias: false } },
  { name: "tfjs's Adam (14 kernels a variable)", options: { adam: false } },
  { name: 'conv1 dx as one conv (no col2im)', input: 'conv' },
  { name: 'conv1 dW as one dilated conv', filter: 'conv' },
];

function install(c: Config): void {
  unregisterWasmGradKernels();
  registerWasmGradKernels(c.options ?? {});
  setInputGradStrategy(c.input ?? 'auto');
  setFilterGradStrategy(c.filter ?? 'auto');
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** The fastest run: on a shared machine, the least disturbed one. */
function min(v: number[]): number {
  return Math.min(...v);
}

async function main(): Promise<void> {
  await initBackend('wasm');
  const s = await benchSetup(BATCH);
  const tasks: Record<string, () => void | Promise<void>> = {
    'input gradient': () => s.inputGradient(),
    'PGD-10, 128 digits': () => s.pgd(BATCH),
    'training step': () => s.trainStep(),
  };
  const times = CONFIGS.map(() => new Map<string, number[]>(Object.keys(tasks).map((t) => [t, []])));
  for (let r = -1; r < RUNS; r++) {
    for (const [c, config] of CONFIGS.entries()) {
      install(config);
      for (const [task, run] of Object.entries(tasks)) {
        const t0 = performance.now();
        await run();
        if (r >= 0) times[c]!.get(task)!.push(performance.now() - t0);
      }
    }
  }
  install({ name: 'default' });
  s.dispose();
  const names = Object.keys(tasks);
  for (const [label, stat] of [
    ['median', median],
    ['fastest', min],
  ] as const) {
    const base = names.map((t) => stat(times[0]!.get(t)!));
    console.log(`\n${label} of ${RUNS} interleaved runs (ms; change vs the default in brackets)`);
    console.log(['configuration'.padEnd(36), ...names.map((n) => n.padStart(22))].join(' '));
    CONFIGS.forEach((config, c) => {
      const cells = names.map((t, i) => {
        const m = stat(times[c]!.get(t)!);
        const d = m - base[i]!;
        return (c === 0 ? `${m.toFixed(1)}` : `${m.toFixed(1)} (${d >= 0 ? '+' : ''}${d.toFixed(1)})`).padStart(22);
      });
      console.log([config.name.padEnd(36), ...cells].join(' '));
    });
  }
}

await main();
