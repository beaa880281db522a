/**
 * Building the missing-task targets from weights, pseudo labels and distilled vectors
 * (docs/original.md §6.8.3 steps 2-3, §6.8.8, §6.8.10, §6.8.11; defects B10-B12).
 * @module
 */
import type { TargetSet } from "../plugin.ts";

/** How `selection_threshold` is read: a quantile of the weights (EP code) or an absolute weight (EA). */
export type SelectionMode = "quantile" | "absolute";
/** What a row rejected by hard selection gets: the distilled vector (README/EA) or a masked zero row (EP). */
export type RejectMode = "distill" | "zero";
/** Soft-mode formula: `ep` w*onehot + (1-w)*d; `lambda` l*(w*onehot) + (1-l)*d (EA bytecode). */
export type InterpolationMode = "ep" | "lambda";

/** Common inputs of the target builders. */
export interface TargetInputs {
  /** Classes C of the task. */
  classes: number;
  /** n*C distilled vectors d_i. */
  distilled: Float32Array;
}

/** Options of {@link hardTargets}. */
export interface HardOptions extends TargetInputs {
  /** `selection_threshold` s. */
  threshold: number;
  /** Default `quantile`. */
  mode?: SelectionMode;
  /** Default `distill`. */
  reject?: RejectMode;
}

/** Options of {@link softTargets}. */
export interface SoftOptions extends TargetInputs {
  /** Default `ep`. */
  mode?: InterpolationMode;
  /** lambda (`interpolation_weights`) for mode `lambda`, in [0, 1]. */
  lambda?: number;
}

function check(weights: Float32Array, labels: Int32Array, o: TargetInputs): number {
  const n = labels.length;
  if (weights.length !== n) throw new RangeError(`targets: ${weights.length} weights for ${n} labels`);
  if (o.distilled.length !== n * o.classes) {
    throw new RangeError(`targets: distilled has ${o.distilled.length} values, expected ${n}x${o.classes}`);
  }
  for (let i = 0; i < n; i++) {
    if (!(labels[i] >= 0 && labels[i] < o.classes)) {
      throw new RangeError(`targets: pseudo label ${labels[i]} at row ${i} outside [0, ${o.classes})`);
    }
    if (!(weights[i] >= 0 && weights[i] <= 1)) {
      throw new RangeError(`targets: weight ${weights[i]} at row ${i}`);
    }
  }
  return n;
}

/**
 * The hard-selection threshold tau. `quantile`: tau = sort(w)[floor(s * n)], s in [0, 1) (docs/original.md B10: the
 * original crashed for s >= 1). `absolute`: tau = s, s in [0, 1]. Rows with w_i > tau are kept.
 */
export function selectionThreshold(
  weights: Float32Array,
  threshold: number,
  mode: SelectionMode = "quantile",
): number {
  if (mode === "quantile") {
    if (!(threshold >= 0 && threshold < 1)) {
      throw new RangeError(
        `--selection_threshold: must be in [0, 1) with --selection_mode=quantile, got ${threshold}`,
      );
    }
    if (weights.length === 0) return Infinity;
    const sorted = Float32Array.from(weights).sort();
    return sorted[Math.floor(threshold * weights.length)];
  }
  if (mode !== "absolute") {
    throw new RangeError(`--selection_mode: expected quantile or absolute, got ${mode}`);
  }
  if (!(threshold >= 0 && threshold <= 1)) {
    throw new RangeError(
      `--selection_threshold: must be in [0, 1] with --selection_mode=absolute, got ${threshold}`,
    );
  }
  return threshold;
}

function histogram(
  labels: Int32Array,
  kept: Uint8Array | undefined,
  classes: number,
): Record<string, number> {
  const h: Record<string, number> = {};
  for (let c = 0; c < classes; c++) h[`hist_${c}`] = 0;
  labels.forEach((k, i) => {
    if (!kept || kept[i]) h[`hist_${k}`]++;
  });
  return h;
}

function mean(v: Float32Array): number {
  let s = 0;
  for (const x of v) s += x;
  return v.length > 0 ? s / v.length : 0;
}

/**
 * Hard selection (6.8.8): kept rows (w_i > tau) get w_i * onehot(k_i); rejected rows get d_i
 * (`reject=distill`) or the all-zero masked row (`reject=zero`). Stats: mean_weight, kept_fraction,
 * tau, hist_c = kept rows per pseudo class.
 */
export function hardTargets(weights: Float32Array, labels: Int32Array, options: HardOptions): TargetSet {
  const n = check(weights, labels, options);
  const C = options.classes;
  const reject = options.reject ?? "distill";
  if (reject !== "distill" && reject !== "zero") {
    throw new RangeError(`--reject: expected distill or zero, got ${reject}`);
  }
  const tau = selectionThreshold(weights, options.threshold, options.mode);
  const targets = new Float32Array(n * C);
  const kept = new Uint8Array(n);
  let nk = 0;
  for (let i = 0; i < n; i++) {
    if (weights[i] > tau) {
      kept[i] = 1;
      nk++;
      targets[i * C + labels[i]] = weights[i];
    } else if (reject === "distill") {
      targets.set(options.distilled.subarray(i * C, i * C + C), i * C);
    }
  }
  return {
    targets,
    weights,
    kept,
    stats: {
      mean_weight: mean(weights),
      kept_fraction: n > 0 ? nk / n : 0,
      tau: Number.isFinite(tau) ? tau : 0,
      ...histogram(labels, kept, C),
    },
  };
}

/**
 * Interpolation (6.8.8 soft mode, 6.8.10): `ep` w_i * onehot(k_i) + (1 - w_i) * d_i;
 * `lambda` lambda * w_i * onehot(k_i) + (1 - lambda) * d_i. No row is rejected. Stats: mean_weight,
 * kept_fraction (rows with w_i > 0), hist_c over those rows.
 */
export function softTargets(weights: Float32Array, labels: Int32Array, options: SoftOptions): TargetSet {
  const n = check(weights, labels, options);
  const C = options.classes;
  const mode = options.mode ?? "ep";
  if (mode !== "ep" && mode !== "lambda") {
    throw new RangeError(`--interpolation_mode: expected ep or lambda, got ${mode}`);
  }
  const lambda = options.lambda ?? 0;
  if (mode === "lambda" && !(lambda >= 0 && lambda <= 1)) {
    throw new RangeError(
      `--interpolation_weights: must be in [0, 1] with --interpolation_mode=lambda, got ${lambda}`,
    );
  }
  const targets = new Float32Array(n * C);
  const kept = new Uint8Array(n);
  let nk = 0;
  for (let i = 0; i < n; i++) {
    const w = weights[i];
    const a = mode === "ep" ? w : lambda * w; // one-hot coefficient
    const b = mode === "ep" ? 1 - w : 1 - lambda; // distilled coefficient
    for (let c = 0; c < C; c++) targets[i * C + c] = b * options.distilled[i * C + c];
    targets[i * C + labels[i]] += a;
    if (w > 0) {
      kept[i] = 1;
      nk++;
    }
  }
  return {
    targets,
    weights,
    kept,
    stats: { mean_weight: mean(weights), kept_fraction: n > 0 ? nk / n : 0, ...histogram(labels, kept, C) },
  };
}

/** The "pure" case (no factor flag, 6.8.3 step 3): 0.5 * onehot(k_i) + 0.5 * d_i for every row. */
export function pureTargets(labels: Int32Array, options: TargetInputs): TargetSet {
  const weights = new Float32Array(labels.length).fill(0.5);
  const set = softTargets(weights, labels, { ...options, mode: "ep" });
  return { ...set, stats: { ...set.stats, kept_fraction: labels.length > 0 ? 1 : 0 } };
}

/** The distill-only case (6.8.3 step 2): the distilled vectors themselves. */
export function distilledTargets(distilled: Float32Array, classes: number): TargetSet {
  const n = distilled.length / classes;
  let s = 0;
  for (let i = 0; i < n; i++) {
    let m = 0;
    for (let c = 0; c < classes; c++) m = Math.max(m, distilled[i * classes + c]);
    s += m;
  }
  return { targets: Float32Array.from(distilled), stats: { mean_max_prob: n > 0 ? s / n : 0 } };
}
