/**
 * Nash-MTL (Navon, Shamsian, Achituve, Maron, Kawaguchi, Chechik & Fetaya, "Multi-task learning as a
 * bargaining game", ICML 2022): the update sum_k alpha_k g_k is the Nash bargaining solution, alpha > 0 with
 * G^T G alpha = 1/alpha (element-wise), i.e. every task's directional derivative d . g_k equals 1/alpha_k.
 * The authors approximate it by a sequence of convex programs (CCP, cvxpy); here the equation itself is
 * solved by damped Newton steps on F(alpha) = M alpha - 1/alpha (M = G^T G scaled to unit Frobenius norm for
 * conditioning, alpha rescaled back after), which stays in the positive orthant. When M is singular
 * (parallel gradients) a ridge of 1e-10 (relative) makes it positive definite.
 * @module
 */
import { gram, matVec, solve } from "./_vec.ts";
import type { TaskWeightingStrategy } from "./mod.ts";

/** The positive alpha solving M alpha = 1 / alpha (M: the Gram matrix of the task gradients). */
export function nashWeights(m: number[][], iters = 100): number[] {
  const k = m.length;
  const nf = Math.sqrt(m.flat().reduce((a, v) => a + v * v, 0));
  if (!(nf > 0)) return new Array(k).fill(0);
  const mn = m.map((r, i) => r.map((v, j) => v / nf + (i === j ? 1e-10 : 0)));
  let a = mn.map((r, i) => 1 / Math.sqrt(Math.max(r[i], 1e-12)));
  for (let it = 0; it < iters; it++) {
    const f = matVec(mn, a).map((v, i) => v - 1 / a[i]);
    if (Math.max(...f.map(Math.abs)) < 1e-10) break;
    const jac = mn.map((r, i) => r.map((v, j) => v + (i === j ? 1 / (a[i] * a[i]) : 0)));
    const step = solve(jac, f);
    if (!step) break;
    // Damping keeps every alpha positive (the equation's solution is in the open positive orthant).
    let t = 1;
    while (a.some((v, i) => v - t * step[i] <= 0) && t > 1e-8) t /= 2;
    a = a.map((v, i) => v - t * step[i]);
  }
  // alpha' solves (M / nf) alpha' = 1 / alpha', so alpha = alpha' / sqrt(nf) solves M alpha = 1 / alpha.
  return a.map((v) => v / Math.sqrt(nf));
}

const strategy: TaskWeightingStrategy = {
  name: "nash-mtl",
  summary: "Nash-MTL: the bargaining solution G^T G alpha = 1/alpha on the representation gradients.",
  citation: "Navon et al. 2022, ICML, arXiv:2202.01017",
  needsGradients: true,
  absentTask: "an absent task is not a player of that batch's bargaining game; no state",
  reads: [],
  create() {
    return {
      name: "nash-mtl",
      needsGradients: true,
      combineGradients(gs) {
        const alpha = nashWeights(gram(gs));
        return { coefficients: alpha, weights: alpha };
      },
      state: () => null,
      restore() {},
      dispose() {},
    };
  },
};
export default strategy;
