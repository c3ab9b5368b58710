import * as tf from '@tensorflow/tfjs';
import { UserError } from '../src/errors.js';
import type { Defense } from './defense.js';

/**
 * Clipped updates: gradients clipped by value, by per-tensor L2 norm, or by their global norm
 * (Pascanu, Mikolov & Bengio, "On the difficulty of training recurrent neural networks",
 * ICML 2013, arXiv:1211.5063), for every trainable tensor or only those of named layers; and the
 * max-norm weight constraint (Srivastava et al., "Dropout", JMLR 2014, §5.1) applied after each
 * update. Each gradient function keeps the map's keys and order (tfjs's momentum optimizers match
 * gradients to accumulators by position).
 */

/** Which gradients a clip applies to: all (no layers) or those of variables named "<layer>/…". */
export type Selector = (variableName: string) => boolean;

export function selectLayers(layers: readonly string[] | undefined): Selector {
  if (!layers || layers.length === 0) return () => true;
  return (name) => layers.some((l) => name === l || name.startsWith(`${l}/`));
}

function positive(value: number, name: string): void {
  if (!(value > 0 && Number.isFinite(value))) throw new UserError(`${name}=${value}: give a positive threshold, e.g. ${name}=1`);
}

function mapSelected(grads: tf.NamedTensorMap, select: Selector, f: (g: tf.Tensor) => tf.Tensor): tf.NamedTensorMap {
  return Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, select(k) ? f(g) : g]));
}

/** Each element of a selected gradient clipped to [−c, c]. */
export function clipGradientsByValue(grads: tf.NamedTensorMap, c: number, select: Selector = () => true): tf.NamedTensorMap {
  return mapSelected(grads, select, (g) => tf.clipByValue(g, -c, c));
}

/** g ← g·min(1, c/‖g‖₂) for each selected tensor on its own. */
export function clipGradientsByNorm(grads: tf.NamedTensorMap, c: number, select: Selector = () => true): tf.NamedTensorMap {
  return mapSelected(grads, select, (g) => tf.tidy(() => tf.mul(g, tf.minimum(1, tf.div(c, tf.add(tf.norm(g), 1e-12))))));
}

/** All selected gradients scaled by min(1, c/‖G‖₂), ‖G‖₂ over the selected tensors together. */
export function clipGradientsByGlobalNorm(grads: tf.NamedTensorMap, c: number, select: Selector = () => true): tf.NamedTensorMap {
  return scaleToGlobalNorm(grads, c, select, clipMeasure('clip-global', grads, select));
}

/** clipGradientsByGlobalNorm with ‖G‖₂ already measured (the defense measures it once per step). */
function scaleToGlobalNorm(grads: tf.NamedTensorMap, c: number, select: Selector, norm: number): tf.NamedTensorMap {
  const factor = Math.min(1, c / (norm + 1e-12));
  return mapSelected(grads, select, (g) => tf.mul(g, factor));
}

/**
 * Max-norm: each unit's incoming weight vector rescaled to L2 norm ≤ m, over every kernel axis
 * but the last (the inputs of a dense unit, or a conv filter's h×w×in weights), by Keras's
 * formula w·clip(‖w‖, 0, m)/(ε + ‖w‖). tfjs's own maxNorm takes a single axis, which is wrong for
 * conv kernels. Biases are left alone.
 */
export function applyMaxNorm(weights: tf.LayerVariable[], m: number, select: Selector = () => true): void {
  for (const w of weights) {
    if (w.shape.length < 2 || !select(w.name)) continue;
    const axes = w.shape.slice(0, -1).map((_, i) => i);
    tf.tidy(() => {
      const v = w.read();
      const norms = tf.sqrt(tf.sum(tf.square(v), axes, true));
      w.write(tf.mul(v, tf.div(tf.clipByValue(norms, 0, m), tf.add(norms, 1e-7))));
    });
  }
}

export type ClipKind = 'clip-value' | 'clip-norm' | 'clip-global';
const CLIPS: Record<ClipKind, typeof clipGradientsByValue> = {
  'clip-value': clipGradientsByValue,
  'clip-norm': clipGradientsByNorm,
  'clip-global': clipGradientsByGlobalNorm,
};

function specName(kind: string, value: number, layers: readonly string[] | undefined): string {
  return `${kind}=${value}${layers && layers.length > 0 ? `@${layers.join('+')}` : ''}`;
}

/**
 * What a clip compares with its threshold, before clipping: the largest |element| (value), the
 * largest per-tensor L2 norm (norm), or the global L2 norm (global) of the selected gradients.
 */
export function clipMeasure(kind: ClipKind, grads: tf.NamedTensorMap, select: Selector = () => true): number {
  const chosen = Object.entries(grads).filter(([k]) => select(k)).map(([, g]) => g);
  if (chosen.length === 0) return 0;
  return tf.tidy(() => {
    if (kind === 'clip-value') return tf.max(tf.stack(chosen.map((g) => tf.max(tf.abs(g))))).dataSync()[0]!;
    if (kind === 'clip-norm') return tf.max(tf.stack(chosen.map((g) => tf.norm(g)))).dataSync()[0]!;
    return tf.sqrt(tf.addN(chosen.map((g) => tf.sum(tf.square(g))))).dataSync()[0]!;
  });
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * A gradient-clipping defense; `layers` restricts it to those layers' variables. It counts the
 * steps on which it acted and keeps the measure it clipped on (recorded with the model): a
 * threshold above every gradient the run sees changes nothing, and the record says so.
 */
export function clipGradients(kind: ClipKind, c: number, layers?: readonly string[]): Defense {
  positive(c, kind);
  const select = selectLayers(layers);
  const measures: number[] = [];
  return {
    name: specName(kind, c, layers),
    stage: 'update',
    gradients: (grads) => {
      const m = clipMeasure(kind, grads, select);
      measures.push(m);
      return kind === 'clip-global' ? scaleToGlobalNorm(grads, c, select, m) : CLIPS[kind](grads, c, select);
    },
    describe: () => ({
      threshold: c,
      layers: layers && layers.length > 0 ? [...layers] : 'all',
      steps: measures.length,
      stepsClipped: measures.filter((m) => m > c).length,
      ...(measures.length > 0 ? { measure: kind === 'clip-value' ? 'max |g|' : kind === 'clip-norm' ? 'max tensor ‖g‖₂' : 'global ‖g‖₂', medianBeforeClip: median(measures), maxBeforeClip: Math.max(...measures) } : {}),
    }),
  };
}

/** The max-norm constraint applied after every update. */
export function maxNorm(m: number, layers?: readonly string[]): Defense {
  positive(m, 'max-norm');
  const select = selectLayers(layers);
  return {
    name: specName('max-norm', m, layers),
    stage: 'update',
    afterStep: (ctx) => applyMaxNorm(ctx.model.trainableWeights, m, select),
    describe: () => ({ maxNorm: m, layers: layers && layers.length > 0 ? [...layers] : 'all' }),
  };
}

/** Refuses layer names the model does not have, listing those it has. */
export function checkLayerNames(layers: readonly string[], model: tf.LayersModel): void {
  const names = model.layers.filter((l) => l.trainableWeights.length > 0).map((l) => l.name);
  const unknown = layers.filter((l) => !names.includes(l));
  if (unknown.length > 0) throw new UserError(`the model has no trainable layer ${unknown.map((u) => `"${u}"`).join(', ')}: its layers are ${names.join(', ')}`);
}
