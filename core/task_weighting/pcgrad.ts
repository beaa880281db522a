/**
 * PCGrad, projecting conflicting gradients (Yu, Kumar, Gupta, Levine, Hausman & Finn, "Gradient surgery for
 * multi-task learning", NeurIPS 2020, Algorithm 1): for each task i, in a random order over the other tasks
 * j, when g_i . g_j < 0 the component of g_i along g_j is removed; the update is the sum of the projected
 * gradients. Applied to the gradients of the shared representation.
 * @module
 */
import type { Rng } from "../rng.ts";
import { dot, weightedSum } from "./_vec.ts";
import type { TaskWeightingStrategy } from "./mod.ts";

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
        const projected = pcgradProject(gs, (i) => randomOrder(rng, gs.length, i));
        // The effective weight of task i: the share of its own direction kept (for the log).
        const weights = gs.map((g, i) => {
          const n = dot(g, g);
          return n > 0 ? dot(projected[i], g) / n : 0;
        });
        return { grad: weightedSum(projected, projected.map(() => 1)), weights };
      },
      state: () => rng.getState(),
      restore(state) {
        if (Array.isArray(state) && state.length === 4) {
          rng.setState(state as [number, number, number, number]);
        }
      },
      dispose() {},
    };
  },
};
export default strategy;
