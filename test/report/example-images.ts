import type { ExampleImage } from '../../src/report/regenerate.js';
import type { ImageShape } from '../../src/types.js';

/** A synthetic example whose pixels are exact 8-bit levels, so a PNG holds them unchanged. */
export function syntheticExample(shape: ImageShape, seed: number, overrides: Partial<ExampleImage> = {}): ExampleImage {
  const size = shape[0] * shape[1] * shape[2];
  const clean = Float32Array.from({ length: size }, (_, p) => ((p * 37 + seed * 11) % 200) / 255);
  // Changes of −20…+20 levels with both signs, so that the perturbation uses both colour ends.
  const adversarial = clean.map((v, p) => v + (((p * 13 + seed) % 41) - 20) / 255);
  return {
    position: seed,
    id: `synthetic/${seed}`,
    label: 1,
    cleanPrediction: 1,
    attack: 'fgsm',
    eps: 0.1,
    fellAt: 0.1,
    fooled: true,
    recordedPrediction: 2,
    shape,
    clean,
    adversarial,
    cleanConfidence: 0.9,
    adversarialPrediction: 2,
    adversarialConfidence: 0.6,
    reproduced: true,
    ...overrides,
  };
}
