/**
 * Maximum Mean Discrepancy with an RBF kernel: the "MMD" alternative to EMD in the distribution factor
 * (an extension named by the READMEs, absent from the code: docs/original.md §6.8.6 step 5, B16).
 * @module
 */
import { blockSqDist, rowNorms } from "./_select.ts";

/** Options of {@link mmdRbf}. */
export interface MmdOptions {
  /** Feature width. */
  d: number;
  /** Kernel bandwidth sigma > 0: k(a, b) = exp(-|a - b|^2 / (2 sigma^2)). */
  bandwidth: number;
}

function meanKernel(a: Float64Array, b: Float64Array, d: number, gamma: number): number {
  const na = a.length / d, nb = b.length / d;
  if (na === 0 || nb === 0) return 0;
  const an = rowNorms(a, d), bn = rowNorms(b, d);
  const tile = 256;
  const block = new Float64Array(tile * nb);
  let s = 0;
  for (let i0 = 0; i0 < na; i0 += tile) {
    const i1 = Math.min(na, i0 + tile);
    blockSqDist(a, an, i0, i1, b, bn, 0, nb, d, block);
    for (let t = 0, e = (i1 - i0) * nb; t < e; t++) s += Math.exp(-gamma * Math.max(0, block[t]));
  }
  return s / (na * nb);
}

/**
 * Biased (V-statistic) MMD between the rows of x and y (both width d):
 * sqrt(max(0, mean k(x, x') + mean k(y, y') - 2 mean k(x, y))). Non-negative and 0 for equal sets.
 */
export function mmdRbf(
  x: Float32Array | Float64Array,
  y: Float32Array | Float64Array,
  options: MmdOptions,
): number {
  const { d, bandwidth } = options;
  if (!(bandwidth > 0)) throw new RangeError(`mmdRbf: bandwidth must be > 0, got ${bandwidth}`);
  const a = Float64Array.from(x), b = Float64Array.from(y);
  if (a.length === 0 || b.length === 0) throw new RangeError("mmdRbf: both sets need at least one row");
  const gamma = 1 / (2 * bandwidth * bandwidth);
  const v = meanKernel(a, a, d, gamma) + meanKernel(b, b, d, gamma) - 2 * meanKernel(a, b, d, gamma);
  return Math.sqrt(Math.max(0, v));
}

/**
 * Median heuristic: the median of the pairwise Euclidean distances between distinct rows of x
 * (the lower median for an even count). Returns 1 when there are fewer than two rows or all
 * distances are 0, so the kernel stays defined.
 */
export function medianBandwidth(x: Float32Array | Float64Array, d: number): number {
  const a = Float64Array.from(x);
  const n = a.length / d;
  if (n < 2) return 1;
  const norms = rowNorms(a, d);
  const block = new Float64Array(n * n);
  blockSqDist(a, norms, 0, n, a, norms, 0, n, d, block);
  const pairs = new Float64Array((n * (n - 1)) / 2);
  let p = 0;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) pairs[p++] = block[i * n + j];
  pairs.sort();
  const med = Math.sqrt(pairs[(pairs.length - 1) >> 1]);
  return med > 0 ? med : 1;
}
