/**
 * Local density factor per pseudo class (docs/original.md §6.8.5, defect B14).
 *
 * For the n_c rows of a pseudo class c with features x, D is their n_c x n_c Euclidean distance matrix
 * (self-distances included). The cutoff is the entry at index floor(n_c^2 * t) of D's ascending-sorted
 * entries (t = `density_t`), rho_i = #{j : D_ij < cutoff} - 1, and the factor is rho min-max normalised
 * within the class (values <= 1e-5 become 0; singleton or constant classes give 0).
 *
 * Small classes (n_c <= `exactMax`) are computed exactly: the n_c(n_c-1)/2 pair distances are stored
 * once (memory O(exactMax^2)), the cutoff found by selection, and counts read from the stored pairs.
 *
 * Larger classes are approximated in O(n_c * d + s * d + tile * s) memory:
 *
 * - Cutoff: the floor(m * t)-th smallest of m squared distances of ordered pairs (i, j) drawn uniformly
 *   with replacement from all n_c^2 (self pairs included, as in D). By the Dvoretzky-Kiefer-Wolfowitz
 *   inequality (Massart's constant), with probability >= 1 - alpha the empirical CDF of the m draws is
 *   within eps = sqrt(ln(2/alpha) / (2m)) of D's CDF everywhere, so the chosen cutoff c satisfies
 *   F(c) > t - eps and F(c-) <= t + eps, where F(x) (F(x-)) is the fraction of D's n_c^2 entries <= x
 *   (< x): the cutoff's rank in D is off by at most eps * n_c^2 from the exact index. See
 *   {@link dkwEpsilon}.
 * - Counts: one reference set R of s rows drawn without replacement from the class; for row i the
 *   neighbour fraction q_i = #{j != i : D_ij < c} / (n_c - 1) is estimated by the fraction among
 *   R \ {i} (s' = s or s - 1 rows). Hoeffding's inequality (which holds for sampling without
 *   replacement) gives P(|q^_i - q_i| >= eps) <= 2 exp(-2 s' eps^2), i.e. with probability >= 1 - alpha
 *   |q^_i - q_i| < sqrt(ln(2/alpha) / (2 s')) for one row, and for all n_c rows at once with alpha
 *   replaced by alpha / n_c (union bound). The estimate is rho^_i = q^_i (n_c - 1) + [c > 0] - 1. See
 *   {@link hoeffdingEpsilon}.
 * @module
 */
import type { Rng } from "../rng.ts";
import { assertFinite, assertShape, blockSqDist, rowNorms, selectKth, sqDist } from "./_select.ts";

/** Options of {@link localDensity}. */
export interface DensityOptions {
  /** Feature width. */
  d: number;
  /** Number of pseudo classes (labels lie in [0, classes)). */
  classes: number;
  /** `density_t`: quantile of the pairwise distances used as the cutoff, in [0, 1). */
  quantile: number;
  /** Seeded generator for the approximate path (required when a class exceeds `exactMax`). */
  rng?: Rng;
  /** Largest class computed exactly. Default 2048. */
  exactMax?: number;
  /** Pair draws m for the approximate cutoff. Default 2^20. */
  pairSamples?: number;
  /** Reference-set size s for the approximate neighbour counts. Default 1024. */
  neighbourSamples?: number;
}

/** How one class was computed. */
export interface ClassDensityInfo {
  /** Class id. */
  label: number;
  /** Rows in the class. */
  n: number;
  /** Distance cutoff (not squared). */
  cutoff: number;
  /** True when computed exactly. */
  exact: boolean;
}

/** Result of {@link localDensity}. */
export interface DensityResult {
  /** n normalised densities rho'_i in [0, 1]. */
  density: Float32Array;
  /** n raw neighbour counts rho_i (estimates for approximate classes). */
  raw: Float64Array;
  /** Per class, how it was computed. */
  perClass: ClassDensityInfo[];
}

/** DKW bound: with prob. >= 1 - alpha the empirical CDF of m draws is within this of the true CDF. */
export function dkwEpsilon(samples: number, alpha: number): number {
  return Math.sqrt(Math.log(2 / alpha) / (2 * samples));
}

/** Hoeffding bound: with prob. >= 1 - alpha a mean of s draws in [0, 1] is within this of its mean. */
export function hoeffdingEpsilon(samples: number, alpha: number): number {
  return Math.sqrt(Math.log(2 / alpha) / (2 * samples));
}

function checkQuantile(t: number): void {
  if (!(t >= 0 && t < 1)) throw new RangeError(`--density_t: must be in [0, 1), got ${t}`);
}

/** Options of {@link densityCutoff}. */
export interface CutoffOptions {
  quantile: number;
  rng?: Rng;
  exactMax?: number;
  pairSamples?: number;
}

const TILE = 256;

/** Squared pair distances of rows i < j in row-major upper-triangle order, computed in tiles. */
function pairSquares(x: Float32Array, n: number, d: number): Float64Array {
  const out = new Float64Array((n * (n - 1)) / 2);
  const x64 = Float64Array.from(x);
  const norms = rowNorms(x64, d);
  const block = new Float64Array(TILE * TILE);
  for (let i0 = 0; i0 < n; i0 += TILE) {
    const i1 = Math.min(n, i0 + TILE);
    for (let j0 = i0; j0 < n; j0 += TILE) {
      const j1 = Math.min(n, j0 + TILE);
      const w = j1 - j0;
      blockSqDist(x64, norms, i0, i1, x64, norms, j0, j1, d, block);
      for (let i = i0; i < i1; i++) {
        const base = i * n - (i * (i + 1)) / 2 - i - 1; // index of pair (i, j) is base + j
        for (let j = Math.max(j0, i + 1); j < j1; j++) out[base + j] = block[(i - i0) * w + (j - j0)];
      }
    }
  }
  return out;
}

/** Exact squared cutoff from the stored pairs: D's sorted list is n zeros then each pair twice. */
function exactCutoffSq(pairs: Float64Array, n: number, t: number): number {
  const idx = Math.floor(n * n * t);
  if (idx < n) return 0;
  return selectKth(pairs, Math.floor((idx - n) / 2));
}

/** Exact rho from stored upper-triangle pair distances. */
function countPairs(pairs: Float64Array, n: number, cutoffSq: number): Float64Array {
  const rho = new Float64Array(n);
  let p = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      if (pairs[p++] < cutoffSq) {
        rho[i]++;
        rho[j]++;
      }
    }
  }
  const self = cutoffSq > 0 ? 1 : 0;
  for (let i = 0; i < n; i++) rho[i] += self - 1;
  return rho;
}

/**
 * The squared density cutoff of the n rows of `x` (width d): exact when n <= exactMax, otherwise the
 * sampled estimate described in the module doc.
 */
export function densityCutoff(
  x: Float32Array,
  d: number,
  options: CutoffOptions,
): { cutoffSq: number; exact: boolean } {
  checkQuantile(options.quantile);
  const n = x.length / d;
  if (n === 0) return { cutoffSq: 0, exact: true };
  if (n <= (options.exactMax ?? 2048)) {
    return { cutoffSq: exactCutoffSq(pairSquares(x, n, d), n, options.quantile), exact: true };
  }
  const rng = options.rng;
  if (!rng) throw new Error("densityCutoff: an Rng is required for classes larger than exactMax");
  const m = options.pairSamples ?? 1 << 20;
  const draws = new Float64Array(m);
  for (let s = 0; s < m; s++) draws[s] = sqDist(x, rng.int(n), x, rng.int(n), d);
  return { cutoffSq: selectKth(draws, Math.floor(m * options.quantile)), exact: false };
}

/** Options of {@link neighbourCounts}. */
export interface CountOptions {
  rng?: Rng;
  exactMax?: number;
  neighbourSamples?: number;
}

/**
 * rho_i = #{j : D_ij < cutoff} - 1 for the n rows of `x` at a squared cutoff: exact when n <= exactMax,
 * otherwise estimated from a reference sample (module doc).
 */
export function neighbourCounts(
  x: Float32Array,
  d: number,
  cutoffSq: number,
  options: CountOptions = {},
): Float64Array {
  const n = x.length / d;
  const rho = new Float64Array(n);
  const self = cutoffSq > 0 ? 1 : 0;
  if (n <= (options.exactMax ?? 2048)) return countPairs(pairSquares(x, n, d), n, cutoffSq);
  const rng = options.rng;
  if (!rng) throw new Error("neighbourCounts: an Rng is required for classes larger than exactMax");
  const s = Math.min(options.neighbourSamples ?? 1024, n);
  if (s < 2) throw new RangeError(`neighbourCounts: neighbourSamples must be >= 2, got ${s}`);
  const ref = rng.permutation(n).subarray(0, s);
  const inRef = new Uint8Array(n);
  const x64 = Float64Array.from(x);
  const norms = rowNorms(x64, d);
  const rx = new Float64Array(s * d);
  for (let r = 0; r < s; r++) {
    inRef[ref[r]] = 1;
    rx.set(x64.subarray(ref[r] * d, ref[r] * d + d), r * d);
  }
  const rNorms = rowNorms(rx, d);
  const block = new Float64Array(TILE * s);
  for (let i0 = 0; i0 < n; i0 += TILE) {
    const i1 = Math.min(n, i0 + TILE);
    blockSqDist(x64, norms, i0, i1, rx, rNorms, 0, s, d, block);
    for (let i = i0; i < i1; i++) {
      let hits = 0;
      for (let r = (i - i0) * s, e = r + s; r < e; r++) if (block[r] < cutoffSq) hits++;
      // reference rows meet themselves (distance 0) in R: drop that draw
      const frac = inRef[i] ? (hits - self) / (s - 1) : hits / s;
      rho[i] = frac * (n - 1) + self - 1;
    }
  }
  return rho;
}

/** Min-max normalise within a class; values <= 1e-5 and degenerate classes give 0. */
export function normaliseDensity(rho: Float64Array): Float32Array {
  const out = new Float32Array(rho.length);
  let lo = Infinity, hi = -Infinity;
  for (const v of rho) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const range = hi - lo;
  if (!(range > 0)) return out;
  for (let i = 0; i < rho.length; i++) {
    const v = (rho[i] - lo) / range;
    out[i] = v <= 1e-5 ? 0 : v;
  }
  return out;
}

/**
 * Local density of every row within its pseudo class (module doc). `features` is n*d, `labels` the n
 * pseudo classes. Each class draws from its own stream `rng.derive("density:<c>")`.
 */
export function localDensity(
  features: Float32Array,
  labels: Int32Array,
  options: DensityOptions,
): DensityResult {
  const { d, classes } = options;
  checkQuantile(options.quantile);
  const n = labels.length;
  assertShape(features, n, d, "localDensity: features");
  assertFinite(features, d, "localDensity: features");
  const members: number[][] = Array.from({ length: classes }, () => []);
  for (let i = 0; i < n; i++) {
    const k = labels[i];
    if (!(k >= 0 && k < classes)) {
      throw new RangeError(`localDensity: label ${k} at row ${i} outside [0, ${classes})`);
    }
    members[k].push(i);
  }
  const density = new Float32Array(n);
  const raw = new Float64Array(n);
  const perClass: ClassDensityInfo[] = [];
  for (let c = 0; c < classes; c++) {
    const rows = members[c];
    if (rows.length === 0) continue;
    const x = new Float32Array(rows.length * d);
    rows.forEach((r, i) => x.set(features.subarray(r * d, r * d + d), i * d));
    const rng = options.rng?.derive(`density:${c}`);
    let cutoffSq: number, rho: Float64Array;
    const exact = rows.length <= (options.exactMax ?? 2048);
    if (exact) {
      const pairs = pairSquares(x, rows.length, d); // computed once: a copy feeds the selection
      cutoffSq = exactCutoffSq(pairs.slice(), rows.length, options.quantile);
      rho = countPairs(pairs, rows.length, cutoffSq);
    } else {
      cutoffSq = densityCutoff(x, d, { ...options, rng }).cutoffSq;
      rho = neighbourCounts(x, d, cutoffSq, { ...options, rng });
    }
    const norm = normaliseDensity(rho);
    rows.forEach((r, i) => {
      density[r] = norm[i];
      raw[r] = rho[i];
    });
    perClass.push({ label: c, n: rows.length, cutoff: Math.sqrt(cutoffSq), exact });
  }
  return { density, raw, perClass };
}
