/**
 * MGDA-UB (Sener & Koltun, "Multi-task learning as multi-objective optimization", NeurIPS 2018): the update
 * is the min-norm point of the convex hull of the task gradients, sum_k alpha_k g_k with alpha on the
 * simplex, computed on the gradients of the shared representation Z (the paper's upper bound, "UB", which
 * is exactly what makes one backward pass through the encoder enough). Two tasks: closed form; more:
 * Frank-Wolfe (the paper's Algorithm 2).
 * @module
 */
import { gram, minNormWeights } from "./_vec.ts";
import type { TaskWeightingStrategy } from "./mod.ts";

const strategy: TaskWeightingStrategy = {
  name: "mgda",
  summary: "MGDA-UB: the min-norm convex combination of the representation gradients.",
  citation: "Sener & Koltun 2018, NeurIPS, arXiv:1810.04650",
  needsGradients: true,
  absentTask:
    "an absent task is left out of the convex hull (a zero gradient would make the min-norm point 0)",
  reads: [],
  create() {
    return {
      name: "mgda",
      needsGradients: true,
      combineGradients(gs) {
        const alpha = minNormWeights(gram(gs));
        return { coefficients: alpha, weights: alpha };
      },
      state: () => null,
      restore() {},
      dispose() {},
    };
  },
};
export default strategy;
