/**
 * Small dense linear algebra for the gradient strategies: dot products, Gram matrices, weighted sums,
 * the min-norm point of a convex hull, a linear solve. Sizes are tiny (K tasks, K <= 6), the vectors are
 * one representation gradient each (batch x width), so plain loops are enough.
 * @module
 */

/** x . y */
export function dot(x: Float32Array, y: Float32Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * y[i];
  return s;
}

/** K x K matrix of pairwise dot products (row-major). */
export function gram(gs: Float32Array[]): number[][] {
  const k = gs.length;
  const m: number[][] = Array.from({ length: k }, () => new Array(k).fill(0));
  for (let i = 0; i < k; i++) {
    for (let j = i; j < k; j++) m[i][j] = m[j][i] = dot(gs[i], gs[j]);
  }
  return m;
}

/** Sum_i w_i g_i. */
export function weightedSum(gs: Float32Array[], w: readonly number[]): Float32Array {
  const out = new Float32Array(gs[0]?.length ?? 0);
  gs.forEach((g, i) => {
    const c = w[i];
    if (c === 0) return;
    for (let j = 0; j < g.length; j++) out[j] += c * g[j];
  });
  return out;
}

/** M w for a K x K matrix. */
export function matVec(m: number[][], w: readonly number[]): number[] {
  return m.map((row) => row.reduce((a, v, j) => a + v * w[j], 0));
}

/**
 * The point of the simplex minimising w^T M w (the min-norm element of the convex hull of the vectors whose
 * Gram matrix is M): closed form for two, Frank-Wolfe with exact line search otherwise (Sener & Koltun 2018,
 * Algorithm 2).
 */
export function minNormWeights(m: number[][], iters = 250, tol = 1e-7): number[] {
  const k = m.length;
  if (k === 1) return [1];
  if (k === 2) {
    const denom = m[0][0] - 2 * m[0][1] + m[1][1];
    if (!(denom > 0)) return [0.5, 0.5];
    // min over g of |g * v1 + (1 - g) * v2|^2: g = (v2 - v1) . v2 / |v1 - v2|^2, clipped to [0, 1].
    const g = Math.min(1, Math.max(0, (m[1][1] - m[0][1]) / denom));
    return [g, 1 - g];
  }
  if (k <= 8) return minNormExact(m);
  const w = new Array(k).fill(1 / k);
  for (let it = 0; it < iters; it++) {
    const mw = matVec(m, w);
    let t = 0;
    for (let i = 1; i < k; i++) if (mw[i] < mw[t]) t = i;
    // Line search between the current point (norm^2 a) and vertex t (norm^2 m[t][t]).
    const a = w.reduce((s, wi, i) => s + wi * mw[i], 0);
    const b = mw[t];
    const c = m[t][t];
    const denom = a - 2 * b + c;
    const gamma = denom > 0 ? Math.min(1, Math.max(0, (a - b) / denom)) : 0;
    if (gamma < tol) break;
    for (let i = 0; i < k; i++) w[i] *= 1 - gamma;
    w[t] += gamma;
  }
  return w;
}

/** Solve A x = b by Gaussian elimination with partial pivoting; null when A is (near) singular. */
export function solve(a: number[][], b: number[]): number[] | null {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]]);
  const scale = Math.max(1e-300, ...a.flat().map(Math.abs));
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r][c]) > Math.abs(m[p][c])) p = r;
    if (Math.abs(m[p][c]) < 1e-12 * scale) return null;
    [m[c], m[p]] = [m[p], m[c]];
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r][c] / m[c][c];
      for (let j = c; j <= n; j++) m[r][j] -= f * m[c][j];
    }
  }
  return m.map((row, i) => row[n] / row[i]);
}

/**
 * Exact min-norm weights for a few tasks: for every support set S, the minimiser of w^T M w on the affine
 * hull (M_S w = lambda 1, sum w = 1); the best one with w >= 0 is the optimum of the convex QP.
 */
function minNormExact(m: number[][]): number[] {
  const k = m.length;
  let best: number[] | null = null;
  let bestVal = Infinity;
  for (let mask = 1; mask < 1 << k; mask++) {
    const idx = [...Array(k).keys()].filter((i) => mask & (1 << i));
    const n = idx.length;
    // [M_S  -1; 1^T 0] [w; lambda] = [0; 1]
    const a = idx.map((i) => [...idx.map((j) => m[i][j]), -1]);
    a.push([...idx.map(() => 1), 0]);
    const b = [...idx.map(() => 0), 1];
    const sol = solve(a, b);
    if (!sol || sol.slice(0, n).some((x) => x < -1e-12 || !Number.isFinite(x))) continue;
    const w = new Array(k).fill(0);
    idx.forEach((i, j) => (w[i] = Math.max(0, sol[j])));
    const val = w.reduce((s, wi, i) => s + wi * matVec(m, w)[i], 0);
    if (val < bestVal - 1e-15) {
      bestVal = val;
      best = w;
    }
  }
  return best ?? new Array(k).fill(1 / k);
}
