/**
 * PCGrad, projecting conflicting gradients (Yu, Kumar, Gupta, Levine, Hausman & Finn, "Gradient surgery for
 * multi-task learning", NeurIPS 2020, Algorithm 1): for each task i, in a random order over the other tasks
 * j, when g_i . g_j < 0 the component of g_i along g_j is removed; the update is the sum of the projected
 * gradients. Applied to the gradients of the shared representation.
 * @module
 */
import type { Rng } from "../rng.ts";
import { dot, gram } from "./_vec.ts";
import type { TaskWeightingStrategy } from "./mod.ts";
import { rngStateOf } from "./_rng_state.ts";

/** PCGrad's projected gradients (the update is their sum). `order(i)` lists the j != i in visiting order. */
export function pcgradProject(gs: Float32Array[], order: (i: number) => number[]): Float32Array[] {
  const norms2 = gs.map((g) => dot(g, g));
  return gs.map((gi, i) => {
    const p = Float32Array.from(gi);
    for (const j of order(i)) {
      if (norms2[j] === 0) continue;
      const d = dot(p, gs[j]);
      if (d >= 0) continue;
      const c = d / norms2[j];
      const gj = gs[j];
      for (let e = 0; e < p.length; e++) p[e] -= c * gj[e];
    }
    return p;
  });
}

/**
 * PCGrad from the Gram matrix alone: each projected gradient is tracked as coefficients over the task
 * gradients (p_i = sum_k c_ik g_k), so the update is sum_k beta_k g_k with beta = sum_i c_i.
 */
export function pcgradCoefficients(
  m: number[][],
  order: (i: number) => number[],
): { beta: number[]; kept: number[] } {
  const k = m.length;
  const beta = new Array(k).fill(0);
  const kept = new Array(k).fill(0);
  for (let i = 0; i < k; i++) {
    const c = new Array(k).fill(0);
    c[i] = 1;
    for (const j of order(i)) {
      if (!(m[j][j] > 0)) continue;
      const d = c.reduce((s, ck, q) => s + ck * m[q][j], 0);
      if (d >= 0) continue;
      c[j] -= d / m[j][j];
    }
    c.forEach((ck, q) => (beta[q] += ck));
    // The share of its own direction task i keeps: p_i . g_i / |g_i|^2.
    kept[i] = m[i][i] > 0 ? c.reduce((s, ck, q) => s + ck * m[q][i], 0) / m[i][i] : 0;
  }
  return { beta, kept };
}

function randomOrder(rng: Rng, k: number, i: number): number[] {
  return [...rng.permutation(k)].filter((j) => j !== i);
}

const strategy: TaskWeightingStrategy = {
  name: "pcgrad",
  summary: "Gradient surgery: project each task gradient off the others it conflicts with, then sum.",
  citation: "Yu et al. 2020, NeurIPS, arXiv:2001.06782",
  needsGradients: true,
  absentTask:
    "an absent task has no gradient and is not projected against; no state besides the seeded order",
  reads: [],
  create(ctx) {
    const rng = ctx.rng;
    return {
      name: "pcgrad",
      needsGradients: true,
      combineGradients(gs) {
        const { beta, kept } = pcgradCoefficients(gram(gs), (i) => randomOrder(rng, gs.length, i));
        return { coefficients: beta, weights: kept };
      },
      ...rngStateOf(rng),
      dispose() {},
    };
  },
};
export default strategy;
