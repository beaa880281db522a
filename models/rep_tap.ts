/**
 * The shared-representation tap: an identity layer placed where the shared trunk ends and the task heads
 * begin (the trunk's pooled output on the Xceptions, the shared 1024-d layer on VGG). It has no weights, so
 * checkpoints and imported weights are unaffected. A training step may intercept it for one forward pass
 * (`intercept`), which is how the gradient-based task weightings get the representation tensor and replace
 * its gradient (core/task_weighting/mod.ts).
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";

/** Identity layer whose output can be routed through a step's function. */
export class RepTap extends tfl.layers.Layer {
  /** Class name used by tfjs serialization. */
  static className = "RepTap";
  #hook: ((rep: tf.Tensor) => tf.Tensor) | null = null;

  /** Create the tap (name `shared_rep` in the builder). */
  constructor(args: { name?: string } = {}) {
    super(args);
  }

  /** Route the next forward passes through `fn` (null: plain identity). */
  intercept(fn: ((rep: tf.Tensor) => tf.Tensor) | null): void {
    this.#hook = fn;
  }

  /** Identity, or the interceptor's result. */
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    return this.#hook ? this.#hook(x) : x;
  }

  /** Same shape as the input. */
  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape | tfl.Shape[] {
    return inputShape;
  }
}
tf.serialization.registerClass(RepTap);
