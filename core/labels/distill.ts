/**
 * Distilled soft labels: the teacher's temperature-softened outputs (docs/original.md §6.6, defect B6).
 * @module
 */
import { assertShape } from "./_select.ts";

/** Options of {@link softmaxRows} and {@link softmaxGlobal}. */
export interface SoftmaxOptions {
  /** Temperature T > 0; the logits are divided by it. Default 1. */
  temperature?: number;
}

function checkTemperature(t: number): number {
  if (!(t > 0) || !Number.isFinite(t)) throw new RangeError(`--distill_t: temperature must be > 0, got ${t}`);
  return t;
}

/**
 * Row-wise softmax(z_i / T) of n*C logits: each row sums to 1 (the fix of docs/original.md B6). Stable for any finite
 * logits (max subtraction). Returns a new n*C array.
 */
export function softmaxRows(
  logits: Float32Array,
  classes: number,
  options: SoftmaxOptions = {},
): Float32Array {
  const t = checkTemperature(options.temperature ?? 1);
  if (!(classes >= 1)) throw new RangeError(`softmaxRows: classes must be >= 1, got ${classes}`);
  const n = logits.length / classes;
  assertShape(logits, Math.floor(n), classes, "softmaxRows: logits");
  const out = new Float32Array(logits.length);
  for (let i = 0; i < n; i++) {
    const o = i * classes;
    let m = -Infinity;
    for (let c = 0; c < classes; c++) m = Math.max(m, logits[o + c] / t);
    let s = 0;
    for (let c = 0; c < classes; c++) s += Math.exp(logits[o + c] / t - m);
    for (let c = 0; c < classes; c++) out[o + c] = Math.exp(logits[o + c] / t - m) / s;
  }
  return out;
}

/**
 * The as-coded EP distillation (compat, docs/original.md B6): exp(z_ic / T) normalised over the WHOLE n*C array, so each
 * row sums to about 1/n. Computed with the global max subtracted, which gives the same values where the
 * original did not overflow and finite values where it produced NaN.
 */
export function softmaxGlobal(logits: Float32Array, options: SoftmaxOptions = {}): Float32Array {
  const t = checkTemperature(options.temperature ?? 1);
  const out = new Float32Array(logits.length);
  if (logits.length === 0) return out;
  let m = -Infinity;
  for (let i = 0; i < logits.length; i++) m = Math.max(m, logits[i] / t);
  let s = 0;
  for (let i = 0; i < logits.length; i++) s += Math.exp(logits[i] / t - m);
  for (let i = 0; i < logits.length; i++) out[i] = Math.exp(logits[i] / t - m) / s;
  return out;
}
