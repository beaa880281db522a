/**
 * Seeded Gaussian mixture with full covariances, fitted by EM (docs/original.md §6.8.6 steps 1-2, §11).
 *
 * Follows scikit-learn's GaussianMixture defaults as the original used them: k-means initialisation
 * (here k-means++ seeding then Lloyd iterations, seeded), at most 100 EM iterations, stop when the mean
 * per-sample log-likelihood changes by less than `tol` = 1e-3, `reg_covar` = 1e-6 added to each
 * covariance diagonal, component weights N_k / n with N_k = sum of responsibilities + 10 * eps.
 * Densities use the Cholesky factor of each covariance and log-sum-exp over components. Unlike the
 * original (unseeded), a fit is reproducible from the generator. For speed, at most `maxFit` rows
 * (a seeded subsample) enter the fit; {@link gmmPredict} then assigns every row.
 * @module
 */
import type { Rng } from "../rng.ts";
import { assertFinite, blockSqDist, rowNorms } from "./_select.ts";

/** Options of {@link fitGmm}. */
export interface GmmOptions {
  /** Number of components (`cluster_k`); reduced to the row count when fewer rows are given. */
  k: number;
  /** Seeded generator for the subsample and k-means++ seeding. */
  rng: Rng;
  /** EM iterations. Default 100. */
  maxIter?: number;
  /** Convergence threshold on the mean log-likelihood. Default 1e-3. */
  tol?: number;
  /** Added to covariance diagonals. Default 1e-6. */
  regCovar?: number;
  /** Most rows used for the fit (seeded subsample). Default 4096; 0 = all rows. */
  maxFit?: number;
  /** Lloyd iterations after k-means++ seeding. Default 20. */
  kmeansIter?: number;
  /**
   * Initialisations (scikit-learn's `n_init`): the fit runs from this many seeded k-means starts and
   * keeps the one with the highest final mean log-likelihood. Default 1.
   */
  nInit?: number;
}

/** A fitted mixture. */
export interface GaussianMixture {
  k: number;
  d: number;
  /** k mixing weights (sum 1). */
  weights: Float64Array;
  /** k*d means. */
  means: Float64Array;
  /** k*d*d lower-triangular inverses of the covariance Cholesky factors (L^-1, row-major). */
  precChol: Float64Array;
  /** k values sum_r log (L^-1)_rr = -log|Sigma|/2. */
  logDetPrec: Float64Array;
  /** Mean per-sample log-likelihood at the start of each EM iteration (non-decreasing up to rounding). */
  trace: number[];
  /** EM iterations run. */
  iterations: number;
  converged: boolean;
  /** Rows used for the fit. */
  fitted: number;
}

const LOG_2PI = Math.log(2 * Math.PI);
const EPS10 = 10 * 2.220446049250313e-16;

/** Lower Cholesky factor of a d*d SPD matrix (lower triangle read), or null when not positive definite. */
export function cholesky(a: Float64Array, d: number): Float64Array | null {
  const l = new Float64Array(d * d);
  for (let j = 0; j < d; j++) {
    let s = a[j * d + j];
    for (let c = 0; c < j; c++) s -= l[j * d + c] * l[j * d + c];
    if (!(s > 0)) return null;
    const ljj = Math.sqrt(s);
    l[j * d + j] = ljj;
    for (let i = j + 1; i < d; i++) {
      let t = a[i * d + j];
      for (let c = 0; c < j; c++) t -= l[i * d + c] * l[j * d + c];
      l[i * d + j] = t / ljj;
    }
  }
  return l;
}

/** Inverse of a lower-triangular d*d matrix (forward substitution, column by column). */
export function invertLower(l: Float64Array, d: number): Float64Array {
  const p = new Float64Array(d * d);
  for (let j = 0; j < d; j++) {
    p[j * d + j] = 1 / l[j * d + j];
    for (let i = j + 1; i < d; i++) {
      let s = 0;
      for (let c = j; c < i; c++) s -= l[i * d + c] * p[c * d + j];
      p[i * d + j] = s / l[i * d + i];
    }
  }
  return p;
}

/**
 * Weighted log densities log(pi_k N(x_i | mu_k, Sigma_k)) for rows [0, n) of x64 into out (n*k).
 * y = L^-1 x - L^-1 mu, four rows at a time so each row of L^-1 is loaded once per four points.
 */
function weightedLogProb(g: GaussianMixture, x64: Float64Array, n: number, out: Float64Array): void {
  const { k, d } = g;
  const y = new Float64Array(4 * d);
  const pmu = new Float64Array(d);
  for (let q = 0; q < k; q++) {
    const po = q * d * d;
    const pc = g.precChol;
    for (let r = 0; r < d; r++) {
      let s = 0;
      for (let c = 0; c <= r; c++) s += pc[po + r * d + c] * g.means[q * d + c];
      pmu[r] = s;
    }
    const constant = Math.log(g.weights[q]) - 0.5 * d * LOG_2PI + g.logDetPrec[q];
    let i = 0;
    for (; i + 3 < n; i += 4) {
      const o0 = i * d, o1 = o0 + d, o2 = o1 + d, o3 = o2 + d;
      let q0 = 0, q1 = 0, q2 = 0, q3 = 0;
      for (let r = 0; r < d; r++) {
        const ro = po + r * d;
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (let c = 0; c <= r; c++) {
          const pv = pc[ro + c];
          s0 += pv * x64[o0 + c];
          s1 += pv * x64[o1 + c];
          s2 += pv * x64[o2 + c];
          s3 += pv * x64[o3 + c];
        }
        s0 -= pmu[r];
        s1 -= pmu[r];
        s2 -= pmu[r];
        s3 -= pmu[r];
        q0 += s0 * s0;
        q1 += s1 * s1;
        q2 += s2 * s2;
        q3 += s3 * s3;
      }
      out[i * k + q] = constant - 0.5 * q0;
      out[(i + 1) * k + q] = constant - 0.5 * q1;
      out[(i + 2) * k + q] = constant - 0.5 * q2;
      out[(i + 3) * k + q] = constant - 0.5 * q3;
    }
    for (; i < n; i++) {
      let qq = 0;
      for (let r = 0; r < d; r++) {
        let s = -pmu[r];
        for (let c = 0; c <= r; c++) s += pc[po + r * d + c] * x64[i * d + c];
        y[r] = s;
        qq += s * s;
      }
      out[i * k + q] = constant - 0.5 * qq;
    }
  }
}

/** Turn weighted log probs (n*k) into responsibilities in place; returns the mean log-likelihood. */
function normaliseRows(lp: Float64Array, n: number, k: number): number {
  let total = 0;
  for (let i = 0; i < n; i++) {
    let m = -Infinity;
    for (let q = 0; q < k; q++) m = Math.max(m, lp[i * k + q]);
    let s = 0;
    for (let q = 0; q < k; q++) s += Math.exp(lp[i * k + q] - m);
    const lse = m + Math.log(s);
    total += lse;
    for (let q = 0; q < k; q++) lp[i * k + q] = Math.exp(lp[i * k + q] - lse);
  }
  return n > 0 ? total / n : 0;
}

/** M-step: weights, means and regularised covariances (as their Cholesky inverses) from responsibilities. */
function mStep(g: GaussianMixture, x64: Float64Array, n: number, resp: Float64Array, reg: number): void {
  const { k, d } = g;
  const z = new Float64Array(4 * d);
  const u = new Float64Array(4 * d);
  for (let q = 0; q < k; q++) {
    let sr = 0;
    for (let i = 0; i < n; i++) sr += resp[i * k + q];
    const nk = sr + EPS10;
    const mu = new Float64Array(d);
    for (let i = 0; i < n; i++) {
      const r = resp[i * k + q];
      if (r === 0) continue;
      for (let c = 0; c < d; c++) mu[c] += r * x64[i * d + c];
    }
    // a proper weighted mean (sklearn divides by N_k + 10 eps, which drags nearly empty components to the
    // origin); a component no row supports keeps its previous mean
    if (sr === 0) mu.set(g.means.subarray(q * d, q * d + d));
    else for (let c = 0; c < d; c++) mu[c] /= sr;
    // lower triangle of sum_i r_i z_i z_i^T, four rows per pass over the triangle
    const cov = new Float64Array(d * d);
    const rows: number[] = [];
    const flush = () => {
      const b = rows.length;
      for (let t = 0; t < 4; t++) {
        const i = t < b ? rows[t] : -1;
        const w = i >= 0 ? resp[i * k + q] : 0;
        for (let c = 0; c < d; c++) {
          const zc = i >= 0 ? x64[i * d + c] - mu[c] : 0;
          z[t * d + c] = zc;
          u[t * d + c] = w * zc;
        }
      }
      for (let r = 0; r < d; r++) {
        const u0 = u[r], u1 = u[d + r], u2 = u[2 * d + r], u3 = u[3 * d + r];
        const ro = r * d;
        for (let c = 0; c <= r; c++) {
          cov[ro + c] += u0 * z[c] + u1 * z[d + c] + u2 * z[2 * d + c] + u3 * z[3 * d + c];
        }
      }
      rows.length = 0;
    };
    for (let i = 0; i < n; i++) {
      if (resp[i * k + q] === 0) continue;
      rows.push(i);
      if (rows.length === 4) flush();
    }
    if (rows.length > 0) flush();
    for (let r = 0; r < d; r++) {
      for (let c = 0; c <= r; c++) cov[r * d + c] /= nk;
      cov[r * d + r] += reg;
    }
    let l = cholesky(cov, d);
    // rounding can leave a near-singular covariance indefinite: grow the ridge until it factors
    for (let extra = reg * 10; l === null && extra < 1e6; extra *= 10) {
      for (let r = 0; r < d; r++) cov[r * d + r] += extra;
      l = cholesky(cov, d);
    }
    if (l === null) throw new RangeError(`fitGmm: covariance of component ${q} is not positive definite`);
    const p = invertLower(l, d);
    g.precChol.set(p, q * d * d);
    let ld = 0;
    for (let r = 0; r < d; r++) ld += Math.log(p[r * d + r]);
    g.logDetPrec[q] = ld;
    g.means.set(mu, q * d);
    g.weights[q] = nk / n;
  }
}

/** k-means++ seeding then Lloyd iterations; returns the hard labels and the centres. */
function kmeans(
  x64: Float64Array,
  n: number,
  d: number,
  k: number,
  rng: Rng,
  iters: number,
): { labels: Int32Array; centers: Float64Array } {
  const norms = rowNorms(x64, d);
  const centers = new Float64Array(k * d);
  const best = new Float64Array(n).fill(Infinity);
  const block = new Float64Array(n);
  let chosen = rng.int(n);
  for (let q = 0; q < k; q++) {
    centers.set(x64.subarray(chosen * d, chosen * d + d), q * d);
    const cn = rowNorms(centers.subarray(q * d, q * d + d), d);
    blockSqDist(x64, norms, 0, n, centers.subarray(q * d, q * d + d), cn, 0, 1, d, block);
    let total = 0;
    for (let i = 0; i < n; i++) {
      best[i] = Math.min(best[i], block[i]);
      total += best[i];
    }
    if (q + 1 === k) break;
    // D^2 sampling; all-duplicate data (total 0) falls back to a uniform draw
    if (total > 0) {
      let target = rng.next() * total;
      chosen = n - 1;
      for (let i = 0; i < n; i++) {
        target -= best[i];
        if (target < 0) {
          chosen = i;
          break;
        }
      }
    } else chosen = rng.int(n);
  }
  const labels = new Int32Array(n).fill(-1);
  const dist = new Float64Array(n * k);
  for (let it = 0; it <= iters; it++) {
    const cn = rowNorms(centers, d);
    blockSqDist(x64, norms, 0, n, centers, cn, 0, k, d, dist);
    let changed = 0;
    for (let i = 0; i < n; i++) {
      let b = 0;
      for (let q = 1; q < k; q++) if (dist[i * k + q] < dist[i * k + b]) b = q;
      if (labels[i] !== b) changed++;
      labels[i] = b;
    }
    if (changed === 0 || it === iters) break;
    const counts = new Float64Array(k);
    const sums = new Float64Array(k * d);
    for (let i = 0; i < n; i++) {
      counts[labels[i]]++;
      for (let c = 0; c < d; c++) sums[labels[i] * d + c] += x64[i * d + c];
    }
    for (let q = 0; q < k; q++) {
      if (counts[q] === 0) continue; // an empty cluster keeps its centre
      for (let c = 0; c < d; c++) centers[q * d + c] = sums[q * d + c] / counts[q];
    }
  }
  return { labels, centers };
}

/**
 * Fit a k-component full-covariance mixture to the n*d rows of `x` (module doc). With `nInit` > 1, EM runs
 * from that many initialisations (streams `init:1`, `init:2`, ... of the generator; the first uses the
 * generator itself, so `nInit` = 1 is the single fit) and the best final log-likelihood wins.
 */
export function fitGmm(x: Float32Array, d: number, options: GmmOptions): GaussianMixture {
  const nInit = options.nInit ?? 1;
  if (!(Number.isInteger(nInit) && nInit >= 1)) {
    throw new RangeError(`fitGmm: nInit must be >= 1, got ${nInit}`);
  }
  let best = fitOnce(x, d, options, options.rng);
  for (let r = 1; r < nInit; r++) {
    const g = fitOnce(x, d, options, options.rng.derive(`init:${r}`));
    if (finalLogLik(g) > finalLogLik(best)) best = g;
  }
  return best;
}

function finalLogLik(g: GaussianMixture): number {
  return g.trace.length ? g.trace[g.trace.length - 1] : -Infinity;
}

function fitOnce(x: Float32Array, d: number, options: GmmOptions, rng: Rng): GaussianMixture {
  const nAll = Math.floor(x.length / d);
  if (nAll * d !== x.length) throw new RangeError(`fitGmm: ${x.length} values is not a multiple of d=${d}`);
  if (nAll < 1) throw new RangeError("fitGmm: no rows to fit");
  if (!(options.k >= 1)) throw new RangeError(`--cluster_k: must be >= 1, got ${options.k}`);
  assertFinite(x, d, "fitGmm: features");
  const maxFit = options.maxFit ?? 4096;
  let rowsIdx: Int32Array | null = null;
  if (maxFit > 0 && nAll > maxFit) rowsIdx = rng.permutation(nAll).subarray(0, maxFit).sort();
  const n = rowsIdx ? rowsIdx.length : nAll;
  const x64 = new Float64Array(n * d);
  if (rowsIdx) rowsIdx.forEach((r, i) => x64.set(x.subarray(r * d, r * d + d), i * d));
  else x64.set(x);
  const k = Math.min(options.k, n);
  const g: GaussianMixture = {
    k,
    d,
    weights: new Float64Array(k),
    means: new Float64Array(k * d),
    precChol: new Float64Array(k * d * d),
    logDetPrec: new Float64Array(k),
    trace: [],
    iterations: 0,
    converged: false,
    fitted: n,
  };
  const reg = options.regCovar ?? 1e-6;
  const { labels, centers } = kmeans(x64, n, d, k, rng, options.kmeansIter ?? 20);
  g.means.set(centers);
  const resp = new Float64Array(n * k);
  for (let i = 0; i < n; i++) resp[i * k + labels[i]] = 1;
  mStep(g, x64, n, resp, reg);
  const tol = options.tol ?? 1e-3;
  const maxIter = options.maxIter ?? 100;
  for (let it = 0; it < maxIter; it++) {
    weightedLogProb(g, x64, n, resp);
    const ll = normaliseRows(resp, n, k);
    g.trace.push(ll);
    g.iterations = it + 1;
    mStep(g, x64, n, resp, reg);
    if (it > 0 && Math.abs(ll - g.trace[it - 1]) < tol) {
      g.converged = true;
      break;
    }
  }
  return g;
}

/** Responsibilities (n*k) of every row of `x` and the mean log-likelihood. Rows are processed in tiles. */
export function gmmResponsibilities(
  g: GaussianMixture,
  x: Float32Array,
): { resp: Float64Array; meanLogLik: number } {
  const n = Math.floor(x.length / g.d);
  const resp = new Float64Array(n * g.k);
  const tile = 2048;
  let total = 0;
  for (let i0 = 0; i0 < n; i0 += tile) {
    const m = Math.min(tile, n - i0);
    const x64 = Float64Array.from(x.subarray(i0 * g.d, (i0 + m) * g.d));
    const part = resp.subarray(i0 * g.k, (i0 + m) * g.k);
    weightedLogProb(g, x64, m, part);
    total += normaliseRows(part, m, g.k) * m;
  }
  return { resp, meanLogLik: n > 0 ? total / n : 0 };
}

/** Hard assignment (argmax responsibility, first on ties) of every row of `x`. */
export function gmmPredict(g: GaussianMixture, x: Float32Array): Int32Array {
  const { resp } = gmmResponsibilities(g, x);
  const n = resp.length / g.k;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let b = 0;
    for (let q = 1; q < g.k; q++) if (resp[i * g.k + q] > resp[i * g.k + b]) b = q;
    out[i] = b;
  }
  return out;
}
