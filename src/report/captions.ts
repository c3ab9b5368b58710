import { formatEps, pct } from './figures.js';
import type { ExampleImage } from './regenerate.js';

/** "3", or "3 dress" when the class has a name other than its number. */
export function className(k: number, classNames?: readonly string[]): string {
  const name = classNames?.[k];
  return name === undefined || name === String(k) ? String(k) : `${k} ${name}`;
}

/** What the grid writes around one example's three tiles (the same words in PNG and HTML). */
export interface ExampleCaptions {
  /** Example id and true label (and target). */
  title: string;
  /** Clean prediction · confidence. */
  clean: string;
  /** The attack and ε that made the image. */
  perturbation: string;
  /** How much δ is magnified. */
  magnification: string;
  /** Adversarial prediction · confidence. */
  adversarial: string;
  /** "fooled at ε=0.05" or "held at ε=0.3". */
  fate: string;
  fooled: boolean;
  /** Set when the regenerated image is not classified as the report recorded. */
  warning?: string;
}

export function exampleCaptions(ex: ExampleImage, magnification: number, classNames?: readonly string[]): ExampleCaptions {
  const name = (k: number) => className(k, classNames);
  const fooled = ex.fooled;
  return {
    title: `${ex.id} · label ${name(ex.label)}${ex.target === undefined ? '' : ` → target ${name(ex.target)}`}`,
    clean: `${name(ex.cleanPrediction)} · ${pct(ex.cleanConfidence)}`,
    perturbation: `${ex.attack} ε=${formatEps(ex.eps)}`,
    magnification: `magnified ×${Number(magnification.toPrecision(3))}`,
    adversarial: `${name(ex.adversarialPrediction)} · ${pct(ex.adversarialConfidence)}`,
    fate: `${fooled ? 'fooled' : 'held'} at ε=${formatEps(ex.eps)}`,
    fooled,
    ...(ex.reproduced ? {} : { warning: `regenerated image predicted ${name(ex.adversarialPrediction)}; the report recorded ${name(ex.recordedPrediction)}` }),
  };
}
