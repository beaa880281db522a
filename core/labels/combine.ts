/**
 * Combining the sample-weight factors (docs/original.md §6.8.7): product of the enabled factors, then division by
 * the maximum so the best row has weight 1.
 * @module
 */

/** Result of {@link combineFactors}. */
export interface CombinedWeights {
  /** n raw products omega_i. */
  raw: Float32Array;
  /** n normalised weights w_i = omega_i / max omega (all 0 when max omega <= 0). */
  weights: Float32Array;
}

/**
 * omega_i = prod over the given factors of f_i, w_i = omega_i / max_j omega_j. Factors must be n-long,
 * finite and >= 0. With no factor every omega_i is 1. When every product is 0 the weights are all 0
 * (the original divided 0 by 0).
 */
export function combineFactors(factors: Float32Array[], n: number): CombinedWeights {
  const raw = new Float32Array(n).fill(1);
  factors.forEach((f, q) => {
    if (f.length !== n) {
      throw new RangeError(`combineFactors: factor ${q} has ${f.length} rows, expected ${n}`);
    }
    for (let i = 0; i < n; i++) {
      const v = f[i];
      if (!(v >= 0) || !Number.isFinite(v)) {
        throw new RangeError(`combineFactors: factor ${q} row ${i} is ${v}`);
      }
      raw[i] *= v;
    }
  });
  return { raw, weights: maxNormalise(raw) };
}

/** w_i = v_i / max v (all 0 when max v <= 0). */
export function maxNormalise(v: Float32Array): Float32Array {
  let m = 0;
  for (const x of v) m = Math.max(m, x);
  const out = new Float32Array(v.length);
  if (m > 0) { for (let i = 0; i < v.length; i++) out[i] = Math.min(1, v[i] / m); }
  return out;
}
