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
 * @param logits [B, C] raw scores
 * @param targets [B, C] one-hot, soft or scaled targets (all-zero rows are unlabelled)
 * @param mask [B] 1 for rows that carry a target
 */
export function maskedCrossEntropy(logits: Tensor2D, targets: Tensor2D, mask: Tensor1D): Scalar {
  return tf.tidy(() => {
    const logp = tf.logSoftmax(logits);
    const ce = tf.neg(tf.sum(tf.mul(targets, logp), 1));
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
