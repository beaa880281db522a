/**
 * IMTL-G, impartial multi-task learning, gradient part (Liu, Li, Kuang, Xue, Chen, Yang, Liao & Zhang,
 * "Towards impartial multi-task learning", ICLR 2021, eq. 8): the update g = sum_k alpha_k g_k with
 * sum alpha = 1 whose projections on every task's unit gradient u_k are equal. With D = [g_1 - g_k]_k>1 and
 * U = [u_1 - u_k]_k>1: alpha_{2..K} = g_1 U^T (D U^T)^-1, alpha_1 = 1 - sum alpha_{2..K}. The loss-scale
 * part (IMTL-L) is not included. Tasks whose gradient is zero are left out; a singular system falls back to
 * equal weights (1/K).
 * @module
 */
import { dot, solve } from "./_vec.ts";
import type { TaskWeightingStrategy } from "./mod.ts";

/** IMTL-G's alpha from the task gradients. */
export function imtlWeights(gs: Float32Array[]): number[] {
  const k = gs.length;
  const norms = gs.map((g) => Math.sqrt(dot(g, g)));
  const live = norms.map((n, i) => (n > 0 ? i : -1)).filter((i) => i >= 0);
  const alpha = new Array(k).fill(0);
  if (live.length === 0) return alpha;
  if (live.length === 1) {
    alpha[live[0]] = 1;
    return alpha;
  }
  const u = live.map((i) => gs[i].map((v) => v / norms[i]));
  const g = live.map((i) => gs[i]);
  const diff = (a: Float32Array, b: Float32Array) => a.map((v, e) => v - b[e]);
  const d = g.slice(1).map((gk) => diff(g[0], gk));
  const uu = u.slice(1).map((uk) => diff(u[0], uk));
  // alpha_rest^T (D U^T) = g_1 U^T  <=>  (D U^T)^T alpha_rest = U g_1.
  const dut = d.map((di) => uu.map((uj) => dot(di, uj)));
  const a = dut[0].map((_, c) => dut.map((row) => row[c]));
  const b = uu.map((uj) => dot(g[0], uj));
  const rest = solve(a, b);
  if (!rest || rest.some((v) => !Number.isFinite(v))) {
    for (const i of live) alpha[i] = 1 / live.length;
    return alpha;
  }
  alpha[live[0]] = 1 - rest.reduce((s, v) => s + v, 0);
  rest.forEach((v, j) => (alpha[live[j + 1]] = v));
  return alpha;
}

const strategy: TaskWeightingStrategy = {
  name: "imtl",
  summary: "IMTL-G: the combination whose projection on every task's gradient direction is equal.",
  citation: "Liu et al. 2021, ICLR (Towards impartial multi-task learning)",
  needsGradients: true,
  absentTask: "an absent task is left out of the system; no state",
  reads: [],
  create() {
    return {
      name: "imtl",
      needsGradients: true,
      combineGradients(gs) {
        const w = imtlWeights(gs);
        return { coefficients: w, weights: w };
      },
      state: () => null,
      restore() {},
      dispose() {},
    };
  },
};
export default strategy;
