/**
 * Start-up self-check of a training backend: op-level values and gradients of every operation the
 * project's CNNs train with (conv stride 1/2, 'same'/'valid', 1×1, depthwise, separable, max-pool
 * with windows of negatives, tile, batch-norm, dense + softmax cross-entropy) are compared with an
 * independent reference: the stock tfjs cpu kernels, registered under their own backend name so a
 * kernel pack on `cpu` cannot leak into the reference. Training refuses to start on a failing backend.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
// tfjs-core alone registers no gradients; tfjs-layers' bundle registers all of them.
import "@tensorflow/tfjs-layers";
import { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import { stockKernelConfigs } from "../kernels/mod.ts";
import { Rng } from "../core/rng.ts";

/** Name of the reference backend (stock cpu kernels). */
export const REFERENCE_BACKEND = "reference-cpu";

/**
 * A cpu backend that skips tfjs' "install the node backend" banner (printed on first use whenever
 * `IS_NODE`, which Deno sets): we never use the stock cpu backend for training, so the advice misleads.
 */
export function quietCpuBackend(): MathBackendCPU {
  const b = new MathBackendCPU();
  (b as unknown as { firstUse: boolean }).firstUse = false;
  return b;
}

/** Register the reference backend (stock cpu kernels under their own name) once; returns its name. */
export function ensureReferenceBackend(): string {
  if (tf.findBackendFactory(REFERENCE_BACKEND)) return REFERENCE_BACKEND;
  for (const cfg of stockKernelConfigs("cpu")) {
    tf.registerKernel({ ...cfg, backendName: REFERENCE_BACKEND });
  }
  // Priority -1: never picked by tfjs' automatic backend choice.
  tf.registerBackend(REFERENCE_BACKEND, quietCpuBackend, -1);
  return REFERENCE_BACKEND;
}

/**
 * Runs `fn` with `backendName` active and returns the values of its outputs as float arrays
 * (restoring the previously active backend). Every tensor is created inside `fn`.
 */
export async function runOnBackend(
  backendName: string,
  fn: () => tf.Tensor | tf.Tensor[],
): Promise<Float32Array[]> {
  const previous = tf.getBackend();
  await tf.setBackend(backendName);
  try {
    const outs = tf.tidy(fn);
    const list = Array.isArray(outs) ? outs : [outs];
    const values: Float32Array[] = [];
    for (const t of list) values.push(Float32Array.from(await t.data() as ArrayLike<number>));
    tf.dispose(list);
    return values;
  } finally {
    if (previous && previous !== backendName) await tf.setBackend(previous);
  }
}

/** Norm-wise relative error max|a−b| / max(max|b|, 1e-12); Infinity on length mismatch or NaN. */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (Number.isNaN(d)) return Infinity;
    if (d > diff) diff = d;
    const m = Math.abs(b[i]);
    if (m > scale) scale = m;
  }
  return diff / Math.max(scale, 1e-12);
}

/** One op-level check: inputs of the given shapes feed `fn`; value and input gradients are compared. */
export interface SelfCheckCase {
  name: string;
  /** Input shapes (filled with seeded normal values). */
  shapes: number[][];
  /** Fill every input with −|v| − 0.1 (windows of only negative values). */
  negative?: boolean;
  fn: (...xs: tf.Tensor[]) => tf.Tensor;
}

const c4 = (t: tf.Tensor) => t as tf.Tensor4D;

/** The op-level cases of the self-check (small shapes, odd sizes, strides 1 and 2, both paddings). */
export const SELF_CHECK_CASES: readonly SelfCheckCase[] = [
  {
    name: "conv2d 3x3 s1 same",
    shapes: [[2, 7, 7, 3], [3, 3, 3, 4]],
    fn: (x, w) => tf.conv2d(c4(x), c4(w), 1, "same"),
  },
  {
    name: "conv2d 3x3 s2 valid",
    shapes: [[2, 9, 8, 3], [3, 3, 3, 5]],
    fn: (x, w) => tf.conv2d(c4(x), c4(w), 2, "valid"),
  },
  {
    name: "conv2d 3x3 s2 same",
    shapes: [[2, 7, 6, 2], [3, 3, 2, 3]],
    fn: (x, w) => tf.conv2d(c4(x), c4(w), 2, "same"),
  },
  {
    name: "conv2d 1x1 s1",
    shapes: [[2, 5, 5, 4], [1, 1, 4, 3]],
    fn: (x, w) => tf.conv2d(c4(x), c4(w), 1, "valid"),
  },
  {
    name: "conv2d 1x1 s2 same",
    shapes: [[2, 7, 7, 4], [1, 1, 4, 6]],
    fn: (x, w) => tf.conv2d(c4(x), c4(w), 2, "same"),
  },
  {
    name: "depthwise 3x3 s1 same",
    shapes: [[2, 7, 7, 3], [3, 3, 3, 1]],
    fn: (x, w) => tf.depthwiseConv2d(c4(x), c4(w), 1, "same"),
  },
  {
    name: "depthwise 3x3 s2 valid x2",
    shapes: [[2, 9, 7, 3], [3, 3, 3, 2]],
    fn: (x, w) => tf.depthwiseConv2d(c4(x), c4(w), 2, "valid"),
  },
  {
    name: "separable 3x3 same",
    shapes: [[2, 6, 6, 3], [3, 3, 3, 1], [1, 1, 3, 5]],
    fn: (x, d, p) => tf.separableConv2d(c4(x), c4(d), c4(p), 1, "same"),
  },
  {
    name: "maxpool 3x3 s2 same negatives",
    shapes: [[2, 7, 7, 3]],
    negative: true,
    fn: (x) => tf.maxPool(c4(x), 3, 2, "same"),
  },
  { name: "maxpool 2x2 s2 valid", shapes: [[2, 8, 6, 4]], fn: (x) => tf.maxPool(c4(x), 2, 2, "valid") },
  { name: "maxpool 3x3 s1 same", shapes: [[1, 5, 5, 2]], fn: (x) => tf.maxPool(c4(x), 3, 1, "same") },
  { name: "tile", shapes: [[2, 1, 3]], fn: (x) => tf.tile(x, [2, 3, 2]) },
  {
    name: "batch-norm moments",
    shapes: [[3, 4, 5, 3], [3], [3]],
    fn: (x, g, b) => {
      const m = tf.moments(x, [0, 1, 2]);
      return tf.batchNorm(x, m.mean, m.variance, b, g, 1e-3);
    },
  },
  {
    name: "dense + softmax cross-entropy",
    shapes: [[4, 6], [6, 5], [5]],
    fn: (x, w, b) => {
      const logits = tf.add(tf.matMul(x, w), b);
      const y = tf.oneHot(tf.tensor1d([0, 3, 1, 4], "int32"), 5);
      return tf.losses.softmaxCrossEntropy(y, logits);
    },
  },
  {
    name: "relu + broadcast add + mean",
    shapes: [[2, 3, 4, 5], [5]],
    fn: (x, b) => tf.mean(tf.relu(tf.add(x, b)), [1, 2]),
  },
];

/** Result of one case. */
export interface SelfCheckResult {
  name: string;
  /** Largest relative error over the value and all input gradients. */
  relError: number;
  ok: boolean;
}

/** Result of the whole self-check. */
export interface SelfCheckReport {
  backend: string;
  ok: boolean;
  tolerance: number;
  maxRelError: number;
  results: SelfCheckResult[];
  ms: number;
}

/** Values, then the gradient of Σ f(x)·R w.r.t. every input, for one case. */
function caseOutputs(c: SelfCheckCase, seed: number): () => tf.Tensor[] {
  return () => {
    const rng = new Rng(seed);
    const xs = c.shapes.map((s) => {
      const n = s.reduce((a, b) => a * b, 1);
      const v = new Float32Array(n);
      for (let i = 0; i < n; i++) v[i] = c.negative ? -Math.abs(rng.normal()) - 0.1 : rng.normal();
      return tf.tensor(v, s);
    });
    const y = c.fn(...xs);
    const rv = new Float32Array(y.size);
    for (let i = 0; i < rv.length; i++) rv[i] = rng.normal();
    const r = tf.tensor(rv, y.shape);
    const grads = tf.grads((...ins: tf.Tensor[]) => tf.sum(tf.mul(c.fn(...ins), r)))(xs);
    return [y, ...grads];
  };
}

/**
 * Runs every case on `backendName` and on the reference backend and compares values and gradients.
 * `ok` is false when any relative error exceeds `tolerance` (default 1e-4).
 */
export async function runSelfCheck(
  backendName: string,
  opts: { tolerance?: number; cases?: readonly SelfCheckCase[]; seed?: number } = {},
): Promise<SelfCheckReport> {
  const t0 = performance.now();
  const tolerance = opts.tolerance ?? 1e-4;
  const ref = ensureReferenceBackend();
  const results: SelfCheckResult[] = [];
  let seed = opts.seed ?? 20261127;
  for (const c of opts.cases ?? SELF_CHECK_CASES) {
    seed++;
    let relError: number;
    try {
      const want = await runOnBackend(ref, caseOutputs(c, seed));
      const got = await runOnBackend(backendName, caseOutputs(c, seed));
      relError = Math.max(...want.map((w, i) => got[i] ? relativeError(got[i], w) : Infinity));
    } catch (e) {
      // A missing kernel is a failed check, not a crash of the caller.
      if (!(e instanceof Error)) throw e;
      relError = Infinity;
    }
    results.push({ name: c.name, relError, ok: relError <= tolerance });
  }
  const maxRelError = Math.max(0, ...results.map((r) => r.relError));
  return {
    backend: backendName,
    ok: results.every((r) => r.ok),
    tolerance,
    maxRelError,
    results,
    ms: performance.now() - t0,
  };
}

/** Throws a one-line error naming the failing cases when the report is not ok. */
export function assertSelfCheck(report: SelfCheckReport): void {
  if (report.ok) return;
  const bad = report.results.filter((r) => !r.ok).map((r) =>
    `${r.name} (rel ${r.relError.toExponential(2)})`
  );
  throw new Error(
    `backend '${report.backend}' failed the gradient self-check (tolerance ${report.tolerance}): ` +
      `${bad.join(", ")}; refusing to train on it`,
  );
}
