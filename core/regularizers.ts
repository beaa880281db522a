/**
 * Differentiable regularisers of the manifold / low-rank baselines (SFSMR, SLRM): the l2,1 norm of the
 * shared feature kernel, the graph-Laplacian smoothness term tr(Pᵀ L P)/B on the batch, and the nuclear
 * norm of the stacked task-branch kernels that read the shared features. The original code computed its Laplacian term outside the graph
 * (zero gradient, docs/original.md B17) and had no norms at all; everything here is a re-design (docs/baselines.md).
 *
 * Each factory returns a {@link LossTerm}: `compute` returns the raw term and `coefficient` reads the
 * flag/weight pair from the options (0 when the flag is off), so the trainer adds `coefficient * term`.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
// tfjs-core alone registers no gradient functions; the tfjs-layers bundle registers all of them.
import "@tensorflow/tfjs-layers";
import type { LossContext, LossTerm } from "./plugin.ts";
import { bool, OptionError, type Options, type OptionSpec } from "./options.ts";
import { symmetricEigen } from "./sym_eigen.ts";

export { type SymmetricEigen, symmetricEigen } from "./sym_eigen.ts";

/**
 * Default coefficients (declared in {@link L21_OPTIONS}, {@link TRACE_OPTIONS}, {@link NUCLEAR_OPTIONS},
 * {@link MANIFOLD_OPTIONS}).
 */
export const REGULARIZER_DEFAULTS = {
  lnorm_weight: 1e-4,
  trace_weight: 1e-4,
  nuclear_weight: 1e-4,
  laplacian_weight: 1e-3,
} as const;

/** `--is_lnorm` and `--lnorm_weight`: the l2,1 term of {@link l21NormTerm}. */
export const L21_OPTIONS: OptionSpec[] = [
  {
    name: "is_lnorm",
    type: "boolean",
    default: false,
    help: "add the l2,1 norm of the shared feature kernel (SFSMR, SLRM)",
    group: "seed",
  },
  {
    name: "lnorm_weight",
    type: "float",
    default: REGULARIZER_DEFAULTS.lnorm_weight,
    min: 0,
    max: 10,
    help: "coefficient of the l2,1 norm",
  },
];

/**
 * `--is_trace_norm` and `--trace_weight`: the trace (nuclear) norm of the shared feature kernel,
 * {@link traceNormTerm}. The seed README lists the trace norm, the nuclear norm and the Laplacian as separate
 * terms; the toolkit reads the trace norm as the low-rank penalty on the shared features (SFSMR, SLRM) and the
 * nuclear norm as the one on the stacked task-branch kernels that read them (SLRM only).
 */
export const TRACE_OPTIONS: OptionSpec[] = [
  {
    name: "is_trace_norm",
    type: "boolean",
    default: false,
    help: "add the trace (nuclear) norm of the shared feature kernel (SFSMR, SLRM)",
    group: "seed",
  },
  {
    name: "trace_weight",
    type: "float",
    default: REGULARIZER_DEFAULTS.trace_weight,
    min: 0,
    max: 10,
    help: "coefficient of the trace norm",
  },
];

/** `--is_nuclear_norm` and `--nuclear_weight`: the nuclear-norm term of {@link nuclearNormTerm}. */
export const NUCLEAR_OPTIONS: OptionSpec[] = [
  {
    name: "is_nuclear_norm",
    type: "boolean",
    default: false,
    help: "add the nuclear norm of the stacked task-branch kernels on the shared features (SLRM)",
    group: "seed",
  },
  {
    name: "nuclear_weight",
    type: "float",
    default: REGULARIZER_DEFAULTS.nuclear_weight,
    min: 0,
    max: 10,
    help: "coefficient of the nuclear norm",
  },
];

/**
 * `--is_manifold` and `--laplacian_weight`: the graph-Laplacian term on the manifold outputs (features and
 * predictions), {@link laplacianTerm}. The manifold methods always use it, so the flag is implied: it stays
 * declared so the original command lines run, and `--is_manifold=False` is refused by {@link requireManifold}.
 */
export const MANIFOLD_OPTIONS: OptionSpec[] = [
  {
    name: "is_manifold",
    type: "boolean",
    default: true,
    help: "manifold outputs (features + predictions) for the Laplacian term; implied by this method",
    group: "seed",
  },
  {
    name: "laplacian_weight",
    type: "float",
    default: REGULARIZER_DEFAULTS.laplacian_weight,
    min: 0,
    max: 10,
    help: "coefficient of the graph-Laplacian term tr(P^T L P)/B",
  },
];

/** Refuse `--is_manifold=False` for a method whose terms need the manifold outputs. */
export function requireManifold(o: Options, method: string): void {
  if (o.is_manifold === false) {
    throw new OptionError(`--is_manifold=False: ${method} always reads the manifold outputs (drop the flag)`);
  }
}

/** Coefficient of a flag-gated term: 0 when the flag is off, else the weight (default when unset). */
function gatedCoefficient(o: Options, flag: string, key: string, fallback: number): number {
  if (!bool(o, flag)) return 0;
  const v = o[key];
  if (v === undefined) return fallback;
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
    throw new OptionError(`--${key}: expected a finite number >= 0, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** View a kernel as a matrix with the output units as columns (conv kernels: [kh*kw*in, out]). */
function asMatrix(w: tf.Tensor, what: string): tf.Tensor2D {
  if (w.rank < 2) throw new Error(`${what}: expected a kernel of rank >= 2, got shape [${w.shape}]`);
  return w.rank === 2 ? (w as tf.Tensor2D) : tf.reshape(w, [-1, w.shape[w.rank - 1]]);
}

/** Identity in the forward pass, zero gradient (tfjs has no stop_gradient op). */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: tf.clone(args[0] as tf.Tensor),
    gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
  }));
  return f(x) as T;
}

/** Options of {@link l21Norm}. */
export interface L21Options {
  /** Smoothing inside the row norm, sqrt(‖w_i‖² + eps) − sqrt(eps): finite gradient at a zero row. */
  eps?: number;
}

/**
 * ‖W‖_{2,1} = Σ_i ‖W_i‖₂ over the rows of a kernel (rows = input units: group sparsity selects the shared
 * input features). Smoothed as Σ_i (sqrt(‖W_i‖² + eps) − sqrt(eps)), so a zero matrix scores 0.
 */
export function l21Norm(w: tf.Tensor, opts: L21Options = {}): tf.Scalar {
  const eps = opts.eps ?? 1e-8;
  return tf.tidy(() => {
    const m = asMatrix(w, "l21Norm");
    const rows = tf.sqrt(tf.add(tf.sum(tf.square(m), 1), eps));
    return tf.sub(tf.sum(rows), rows.shape[0] * Math.sqrt(eps)) as tf.Scalar;
  });
}

/** Options of {@link laplacianSmoothness}. */
export interface LaplacianOptions {
  /**
   * Let the gradient flow into the affinity W as well (default false: W is a constant of the batch).
   * See docs/baselines.md: with a live graph the net can lower the term by pushing the features of
   * disagreeing samples apart instead of making the predictions of similar samples agree.
   */
  graphGradient?: boolean;
  /** Fixed kernel width σ² (default: the median heuristic on the batch, held constant). */
  sigma2?: number;
}

/** Median of the off-diagonal entries of a symmetric B×B matrix (B ≥ 2), as a scalar; no gradient. */
function offDiagonalMedian(d2: tf.Tensor2D): tf.Scalar {
  const b = d2.shape[0];
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const x = args[0] as tf.Tensor;
    const value = tf.tidy(() => {
      // Every pair appears twice off the diagonal; the diagonal is pushed below all of them.
      const masked = tf.where(tf.cast(tf.eye(b), "bool"), tf.fill([b, b], -1), x);
      const m = (b * (b - 1)) / 2;
      const top = tf.topk(tf.reshape(masked, [-1]), m + 1).values;
      return tf.reshape(tf.mul(tf.add(tf.slice(top, [m - 1], [1]), tf.slice(top, [m], [1])), 0.5), []);
    });
    return { value, gradFunc: () => tf.zerosLike(x) };
  });
  return f(d2) as tf.Scalar;
}

/**
 * tr(Pᵀ L P)/B = (1/2B) Σ_ij W_ij ‖P_i − P_j‖², with L = D − W the unnormalised Laplacian of the heat-kernel
 * affinity W_ij = exp(−‖F_i − F_j‖² / 2σ²) on the rows of `features` (B×m) and `probs` P (B×C).
 * σ² is the median of the pairwise squared distances of the batch (median heuristic), held constant.
 * Returns 0 for B < 2.
 */
export function laplacianSmoothness(
  features: tf.Tensor2D,
  probs: tf.Tensor2D,
  opts: LaplacianOptions = {},
): tf.Scalar {
  const b = probs.shape[0];
  if (features.shape[0] !== b) {
    throw new Error(`laplacianSmoothness: ${features.shape[0]} feature rows vs ${b} prediction rows`);
  }
  if (b < 2) return tf.scalar(0);
  return tf.tidy(() => {
    const f = opts.graphGradient ? features : stopGradient(features);
    const sq = tf.sum(tf.square(f), 1);
    const cross = tf.matMul(f, f, false, true);
    const d2 = tf.relu(
      tf.sub(tf.add(tf.reshape(sq, [b, 1]), tf.reshape(sq, [1, b])), tf.mul(cross, 2)),
    ) as tf.Tensor2D;
    const sigma2 = opts.sigma2 !== undefined ? tf.scalar(opts.sigma2) : offDiagonalMedian(d2);
    const w = tf.exp(tf.div(d2, tf.mul(tf.maximum(sigma2, 1e-12), -2)));
    const deg = tf.sum(w, 1);
    const pp = tf.matMul(probs, probs, false, true);
    const tDp = tf.sum(tf.mul(deg, tf.sum(tf.square(probs), 1)));
    const tWp = tf.sum(tf.mul(w, pp));
    return tf.div(tf.sub(tDp, tWp), b) as tf.Scalar;
  });
}

/** Options of {@link nuclearNorm}. */
export interface NuclearOptions {
  /** Eigenvalues of WᵀW at or below `relTol`·λ_max count as zero (their singular directions get no gradient). */
  relTol?: number;
}

/**
 * Nuclear norm ‖W‖_* = Σ σ_i of a d×K matrix, exact: the Gram matrix of the smaller side (WᵀW, K×K, when
 * K ≤ d, else WWᵀ, d×d) is read back and eigen-decomposed in float64 (Householder + implicit QL, {@link symmetricEigen}). With G = V Λ Vᵀ, ‖W‖_* = Σ √λ and the
 * custom gradient is the subgradient U Vᵀ = W G^{+1/2} (K ≤ d) or G^{+1/2} W (d < K), restricted to the
 * non-zero singular values. The read-back is synchronous, so a backend without `dataSync` (webgpu in Deno)
 * cannot run it.
 */
export function nuclearNorm(w: tf.Tensor2D, opts: NuclearOptions = {}): tf.Scalar {
  const relTol = opts.relTol ?? 1e-10;
  // Both Grams have the same non-zero eigenvalues; the smaller one is cheaper (the eigensolver is cubic in its side).
  const wide = w.shape[0] < w.shape[1];
  const k = wide ? w.shape[0] : w.shape[1];
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const x = args[0] as tf.Tensor2D;
    const save = args[1] as tf.GradSaveFunc;
    const gram = tf.tidy(() => wide ? tf.matMul(x, x, false, true) : tf.matMul(x, x, true, false));
    let g: Float32Array;
    try {
      g = gram.dataSync() as Float32Array;
    } finally {
      gram.dispose();
    }
    const { values, vectors } = symmetricEigen(Float64Array.from(g), k);
    const lmax = Math.max(0, ...values);
    let total = 0;
    // M = V Λ^{-1/2} Vᵀ over the kept eigenvalues: the gradient is W M (or M W).
    const mInv = new Float32Array(k * k);
    for (let e = 0; e < k; e++) {
      const lam = values[e];
      if (!(lam > relTol * lmax) || lam <= 0) continue;
      const s = Math.sqrt(lam);
      total += s;
      for (let r = 0; r < k; r++) {
        const vr = vectors[r * k + e] / s;
        for (let c = 0; c < k; c++) mInv[r * k + c] += vr * vectors[c * k + e];
      }
    }
    const mT = tf.tensor2d(mInv, [k, k]);
    save([x, mT]);
    return {
      value: tf.scalar(total),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const [xs, m] = saved as tf.Tensor2D[];
          return tf.mul(dy, wide ? tf.matMul(m, xs) : tf.matMul(xs, m));
        }),
    };
  });
  // The tidy disposes the forward's helper tensors; the tape keeps its own clones of what it saved.
  return tf.tidy(() => f(w) as tf.Scalar);
}

/** Options of {@link l21NormTerm}. */
export interface L21TermOptions extends L21Options {
  /** Flag that enables the term (default `is_lnorm`) and the option holding its weight (`lnorm_weight`). */
  flag?: string;
  /** Option holding the term's weight (default `lnorm_weight`). */
  weightKey?: string;
}

/**
 * LossTerm `l21`: Σ over the `shared_fc` kernels of ‖W‖_{2,1} (SFSMR/SLRM feature selection).
 * Coefficient `lnorm_weight` when `is_lnorm` is on.
 */
export function l21NormTerm(opts: L21TermOptions = {}): LossTerm {
  return sharedKernelTerm({
    name: "l21",
    flag: opts.flag ?? "is_lnorm",
    key: opts.weightKey ?? "lnorm_weight",
    fallback: REGULARIZER_DEFAULTS.lnorm_weight,
    norm: (w) => l21Norm(w, opts),
  });
}

/** A flag-gated loss term summing a norm over the model's `shared_fc` kernels (l2,1 and trace norm). */
function sharedKernelTerm(t: {
  name: string;
  flag: string;
  key: string;
  fallback: number;
  norm: (w: tf.Tensor) => tf.Scalar;
}): LossTerm {
  return {
    name: t.name,
    coefficient: (o: Options) => gatedCoefficient(o, t.flag, t.key, t.fallback),
    compute(ctx: LossContext): tf.Scalar {
      const kernels = ctx.model.weightsByRole("shared_fc");
      if (kernels.length === 0) {
        throw new Error(`${t.name} term (--${t.flag}): the model has no shared_fc kernel`);
      }
      return tf.tidy(() => tf.addN(kernels.map(t.norm)) as tf.Scalar);
    },
  };
}

/** Options of {@link laplacianTerm}. */
export interface LaplacianTermOptions extends LaplacianOptions {
  /** Flag that enables the term (default `is_manifold`, on unless set false). */
  flag?: string;
  /** Option holding the term's weight (default `laplacian_weight`). */
  weightKey?: string;
}

/**
 * LossTerm `laplacian`: Σ over the heads of tr(Pᵀ L P)/B, the graph built on the manifold features
 * F = `manifold_<task>` = [post-ReLU, pre-cross-stitch branch features ‖ softmax] of every batch row (the spec's
 * `manifold_emotion` / `manifold_pose`, docs/original.md §4.2 item 10; masked rows too: the term is
 * unsupervised). The model must carry those outputs (the plugin's `manifold: true`).
 * Coefficient `laplacian_weight` while `is_manifold` is on (its default).
 */
export function laplacianTerm(opts: LaplacianTermOptions = {}): LossTerm {
  const flag = opts.flag ?? "is_manifold";
  const key = opts.weightKey ?? "laplacian_weight";
  return {
    name: "laplacian",
    coefficient: (o: Options) =>
      gatedCoefficient({ [flag]: true, ...o }, flag, key, REGULARIZER_DEFAULTS.laplacian_weight),
    compute(ctx: LossContext): tf.Scalar {
      return tf.tidy(() => {
        const parts: tf.Scalar[] = [];
        for (const task of ctx.model.tasks) {
          const p = ctx.probs[task.name];
          if (!p) continue;
          const f = ctx.outputs.extra[`manifold_${task.name}`];
          if (!f) {
            throw new Error(
              `laplacian term (--${flag}): the model has no manifold_${task.name} output (plugin manifold: true)`,
            );
          }
          parts.push(laplacianSmoothness(f as tf.Tensor2D, p, opts));
        }
        if (parts.length === 0) {
          throw new Error(`laplacian term (--${flag}): no head has predictions in this batch`);
        }
        return tf.addN(parts) as tf.Scalar;
      });
    },
  };
}

/** Options of {@link traceNormTerm}. */
export interface TraceNormTermOptions extends NuclearOptions {
  /** Flag that enables the term (default `is_trace_norm`). */
  flag?: string;
  /** Option holding the term's weight (default `trace_weight`). */
  weightKey?: string;
}

/**
 * LossTerm `trace_norm`: Σ over the `shared_fc` kernels of the trace (nuclear) norm ‖W‖_* (low-rank shared
 * features, SFSMR/SLRM), computed exactly like {@link nuclearNorm}. Coefficient `trace_weight` when
 * `is_trace_norm` is on.
 */
export function traceNormTerm(opts: TraceNormTermOptions = {}): LossTerm {
  return sharedKernelTerm({
    name: "trace_norm",
    flag: opts.flag ?? "is_trace_norm",
    key: opts.weightKey ?? "trace_weight",
    fallback: REGULARIZER_DEFAULTS.trace_weight,
    norm: (w) => nuclearNorm(asMatrix(w, "trace norm"), opts),
  });
}

/** Options of {@link nuclearNormTerm}. */
export interface NuclearTermOptions extends NuclearOptions {
  /** Flag that enables the term (default `is_nuclear_norm`). */
  flag?: string;
  /** Option holding the term's weight (default `nuclear_weight`). */
  weightKey?: string;
}

/**
 * Stack the per-task kernels along their output axis: d×ΣK_t (conv kernels are flattened to [kh*kw*in, K]).
 * All kernels must read the same input width, and for the stack to mean anything the same input features
 * (row i of every kernel weighs input unit i): the `task_fc` kernels guarantee that.
 */
export function stackTaskKernels(kernels: tf.Tensor[]): tf.Tensor2D {
  if (kernels.length === 0) throw new Error("stackTaskKernels: no task kernel");
  return tf.tidy(() => {
    const mats = kernels.map((k, i) => asMatrix(k, `task kernel ${i}`));
    const d = mats[0].shape[0];
    mats.forEach((m, i) => {
      if (m.shape[0] !== d) {
        throw new Error(`stackTaskKernels: kernel ${i} has ${m.shape[0]} input rows, kernel 0 has ${d}`);
      }
    });
    return tf.concat(mats, 1) as tf.Tensor2D;
  });
}

/**
 * LossTerm `nuclear`: ‖[W_1 … W_T]‖_* of the stacked `task_fc` kernels, the first layer of every task branch,
 * all reading the one shared feature vector (SLRM: the tasks' branches share a low-dimensional subspace of the
 * shared features). The task logit kernels would not do: under the cross-stitch unit each reads its own mixed
 * slice, so their row i weighs unrelated units. Stacking along the output axis makes the norm independent of
 * the arbitrary order of each branch's units. Exact value and subgradient (see {@link nuclearNorm}).
 * Coefficient `nuclear_weight` when `is_nuclear_norm` is on.
 */
export function nuclearNormTerm(opts: NuclearTermOptions = {}): LossTerm {
  const flag = opts.flag ?? "is_nuclear_norm";
  const key = opts.weightKey ?? "nuclear_weight";
  return {
    name: "nuclear",
    coefficient: (o: Options) => gatedCoefficient(o, flag, key, REGULARIZER_DEFAULTS.nuclear_weight),
    compute(ctx: LossContext): tf.Scalar {
      return tf.tidy(() => nuclearNorm(stackTaskKernels(ctx.model.weightsByRole("task_fc")), opts));
    },
  };
}
