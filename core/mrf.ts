/**
 * DCN-AP's refinement of pseudo labels by a Markov random field (a re-design: the original code has no
 * MRF, docs/original.md §6.4 / B18). Nodes are the rows that need a label; edges are the symmetrised k-nearest-neighbour
 * graph of the teacher's task features; the energy is
 *
 *   E(y) = Σ_i −log p_i(y_i) + λ Σ_{(i,j)∈E} w_ij [y_i ≠ y_j],   w_ij = exp(−d_ij² / σ²),
 *
 * (unary = the teacher's probabilities, pairwise = Potts weighted by feature similarity, σ² = median kNN
 * squared distance). It is minimised approximately by mean-field: Q_i(c) ∝ p_i(c) exp(λ Σ_j w_ij Q_j(c)).
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";

/** The k nearest neighbours of every row (self excluded), nearest first. */
export interface KnnResult {
  n: number;
  k: number;
  /** n*k neighbour row indices. */
  indices: Int32Array;
  /** n*k squared Euclidean distances (recomputed in float64, stored as float32). */
  dist2: Float32Array;
}

/** Options of {@link knnGraph}. */
export interface KnnOptions {
  /** Feature width (features.length must be a multiple of it). */
  d: number;
  /** Neighbours per row (clamped to n − 1). */
  k: number;
  /** Rows per distance tile (default: so that a tile holds about 8M distances). */
  tileRows?: number;
}

/**
 * Exact k-nearest-neighbour search in row tiles: each tile's distances to all rows come from one matmul
 * (‖a‖² + ‖b‖² − 2abᵀ) and a top-k on the active tfjs backend; the chosen neighbours' distances are then
 * recomputed in float64 so the expansion's rounding does not reach the edge weights.
 */
export async function knnGraph(features: Float32Array, opts: KnnOptions): Promise<KnnResult> {
  const { d } = opts;
  if (!(d >= 1) || features.length % d !== 0) {
    throw new Error(`knnGraph: ${features.length} feature values is not a multiple of d = ${d}`);
  }
  const n = features.length / d;
  if (!(opts.k >= 1)) throw new Error(`knnGraph: k must be >= 1, got ${opts.k}`);
  const k = Math.max(0, Math.min(Math.floor(opts.k), n - 1));
  const indices = new Int32Array(n * k);
  const dist2 = new Float32Array(n * k);
  if (k === 0) return { n, k, indices, dist2 };
  const tileRows = Math.max(1, Math.min(n, opts.tileRows ?? Math.floor(8_000_000 / n)));
  const x = tf.tensor2d(features, [n, d]);
  const sq = tf.tidy(() => tf.reshape(tf.sum(tf.square(x), 1), [1, n]));
  // Transposed once: wasm's matmul is several times faster on [d, n] than with transposeB.
  const xt = tf.transpose(x);
  try {
    for (let r0 = 0; r0 < n; r0 += tileRows) {
      const rows = Math.min(tileRows, n - r0);
      const top = tf.tidy(() => {
        const a = tf.slice(x, [r0, 0], [rows, d]);
        const sa = tf.slice(sq, [0, r0], [1, rows]);
        const dist = tf.sub(tf.add(tf.reshape(sa, [rows, 1]), sq), tf.mul(tf.matMul(a, xt), 2));
        // Exclude self by pushing the diagonal of the tile to +huge.
        const self = tf.mul(tf.oneHot(tf.range(r0, r0 + rows, 1, "int32"), n), 1e30);
        return tf.topk(tf.neg(tf.add(dist, self)), k).indices;
      });
      const idx = await top.data();
      top.dispose();
      indices.set(idx as Int32Array, r0 * k);
    }
  } finally {
    tf.dispose([x, xt, sq]);
  }
  for (let i = 0; i < n; i++) {
    const oi = i * d;
    for (let m = 0; m < k; m++) {
      const oj = indices[i * k + m] * d;
      let s = 0;
      for (let c = 0; c < d; c++) {
        const diff = features[oi + c] - features[oj + c];
        s += diff * diff;
      }
      dist2[i * k + m] = s;
    }
  }
  return { n, k, indices, dist2 };
}

/** A symmetric weighted graph in CSR form (each undirected edge stored in both rows). */
export interface SparseGraph {
  /** Rows (nodes). */
  n: number;
  /** CSR row pointers: row i's edges are `rowPtr[i]` to `rowPtr[i + 1] - 1` (length n + 1). */
  rowPtr: Int32Array;
  /** CSR column (neighbour) index of each edge. */
  cols: Int32Array;
  /** Affinity of each edge. */
  weights: Float32Array;
  /** The kernel width used for the weights. */
  sigma2: number;
}

/** Options of {@link symmetricAffinity}. */
export interface AffinityOptions {
  /** Kernel width σ² (default: the median of the kNN squared distances; 1 when that is 0). */
  sigma2?: number;
}

function median(a: Float32Array): number {
  if (a.length === 0) return 0;
  const s = Float64Array.from(a).sort();
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : 0.5 * (s[h - 1] + s[h]);
}

/**
 * Symmetrise a kNN graph (edge i–j when j is among i's neighbours or i among j's) with weights
 * w_ij = exp(−d_ij² / σ²).
 */
export function symmetricAffinity(knn: KnnResult, opts: AffinityOptions = {}): SparseGraph {
  const { n, k, indices, dist2 } = knn;
  let sigma2 = opts.sigma2 ?? median(dist2);
  if (!(sigma2 > 0)) sigma2 = 1;
  const deg = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) {
    for (let m = 0; m < k; m++) {
      deg[i + 1]++;
      deg[indices[i * k + m] + 1]++;
    }
  }
  for (let i = 0; i < n; i++) deg[i + 1] += deg[i];
  const fill = deg.slice(0, n);
  const rawCols = new Int32Array(deg[n]);
  const rawD = new Float32Array(deg[n]);
  for (let i = 0; i < n; i++) {
    for (let m = 0; m < k; m++) {
      const j = indices[i * k + m];
      rawCols[fill[i]] = j;
      rawD[fill[i]++] = dist2[i * k + m];
      rawCols[fill[j]] = i;
      rawD[fill[j]++] = dist2[i * k + m];
    }
  }
  // Sort each row by column and drop the duplicate of a mutual pair.
  const rowPtr = new Int32Array(n + 1);
  const cols: number[] = [];
  const weights: number[] = [];
  for (let i = 0; i < n; i++) {
    const order = Array.from({ length: deg[i + 1] - deg[i] }, (_, t) => deg[i] + t)
      .sort((a, b) => rawCols[a] - rawCols[b]);
    let last = -1;
    for (const e of order) {
      if (rawCols[e] === last) continue;
      last = rawCols[e];
      cols.push(last);
      weights.push(Math.exp(-rawD[e] / sigma2));
    }
    rowPtr[i + 1] = cols.length;
  }
  return { n, rowPtr, cols: Int32Array.from(cols), weights: Float32Array.from(weights), sigma2 };
}

/** Options of the mean-field solver and the energies. */
export interface PottsOptions {
  /** Classes per row. */
  classes: number;
  /** Pairwise weight λ (`mrf_weight`). */
  weight: number;
}

/** Options of {@link meanFieldPotts}. */
export interface MeanFieldOptions extends PottsOptions {
  /** Sweeps (`mrf_iters`). */
  iters: number;
  /** Stop early when a sweep changes no Q entry by more than this (default 1e-5). */
  tol?: number;
  /** Floor on the unary probabilities (default 1e-12). */
  eps?: number;
  /**
   * Rows whose marginal stays at its unary distribution (labelled rows, given as one-hot): they send
   * messages to their neighbours but never change, so labels propagate instead of being smoothed away.
   */
  clamped?: Uint8Array;
}

/** Result of {@link meanFieldPotts}. */
export interface MeanFieldResult {
  /** n*C marginals. */
  q: Float32Array;
  /** Largest absolute change of any Q entry in each sweep. */
  deltas: number[];
}

function checkProbs(probs: Float32Array, graph: SparseGraph, classes: number, what: string): void {
  if (probs.length !== graph.n * classes) {
    throw new Error(`${what}: ${probs.length} probabilities for ${graph.n} rows x ${classes} classes`);
  }
}

/**
 * Mean-field inference for the Potts MRF, starting from Q = p (the unary-only solution). Rows are updated
 * in place, one after another (coordinate ascent), which never increases the variational free energy, so
 * the sweeps settle instead of oscillating as synchronous updates can on a bipartite graph.
 */
export function meanFieldPotts(
  probs: Float32Array,
  graph: SparseGraph,
  opts: MeanFieldOptions,
): MeanFieldResult {
  const { classes: c, weight } = opts;
  checkProbs(probs, graph, c, "meanFieldPotts");
  const eps = opts.eps ?? 1e-12;
  const tol = opts.tol ?? 1e-5;
  const { n, rowPtr, cols, weights } = graph;
  const logP = new Float64Array(n * c);
  for (let i = 0; i < n * c; i++) logP[i] = Math.log(Math.max(probs[i], eps));
  const q = new Float64Array(n * c);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let a = 0; a < c; a++) s += Math.max(probs[i * c + a], 0);
    for (let a = 0; a < c; a++) q[i * c + a] = s > 0 ? Math.max(probs[i * c + a], 0) / s : 1 / c;
  }
  const msg = new Float64Array(c);
  const deltas: number[] = [];
  const clamped = opts.clamped;
  if (clamped && clamped.length !== n) {
    throw new Error(`meanFieldPotts: clamped has ${clamped.length} rows, graph ${n}`);
  }
  for (let it = 0; it < opts.iters; it++) {
    let delta = 0;
    for (let i = 0; i < n; i++) {
      if (clamped?.[i]) continue;
      msg.fill(0);
      for (let e = rowPtr[i]; e < rowPtr[i + 1]; e++) {
        const w = weights[e];
        const o = cols[e] * c;
        for (let a = 0; a < c; a++) msg[a] += w * q[o + a];
      }
      let mx = -Infinity;
      for (let a = 0; a < c; a++) {
        msg[a] = logP[i * c + a] + weight * msg[a];
        if (msg[a] > mx) mx = msg[a];
      }
      let s = 0;
      for (let a = 0; a < c; a++) s += msg[a] = Math.exp(msg[a] - mx);
      for (let a = 0; a < c; a++) {
        const v = msg[a] / s;
        delta = Math.max(delta, Math.abs(v - q[i * c + a]));
        q[i * c + a] = v;
      }
    }
    deltas.push(delta);
    if (delta <= tol) break;
  }
  return { q: Float32Array.from(q), deltas };
}

/** Potts energy of a labelling: Σ_i −log p_i(y_i) + λ Σ_{i<j} w_ij [y_i ≠ y_j]. */
export function pottsEnergy(
  labels: Int32Array,
  probs: Float32Array,
  opts: PottsOptions & { graph: SparseGraph; eps?: number },
): number {
  const { graph, classes: c } = opts;
  checkProbs(probs, graph, c, "pottsEnergy");
  const eps = opts.eps ?? 1e-12;
  let e = 0;
  for (let i = 0; i < graph.n; i++) {
    e -= Math.log(Math.max(probs[i * c + labels[i]], eps));
    for (let t = graph.rowPtr[i]; t < graph.rowPtr[i + 1]; t++) {
      const j = graph.cols[t];
      if (j > i && labels[i] !== labels[j]) e += opts.weight * graph.weights[t];
    }
  }
  return e;
}

/**
 * Expected Potts energy under independent marginals Q:
 * Σ_i Σ_c Q_i(c)(−log p_i(c)) + λ Σ_{i<j} w_ij (1 − Σ_c Q_i(c) Q_j(c)).
 */
export function expectedPottsEnergy(
  q: Float32Array,
  probs: Float32Array,
  opts: PottsOptions & { graph: SparseGraph; eps?: number },
): number {
  const { graph, classes: c } = opts;
  checkProbs(probs, graph, c, "expectedPottsEnergy");
  checkProbs(q, graph, c, "expectedPottsEnergy (q)");
  const eps = opts.eps ?? 1e-12;
  let e = 0;
  for (let i = 0; i < graph.n; i++) {
    for (let a = 0; a < c; a++) e -= q[i * c + a] * Math.log(Math.max(probs[i * c + a], eps));
    for (let t = graph.rowPtr[i]; t < graph.rowPtr[i + 1]; t++) {
      const j = graph.cols[t];
      if (j <= i) continue;
      let agree = 0;
      for (let a = 0; a < c; a++) agree += q[i * c + a] * q[j * c + a];
      e += opts.weight * graph.weights[t] * (1 - agree);
    }
  }
  return e;
}

/** Options of {@link mrfRefine}. */
export interface MrfRefineOptions {
  /** Class count of the task refined. */
  classes: number;
  /** Feature width. */
  d: number;
  /** Neighbours per row (`mrf_k`). */
  k: number;
  /** Pairwise weight λ (`mrf_weight`). */
  weight: number;
  /** Mean-field sweeps (`mrf_iters`). */
  iters: number;
  /** Gaussian kernel width σ² of the affinities (default: from the neighbour distances). */
  sigma2?: number;
  /** Rows per tile of the kNN search (bounds memory). */
  tileRows?: number;
  /** Rows held at their given distribution (see {@link MeanFieldOptions.clamped}). */
  clamped?: Uint8Array;
}

/** Result of {@link mrfRefine}: refined marginals, the graph, and per-sweep changes. */
export interface MrfRefineResult extends MeanFieldResult {
  /** The kNN graph the field was solved on. */
  graph: SparseGraph;
}

/** kNN graph on `features`, Potts affinities, then mean-field from the teacher's `probs`. */
export async function mrfRefine(
  probs: Float32Array,
  features: Float32Array,
  opts: MrfRefineOptions,
): Promise<MrfRefineResult> {
  const n = probs.length / opts.classes;
  if (!Number.isInteger(n) || features.length !== n * opts.d) {
    throw new Error(
      `mrfRefine: ${probs.length} probabilities (C = ${opts.classes}) and ${features.length} features (d = ${opts.d}) disagree on the row count`,
    );
  }
  if (n < 2) return { q: Float32Array.from(probs), deltas: [], graph: emptyGraph(n) };
  const knn = await knnGraph(features, { d: opts.d, k: opts.k, tileRows: opts.tileRows });
  const graph = symmetricAffinity(knn, { sigma2: opts.sigma2 });
  const res = meanFieldPotts(probs, graph, {
    classes: opts.classes,
    weight: opts.weight,
    iters: opts.iters,
    clamped: opts.clamped,
  });
  return { ...res, graph };
}

function emptyGraph(n: number): SparseGraph {
  return {
    n,
    rowPtr: new Int32Array(n + 1),
    cols: new Int32Array(0),
    weights: new Float32Array(0),
    sigma2: 1,
  };
}
