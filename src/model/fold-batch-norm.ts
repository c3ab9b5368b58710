/**
 * Folds inference-mode BatchNormalization layers into the convolution before them (issue 21):
 * y = γ·(conv(x, K) + b − μ)/√(σ² + ε) + β is conv(x, K·s) + (b − μ)·s + β with s = γ/√(σ² + ε)
 * per output channel. The folded model computes the same function (up to float rounding), so
 * its logits and input gradients are those of the original, with one kernel fewer per conv in the
 * forward pass and one gradient fewer in the backward pass (a MobileNetV2 has 52 of them).
 *
 * Only for inference and attacks: training needs the BN layers (batch statistics, γ/β updates).
 * A BN layer is folded when it is the only consumer of a Conv2D / DepthwiseConv2D output, both
 * are used once (no shared layers), and it normalises the channel axis; anything else is kept.
 */
import * as tf from '@tensorflow/tfjs';

type Inbound = [string, number, number, Record<string, unknown>?];
interface LayerConfig {
  name: string;
  className: string;
  config: Record<string, unknown>;
  inboundNodes: Inbound[][];
}
interface ModelConfig {
  name: string;
  layers: LayerConfig[];
  inputLayers: Array<[string, number, number]>;
  outputLayers: Array<[string, number, number]>;
}

export interface FoldResult {
  model: tf.LayersModel;
  /** BN layers folded away. */
  folded: number;
  /** Why nothing was folded, when nothing was. */
  reason?: string;
}

const CONVS = new Set(['Conv2D', 'DepthwiseConv2D']);

/** A new LayersModel with the foldable BN layers folded (the input model is left as it is). */
export function foldBatchNorm(model: tf.LayersModel): FoldResult {
  if (model instanceof tf.Sequential) return { model, folded: 0, reason: 'a Sequential model (only functional models are folded)' };
  const config = JSON.parse(JSON.stringify(model.getConfig())) as ModelConfig;
  if (!Array.isArray(config.layers)) return { model, folded: 0, reason: 'no layer graph in the model config' };
  const byName = new Map(config.layers.map((l) => [l.name, l]));
  const uses = new Map<string, number>();
  for (const l of config.layers) for (const node of l.inboundNodes) for (const [src] of node) uses.set(src, (uses.get(src) ?? 0) + 1);
  for (const [src] of config.outputLayers) uses.set(src, (uses.get(src) ?? 0) + 1);

  /** BN name → conv name. */
  const pairs = new Map<string, string>();
  for (const bn of config.layers) {
    if (bn.className !== 'BatchNormalization' || bn.inboundNodes.length !== 1 || bn.inboundNodes[0]!.length !== 1) continue;
    const axis = bn.config['axis'];
    if (axis !== -1 && axis !== 3) continue;
    const conv = byName.get(bn.inboundNodes[0]![0]![0]);
    if (!conv || !CONVS.has(conv.className) || conv.inboundNodes.length !== 1 || uses.get(conv.name) !== 1) continue;
    if (conv.config['dataFormat'] !== undefined && conv.config['dataFormat'] !== 'channelsLast') continue;
    // A fused activation would sit between the conv and the BN.
    if (conv.config['activation'] !== undefined && conv.config['activation'] !== 'linear') continue;
    pairs.set(bn.name, conv.name);
  }
  if (pairs.size === 0) return { model, folded: 0, reason: 'no BatchNormalization directly after a convolution' };

  const rename = (name: string): string => pairs.get(name) ?? name;
  const layers = config.layers.filter((l) => !pairs.has(l.name));
  for (const l of layers) {
    l.inboundNodes = l.inboundNodes.map((node) => node.map(([src, ...rest]) => [rename(src), ...rest] as Inbound));
    if ([...pairs.values()].includes(l.name)) l.config['useBias'] = true;
  }
  const folded: ModelConfig = { ...config, layers, outputLayers: config.outputLayers.map(([src, ...rest]) => [rename(src), ...rest] as [string, number, number]) };
  const out = tf.LayersModel.fromConfig(tf.LayersModel, folded as unknown as tf.serialization.ConfigDict) as tf.LayersModel;

  const convToBn = new Map([...pairs].map(([bn, conv]) => [conv, bn]));
  tf.tidy(() => {
    for (const layer of out.layers) {
      const original = model.getLayer(layer.name);
      const bnName = convToBn.get(layer.name);
      if (bnName === undefined) {
        if (original.weights.length > 0) layer.setWeights(original.getWeights());
        continue;
      }
      layer.setWeights(foldedWeights(original, model.getLayer(bnName)));
    }
  });
  return { model: out, folded: pairs.size };
}

/** [kernel·s, (bias − μ)·s + β] for a conv followed by `bn`. */
function foldedWeights(conv: tf.layers.Layer, bn: tf.layers.Layer): tf.Tensor[] {
  const c = conv.getConfig();
  const b = bn.getConfig();
  const [kernel, bias] = conv.getWeights();
  const bnWeights = bn.getWeights();
  // Keras order: gamma (if scale), beta (if center), moving mean, moving variance.
  let i = 0;
  const gamma = b['scale'] === false ? undefined : bnWeights[i++];
  const beta = b['center'] === false ? undefined : bnWeights[i++];
  const mean = bnWeights[i++]!;
  const variance = bnWeights[i++]!;
  const eps = (b['epsilon'] as number | undefined) ?? 1e-3;
  const inv = tf.rsqrt(tf.add(variance, eps));
  const s = gamma ? tf.mul(gamma, inv) : inv; // [C_out]
  const k = kernel!;
  // Conv2D kernel [kh, kw, in, out]; DepthwiseConv2D [kh, kw, in, multiplier], channel in·m + j.
  const scaledKernel = c['depthMultiplier'] !== undefined || conv.getClassName() === 'DepthwiseConv2D' ? tf.mul(k, tf.reshape(s, [k.shape[2]!, k.shape[3]!])) : tf.mul(k, s);
  const shifted = tf.sub(bias ?? tf.zerosLike(mean), mean);
  const newBias = tf.add(tf.mul(shifted, s), beta ?? tf.zerosLike(mean));
  return [scaledKernel, newBias];
}

/**
 * The model to evaluate a loaded file with: the folded copy when a layer folds (the original is
 * disposed), else the original. A model the fold cannot rebuild (a custom layer, say) is kept.
 */
export function foldForInference(model: tf.LayersModel): { model: tf.LayersModel; note?: string } {
  let result: FoldResult;
  try {
    result = foldBatchNorm(model);
  } catch {
    return { model };
  }
  if (result.folded === 0) return { model };
  model.dispose();
  return { model: result.model, note: `${result.folded} batch norm layer(s) folded into the convolution before them (the same function with one kernel fewer each)` };
}
