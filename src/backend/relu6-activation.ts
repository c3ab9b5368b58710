/**
 * tf.layers' 'relu6' activation computes minimum(6, relu(x)): two kernels, the second a
 * broadcasting binary op — 44% of a MobileNetV2 forward pass on wasm together
 * (`node --import tsx test/bench/profile-mobilenet.ts --forward`), and two gradients. tf.relu6 is
 * the same function in one unary kernel with one gradient kernel (lazy-grads.ts). Registered
 * under the stock class's name, this class serves every model built or loaded afterwards; a
 * saved model still says 'relu6'. Two differences: the gradient at exactly x = 6 (1 instead of
 * tfjs's 0; PyTorch gives 0 at both ends), and on wasm a NaN input, which gives 0 instead of 6
 * (NaN in both on cpu).
 */
import * as tf from '@tensorflow/tfjs';

type Entry = [tf.serialization.SerializableConstructor<tf.serialization.Serializable>, tf.serialization.FromConfigMethod<tf.serialization.Serializable>];

class Relu6Activation extends tf.serialization.Serializable {
  static className = 'relu6';
  apply(x: tf.Tensor): tf.Tensor {
    return tf.relu6(x);
  }
  getConfig(): tf.serialization.ConfigDict {
    return {};
  }
}

let stock: Entry | undefined;

export function registerRelu6Activation(): void {
  const map = tf.serialization.SerializationMap.getMap().classNameMap;
  if (map['relu6']?.[0] === Relu6Activation) return;
  stock = map['relu6'];
  tf.serialization.SerializationMap.register(Relu6Activation);
}

/** Restores tf.layers' own class (for A/B benchmarks and tests). */
export function unregisterRelu6Activation(): void {
  const map = tf.serialization.SerializationMap.getMap().classNameMap;
  if (map['relu6']?.[0] !== Relu6Activation) return;
  if (stock) map['relu6'] = stock;
  else delete map['relu6'];
}
