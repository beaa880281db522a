/**
 * Masked multi-head loss (docs/original.md §5.1, fix B13): per head the masked mean of cross-entropy with soft or
 * scaled targets. Targets are not renormalised, so a target w*onehot(k) acts as a per-sample weight.
 * A head whose batch has no labelled row contributes exactly 0, never NaN or inf.
 * @module
 */
import { argmaxRow } from "./metrics.ts";
import * as tf from "@tensorflow/tfjs-core";
import type { Scalar, Tensor1D, Tensor2D } from "./tensors.ts";

/**
 * Masked cross-entropy of one head.
 *
 * With `temperature` τ (one value per row), row i's loss is Hinton et al.'s soft-target term (arXiv
 * 1503.02531): the student is softened at the same temperature as its targets and the term is scaled by τ_i²,
 * so its gradient keeps the magnitude of a τ = 1 term:
 *
 *     ce_i = −τ_i² Σ_c y_ic log softmax(z_i / τ_i)_c,   ∂ce_i/∂z_ic = τ_i (softmax(z_i/τ_i)_c Σ_c' y_ic' − y_ic)
 *
 * τ_i = 1 (and no `temperature`) is the plain masked cross-entropy.
 * @param logits [B, C] raw scores
 * @param targets [B, C] one-hot, soft or scaled targets (all-zero rows are unlabelled)
 * @param mask [B] 1 for rows that carry a target
 * @param temperature [B] per-row student temperature τ_i > 0 (absent: 1 for every row)
 */
export function maskedCrossEntropy(
  logits: Tensor2D,
  targets: Tensor2D,
  mask: Tensor1D,
  temperature?: Tensor1D,
): Scalar {
  return tf.tidy(() => {
    let ce: tf.Tensor;
    if (temperature) {
      const tau = tf.reshape(temperature, [-1, 1]);
      const logp = tf.logSoftmax(tf.div(logits, tau));
      ce = tf.mul(tf.neg(tf.sum(tf.mul(targets, logp), 1)), tf.square(temperature));
    } else {
      ce = tf.neg(tf.sum(tf.mul(targets, tf.logSoftmax(logits)), 1));
    }
    const m = tf.cast(mask, "float32");
    const num = tf.sum(tf.mul(ce, m));
    const den = tf.sum(m);
    // den = 0 gives 0/1 = 0 instead of 0/0.
    return tf.div(num, tf.maximum(den, 1)) as tf.Scalar;
  });
}

/** Masked accuracy against the argmax of the targets (docs/original.md §5.2); NaN when no row is labelled. */
export function maskedAccuracy(
  probs: Float32Array,
  targets: Float32Array,
  mask: Float32Array,
  classes: number,
): number {
  let hit = 0;
  let n = 0;
  for (let i = 0; i < mask.length; i++) {
    if (mask[i] === 0) continue;
    n++;
    if (argmaxRow(probs, i, classes) === argmaxRow(targets, i, classes)) hit++;
  }
  return n === 0 ? NaN : hit / n;
}
