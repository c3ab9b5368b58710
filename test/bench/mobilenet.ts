/**
 * The MobileNetV2 rows of `npm run bench`: torchvision's architecture (test/helpers/mobilenet.ts,
 * width 1.0, 3,504,872 parameters, seeded random weights) at 224×224×3, batch 16, on wasm through
 * the library's code paths, side by side with torchvision.models.mobilenet_v2 (random weights,
 * eval mode) when Debian's python3-torchvision is installed. Random weights are fine for timing.
 *
 *   forward          classifier logits for 16 images
 *   input gradient   objectiveGradient (summed CE) for 16 images
 *   PGD-10           runAttack(pgd({ steps: 10 })), ε = 8/255, one batch of 16 (the table gives per-image figures)
 */
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs';
import { pgd } from '../../attacks/pgd.js';
import { runAttack } from '../../attacks/run-attack.js';
import { layersClassifier } from '../../src/model/classifier.js';
import { foldForInference } from '../../src/model/fold-batch-norm.js';
import { objectiveGradient } from '../../src/tensor/gradient.js';
import { mobileNetV2, trainableParams } from '../helpers/mobilenet.js';
import { rng } from '../helpers/rng.js';
import { timing, type MeasureResult } from './report.js';
import { SYSTEM_PYTHON, torchMallocOption, TorchServer, type TorchTask } from './torch.js';

export const MOBILENET_BATCH = 16;
export const MOBILENET_EPS = 8 / 255;
const STEPS = 10;

/** Why torchvision cannot be used, or undefined. */
export function torchvisionUnavailable(): string | undefined {
  const r = spawnSync(SYSTEM_PYTHON, ['-c', 'import torchvision'], { encoding: 'utf8' });
  if (r.error) return `${SYSTEM_PYTHON} cannot be run (${r.error.message})`;
  if (r.status !== 0) return `${SYSTEM_PYTHON} cannot import torchvision (${(r.stderr.trim().split('\n').pop() ?? '').trim()}); apt-get install python3-torchvision`;
  return undefined;
}

export interface MobileNetBench {
  results: MeasureResult[];
  params: number;
  torch?: string;
  torchUnavailable?: string;
  loadStart: number[];
  loadEnd: number[];
}

/** Runs the three MobileNetV2 measures `runs` times (after one warm-up), alternating with PyTorch. */
export async function benchMobileNet(runs: number, torchThreads: number): Promise<MobileNetBench> {
  const loadStart = os.loadavg();
  const model = mobileNetV2({ seed: 0 });
  const params = trainableParams(model);
  // As loadModel evaluates a model file: batch norms folded into the convolutions before them.
  const classifier = layersClassifier(foldForInference(model).model, { owned: true });
  const next = rng(7);
  const n = MOBILENET_BATCH;
  const x = tf.tensor4d(Float32Array.from({ length: n * 224 * 224 * 3 }, () => next()), [n, 224, 224, 3]);
  const labels = tf.tensor1d(Int32Array.from({ length: n }, () => Math.floor(next() * 1000)), 'int32');
  const criterion = { labels, targeted: false };
  const attack = pgd({ steps: STEPS });
  const indices = Int32Array.from({ length: n }, (_, i) => i);
  const tasks: Array<{ measure: string; description: string; torch: TorchTask; ours: () => Promise<void> }> = [
    {
      measure: 'MobileNetV2 forward',
      description: `224×224×3, batch ${n}: classifier logits`,
      torch: 'forward',
      ours: async () => {
        tf.tidy(() => {
          classifier.logits(x).dataSync();
        });
      },
    },
    {
      measure: 'MobileNetV2 input gradient',
      description: `224×224×3, batch ${n}: objectiveGradient, CE summed`,
      torch: 'grad',
      ours: async () => {
        tf.tidy(() => {
          objectiveGradient(classifier, x, criterion, { seed: 0, costs: { gradients: 0, queries: 0 } }).dataSync();
        });
      },
    },
    {
      measure: 'MobileNetV2 PGD-10',
      description: `224×224×3, one batch of ${n}: runAttack(pgd({ steps: 10 })), ε = 8/255`,
      torch: 'pgd',
      ours: async () => {
        const { adv } = await runAttack(classifier, attack, x, criterion, MOBILENET_EPS, 0, indices);
        await adv.data();
        adv.dispose();
      },
    },
  ];
  const unavailable = torchvisionUnavailable();
  let torch: TorchServer | undefined;
  if (unavailable === undefined) {
    const dir = await mkdtemp(join(tmpdir(), 'advtest-bench-mobilenet-'));
    torch = await TorchServer.start(dir, torchThreads, ['--model', 'mobilenet_v2', '--batch', String(n), '--eps', String(MOBILENET_EPS), '--steps', String(STEPS)], torchMallocOption(process.argv));
  }
  const ours = new Map<string, number[]>(tasks.map((t) => [t.measure, []]));
  const theirs = new Map<string, number[]>(tasks.map((t) => [t.measure, []]));
  try {
    for (let r = -1; r < runs; r++) {
      for (const t of tasks) {
        const t0 = performance.now();
        await t.ours();
        if (r >= 0) ours.get(t.measure)!.push(performance.now() - t0);
        if (torch) {
          const ms = await torch.time(t.torch, n);
          if (r >= 0) theirs.get(t.measure)!.push(ms);
        }
      }
      console.error(`  MobileNetV2 run ${r + 1}/${runs}${r < 0 ? ' (warm-up)' : ''} done, load ${os.loadavg()[0]!.toFixed(2)}`);
    }
  } finally {
    await torch?.close();
    tf.dispose([x, labels]);
    classifier.dispose?.();
  }
  const config = `${torchThreads} thread${torchThreads === 1 ? '' : 's'}`;
  const results = tasks.map((t): MeasureResult => {
    const row: MeasureResult = { measure: t.measure, description: t.description, images: n, ours: timing(ours.get(t.measure)!, n) };
    const their = theirs.get(t.measure)!;
    if (their.length > 0) {
      const pt = timing(their, n);
      row.torch = { [config]: pt };
      row.ratios = { [config]: row.ours!.imagesPerSecond / pt.imagesPerSecond };
      row.ratio = row.ratios[config];
      row.torchBest = config;
    }
    return row;
  });
  return {
    results,
    params,
    ...(torch ? { torch: `${torch.info.torch} (torchvision.models.mobilenet_v2, ${torch.info.threads} threads, malloc ${torch.info.malloc ?? 'default'})` } : {}),
    ...(unavailable ? { torchUnavailable: unavailable } : {}),
    loadStart,
    loadEnd: os.loadavg(),
  };
}

/** min / median per image, ours and PyTorch, and the ratio (PyTorch time ÷ ours: ≥ 1 = we are faster). */
export function renderMobileNet(b: MobileNetBench): string {
  const f = (v: number): string => `${v.toFixed(1)} ms`;
  const lines = ['| measure | ours min / median per image | PyTorch min / median per image | ours/PT (img/s) |', '|---|---:|---:|---:|'];
  for (const r of b.results) {
    const o = r.ours!;
    const pt = r.torch ? Object.values(r.torch)[0] : undefined;
    lines.push(
      `| ${r.measure} | ${f(o.minMs / r.images)} / ${f(o.medianMs / r.images)} | ${pt ? `${f(pt.minMs / r.images)} / ${f(pt.medianMs / r.images)}` : '—'} | ${r.ratio === undefined ? '—' : `${r.ratio.toFixed(2)}×`} |`,
    );
  }
  return lines.join('\n');
}
