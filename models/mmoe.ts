/**
 * The mixture step of MMoE (Ma, Zhao, Yi, Chen, Hong & Chi, "Modeling task relationships in multi-task
 * learning with multi-gate mixture-of-experts", KDD 2018): a weightless layer that takes a task's gate
 * [B, E] (softmax weights) and the E expert outputs [B, W] and returns sum_e gate_e * expert_e. The experts
 * and the gates are ordinary Dense layers built in `build.ts`.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";

/** sum_e gate[:, e] * expert_e, for inputs [gate, expert_1, ..., expert_E]. */
export class ExpertMixture extends tfl.layers.Layer {
  /** Class name used by tfjs serialization. */
  static className = "ExpertMixture";

  /** Create the layer (the builder names it `<task>_mixture`). */
  constructor(args: { name?: string } = {}) {
    super(args);
  }

  /** The experts' shape. */
  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const shapes = inputShape as tfl.Shape[];
    if (!Array.isArray(shapes[0]) || shapes.length < 2) {
      throw new Error(`ExpertMixture ${this.name}: needs [gate, expert_1, ...]`);
    }
    return [...shapes[1]];
  }

  /** Gate-weighted sum of the experts. */
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const [gate, ...experts] = inputs as tf.Tensor2D[];
      if (gate.shape[1] !== experts.length) {
        throw new Error(
          `ExpertMixture ${this.name}: gate width ${gate.shape[1]} != ${experts.length} experts`,
        );
      }
      const stacked = tf.stack(experts, 1); // [B, E, W]
      return tf.sum(tf.mul(stacked, tf.expandDims(gate, 2)), 1);
    });
  }
}
tf.serialization.registerClass(ExpertMixture);
