import * as tf from '@tensorflow/tfjs';

/** The BatchNormalization internals the replacement reads (tfjs-layers keeps them as fields). */
interface BatchNormInternals {
  axis: number;
  epsilon: number;
  movingMean: tf.LayerVariable;
  movingVariance: tf.LayerVariable;
  beta: tf.LayerVariable | null;
  gamma: tf.LayerVariable | null;
  call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[];
}

function isUnscaledBatchNorm(layer: tf.layers.Layer): boolean {
  if (layer.getClassName() !== 'BatchNormalization') return false;
  const config = layer.getConfig() as { scale?: boolean; center?: boolean };
  return config.scale === false || config.center === false;
}

/**
 * Inference batch norm as y = x·a + b with a = γ/√(σ² + ε) (γ = 1 when absent) and b = β − μ·a
 * (β = 0 when absent): the same function, made of ops whose gradients tfjs computes correctly.
 */
function affineCall(layer: BatchNormInternals, x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const rank = x.rank;
    const axis = layer.axis >= 0 ? layer.axis : layer.axis + rank;
    const shape = Array.from({ length: rank }, (_, i) => (i === axis ? x.shape[axis]! : 1));
    let a = tf.rsqrt(tf.add(layer.movingVariance.read(), layer.epsilon));
    if (layer.gamma) a = tf.mul(a, layer.gamma.read());
    const shift = tf.neg(tf.mul(layer.movingMean.read(), a));
    const b = layer.beta ? tf.add(layer.beta.read(), shift) : shift;
    return tf.add(tf.mul(x, tf.reshape(a, shape)), tf.reshape(b, shape));
  });
}

/**
 * tfjs cannot differentiate a BatchNormalization layer without γ (`scale: false`, as in
 * InceptionV3) or β (`center: false`): its backward pass reads the missing tensor
 * (tensorflow/tfjs#2868, "Cannot read properties of undefined (reading 'dtype')"). Replaces the
 * inference path of every such layer — nested models included — by the equivalent affine map;
 * training keeps tfjs's own. Returns the names of the layers replaced.
 */
export function replaceUnscaledBatchNorms(model: tf.LayersModel): string[] {
  const replaced: string[] = [];
  const visit = (layers: tf.layers.Layer[]) => {
    for (const layer of layers) {
      const nested = (layer as unknown as { layers?: tf.layers.Layer[] }).layers;
      if (Array.isArray(nested)) visit(nested);
      if (!isUnscaledBatchNorm(layer)) continue;
      const internals = layer as unknown as BatchNormInternals;
      if ((internals as unknown as { advtestAffine?: boolean }).advtestAffine) {
        replaced.push(layer.name);
        continue;
      }
      const original = internals.call.bind(layer);
      internals.call = (inputs, kwargs) => {
        if (kwargs?.training === true) return original(inputs, kwargs);
        return affineCall(internals, Array.isArray(inputs) ? inputs[0]! : inputs);
      };
      (internals as unknown as { advtestAffine?: boolean }).advtestAffine = true;
      replaced.push(layer.name);
    }
  };
  visit(model.layers);
  return replaced;
}
