/**
 * Pseudo labels and their confidence from teacher probabilities (docs/original.md §6.8.2, §6.8.4).
 * @module
 */
import { assertShape } from "./_select.ts";
import { argmaxRow } from "../metrics.ts";

/** Pseudo labels k_i = argmax_c p_ic and confidences conf_i = max_c p_ic. */
export interface PseudoLabels {
  /** n pseudo classes (the first maximum on ties, as numpy's argmax). */
  labels: Int32Array;
  /** n top probabilities. */
  confidence: Float32Array;
}

/** Argmax pseudo labels and max-probability confidence of n*C probabilities. */
export function pseudoLabels(probs: Float32Array, classes: number): PseudoLabels {
  if (!(classes >= 1)) throw new RangeError(`pseudoLabels: classes must be >= 1, got ${classes}`);
  const n = Math.floor(probs.length / classes);
  assertShape(probs, n, classes, "pseudoLabels: probs");
  const labels = new Int32Array(n);
  const confidence = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < classes; c++) {
      if (!Number.isFinite(probs[i * classes + c])) {
        throw new RangeError(`pseudoLabels: non-finite probability at row ${i}`);
      }
    }
    labels[i] = argmaxRow(probs, i, classes);
    confidence[i] = probs[i * classes + labels[i]];
  }
  return { labels, confidence };
}

/** n*C one-hot rows of `labels`, each scaled by `scale[i]` when given. */
export function oneHot(labels: Int32Array, classes: number, scale?: Float32Array): Float32Array {
  const out = new Float32Array(labels.length * classes);
  for (let i = 0; i < labels.length; i++) {
    const k = labels[i];
    if (!(k >= 0 && k < classes)) {
      throw new RangeError(`oneHot: label ${k} at row ${i} outside [0, ${classes})`);
    }
    out[i * classes + k] = scale ? scale[i] : 1;
  }
  return out;
}
