/**
 * CAGrad, conflict-averse gradient descent (Liu, Liu, Jin, Stone & Liu, NeurIPS 2021, Algorithm 1): with
 * g0 the mean gradient and phi = c^2 |g0|^2, find w on the simplex minimising g_w . g0 + sqrt(phi) |g_w|
 * (g_w = sum w_k g_k); the update is (g0 + sqrt(phi) / |g_w| g_w) / (1 + c^2) (the authors' rescaled form).
 * c = `--cagrad_c` (0.5). The inner problem is convex; it is solved by exponentiated-gradient descent on the
 * simplex (two tasks: a golden-section search on w_1).
 * @module
 */
import { optionReader } from "../options.ts";
import { gram, matVec } from "./_vec.ts";
import { TASK_WEIGHTING_OPTIONS, type TaskWeightingStrategy } from "./mod.ts";

/** CAGrad's weights on the task gradients (the update is sum_k weights_k g_k) from their Gram matrix. */
export function cagradWeights(m: number[][], c: number): number[] {
  const k = m.length;
  const ones = new Array(k).fill(1 / k);
  const mg0 = matVec(m, ones); // M g0-coordinates: (g_i . g0)
  const g0n2 = ones.reduce((a, v, i) => a + v * mg0[i], 0);
  const sqrtPhi = c * Math.sqrt(Math.max(0, g0n2));
  const f = (w: number[]) => {
    const mw = matVec(m, w);
    const gw2 = w.reduce((a, v, i) => a + v * mw[i], 0);
    return w.reduce((a, v, i) => a + v * mg0[i], 0) + sqrtPhi * Math.sqrt(Math.max(0, gw2));
  };
  let w: number[];
  if (k === 1) w = [1];
  else if (k === 2) {
    let lo = 0, hi = 1;
    const phi = (Math.sqrt(5) - 1) / 2;
    for (let it = 0; it < 100; it++) {
      const a = hi - phi * (hi - lo), b = lo + phi * (hi - lo);
      if (f([a, 1 - a]) <= f([b, 1 - b])) hi = b;
      else lo = a;
    }
    const x = (lo + hi) / 2;
    // The optimum may sit on an end point of the segment.
    w = [[x, 1 - x], [0, 1], [1, 0]].reduce((best, cand) => (f(cand) < f(best) ? cand : best));
  } else {
    w = [...ones];
    const scale = Math.max(1e-12, ...m.map((r, i) => Math.abs(r[i])));
    for (let it = 0; it < 500; it++) {
      const mw = matVec(m, w);
      const gwn = Math.sqrt(Math.max(1e-20, w.reduce((a, v, i) => a + v * mw[i], 0)));
      const grad = mw.map((v, i) => mg0[i] + (sqrtPhi * v) / gwn);
      const eta = 1 / (scale * Math.sqrt(it + 1));
      const e = w.map((v, i) => v * Math.exp(-eta * grad[i]));
      const s = e.reduce((a, b) => a + b, 0);
      w = e.map((v) => v / s);
    }
  }
  const mw = matVec(m, w);
  const gwn = Math.sqrt(Math.max(0, w.reduce((a, v, i) => a + v * mw[i], 0)));
  const lambda = gwn > 0 ? sqrtPhi / gwn : 0;
  return ones.map((o, i) => (o + lambda * w[i]) / (1 + c * c));
}

const strategy: TaskWeightingStrategy = {
  name: "cagrad",
  summary: "Conflict-averse gradient: the best worst-case direction in a ball around the mean gradient.",
  citation: "Liu et al. 2021, NeurIPS, arXiv:2110.14048",
  needsGradients: true,
  absentTask: "an absent task is left out of the mean gradient and of the inner problem; no state",
  reads: ["cagrad_c"],
  create(ctx) {
    const c = optionReader(TASK_WEIGHTING_OPTIONS).num(ctx.options, "cagrad_c");
    return {
      name: "cagrad",
      needsGradients: true,
      combineGradients(gs) {
        const w = cagradWeights(gram(gs), c);
        return { coefficients: w, weights: w };
      },
      state: () => null,
      restore() {},
      dispose() {},
    };
  },
};
export default strategy;
