/**
 * The paired bootstrap over test rows: two methods scored on the same test rows (one pair of
 * correctness vectors per seed) are compared by resampling rows with replacement, the same row indices
 * for both methods, and recomputing the difference of accuracies averaged over the seeds. The
 * percentile interval of those resampled differences measures how much the difference depends on which
 * test rows were drawn (the test set's sampling noise), with the trained models held fixed.
 * @module
 */
import type { Rng } from "../../core/rng.ts";

/** One seed's pair: per-row correctness of method A and of method B on the same rows, and the rows' key. */
export interface RowPair {
  /** 1 where A was right, 0 where wrong. */
  a: Uint8Array;
  /** 1 where B was right, 0 where wrong (same rows, same order). */
  b: Uint8Array;
  /** Fingerprint of the rows: pairs with equal keys scored the same test rows. */
  rows: string;
}

/** Result of {@link pairedBootstrap}. */
export interface BootstrapInterval {
  /** Observed difference: mean over the pairs of acc(A) − acc(B). */
  observed: number;
  /** Percentile interval ends of the resampled differences. */
  low: number;
  high: number;
  /** Resamples drawn. */
  resamples: number;
  /** Pairs (seeds) averaged. */
  pairs: number;
  /**
   * True when every pair scored the same rows, so each resample draws one set of row indices for all
   * seeds (the test set is the unit resampled); false when the seeds' rows differ (each seed resampled
   * on its own).
   */
  sharedRows: boolean;
}

/** Correctness string (`0`/`1` per row) as bytes. */
export function correctnessBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) === 49 ? 1 : 0;
  return out;
}

/** The `q` quantile of sorted values with linear interpolation between order statistics (R's type 7). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) throw new RangeError("quantileSorted: no values");
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/**
 * Paired bootstrap percentile interval of the mean (over `pairs`) of acc(A) − acc(B). Each resample draws
 * n row indices with replacement (shared by A and B, and by every seed when all pairs scored the same
 * rows) and recomputes the averaged difference; the interval is the (1 − level)/2 and (1 + level)/2
 * quantiles of the resampled values. Deterministic for a given `rng` state. Null without pairs or rows.
 */
export function pairedBootstrap(
  pairs: RowPair[],
  opts: { rng: Rng; resamples?: number; level?: number },
): BootstrapInterval | null {
  const usable = pairs.filter((p) => p.a.length > 0);
  if (usable.length === 0) return null;
  for (const [i, p] of usable.entries()) {
    if (p.a.length !== p.b.length) {
      throw new RangeError(`pairedBootstrap: pair ${i} has ${p.a.length} rows for A but ${p.b.length} for B`);
    }
  }
  const resamples = opts.resamples ?? 2000;
  const level = opts.level ?? 0.95;
  // Per-row differences in {-1, 0, 1}: only they matter for a difference of accuracies.
  const diffs = usable.map((p) => {
    const d = new Int8Array(p.a.length);
    for (let i = 0; i < d.length; i++) d[i] = p.a[i] - p.b[i];
    return d;
  });
  const sumOf = (d: Int8Array) => d.reduce((a, x) => a + x, 0);
  const observed = diffs.reduce((a, d) => a + sumOf(d) / d.length, 0) / diffs.length;
  const sharedRows = usable.every((p) => p.rows === usable[0].rows && p.a.length === usable[0].a.length);
  const values = new Float64Array(resamples);
  // A uniform index in [0, n): 32 random bits scaled (bias below n / 2^32, far under the Monte Carlo error).
  const draw = (n: number) => Math.floor(opts.rng.nextU32() * n / 4294967296);
  if (sharedRows) {
    // One draw of rows serves every seed: sum the seeds' differences per row first.
    const n = diffs[0].length;
    const w = new Int32Array(n);
    for (const d of diffs) for (let i = 0; i < n; i++) w[i] += d[i];
    const scale = 1 / (n * diffs.length);
    for (let r = 0; r < resamples; r++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += w[draw(n)];
      values[r] = s * scale;
    }
  } else {
    for (let r = 0; r < resamples; r++) {
      let total = 0;
      for (const d of diffs) {
        const n = d.length;
        let s = 0;
        for (let i = 0; i < n; i++) s += d[draw(n)];
        total += s / n;
      }
      values[r] = total / diffs.length;
    }
  }
  values.sort();
  return {
    observed,
    low: quantileSorted(values, (1 - level) / 2),
    high: quantileSorted(values, (1 + level) / 2),
    resamples,
    pairs: diffs.length,
    sharedRows,
  };
}
