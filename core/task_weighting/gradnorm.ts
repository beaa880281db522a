/**
 * GradNorm (Chen, Badrinarayanan, Lee & Rabinovich, "GradNorm: gradient normalization for adaptive loss
 * balancing in deep multitask networks", ICML 2018). Task weights w_k (start 1) scale the task gradients;
 * after each step they move by one gradient step on L_grad = sum_k |G_k - mean(G) r_k^alpha|, where
 * G_k = |w_k g_k| is the norm of the weighted task gradient, r_k the task's loss ratio L_k/L_k(0) relative to
 * the mean ratio, and the target is held constant as in the paper; the weights are then renormalised to sum
 * to the number of tasks. Here the gradient norms are those of the shared representation's gradients (the
 * rep_grad form), so d L_grad / d w_k = sign(G_k - target_k) |g_k| needs no second-order pass.
 * @module
 */
import { optionReader } from "../options.ts";
import type { TaskName } from "../types.ts";
import { dot } from "./_vec.ts";
import { TASK_WEIGHTING_OPTIONS, type TaskWeightingStrategy } from "./mod.ts";

/** One GradNorm update of the present tasks' weights (returns the new weights, renormalised to sum K). */
export function gradnormUpdate(
  args: { weights: number[]; gradNorms: number[]; lossRatios: number[]; alpha: number; lr: number },
): number[] {
  const { weights, gradNorms, lossRatios, alpha, lr } = args;
  const k = weights.length;
  const g = weights.map((w, i) => w * gradNorms[i]);
  const gMean = g.reduce((a, b) => a + b, 0) / k;
  const rMean = lossRatios.reduce((a, b) => a + b, 0) / k;
  const next = weights.map((w, i) => {
    const target = gMean * Math.pow(lossRatios[i] / rMean, alpha);
    return Math.max(1e-3, w - lr * Math.sign(g[i] - target) * gradNorms[i]);
  });
  const s = next.reduce((a, b) => a + b, 0);
  return next.map((w) => (w * k) / s);
}

const strategy: TaskWeightingStrategy = {
  name: "gradnorm",
  summary: "GradNorm: learn task weights that equalise weighted gradient norms, paced by loss ratios.",
  citation: "Chen et al. 2018, ICML, arXiv:1711.02257",
  needsGradients: true,
  absentTask:
    "an absent task's weight and initial loss are untouched; the present tasks' weights are renormalised among themselves to their own count",
  reads: ["gradnorm_alpha", "gradnorm_lr"],
  create(ctx) {
    const read = optionReader(TASK_WEIGHTING_OPTIONS);
    const alpha = read.num(ctx.options, "gradnorm_alpha");
    const lr = read.num(ctx.options, "gradnorm_lr");
    const w = new Map<TaskName, number>(ctx.tasks.map((t) => [t, 1]));
    const l0 = new Map<TaskName, number>();
    return {
      name: "gradnorm",
      needsGradients: true,
      combineGradients(gs, tasks, losses) {
        const weights = tasks.map((t) => w.get(t)!);
        tasks.forEach((t, i) => {
          if (!l0.has(t) && losses[i] > 0) l0.set(t, losses[i]);
        });
        if (tasks.length > 1 && tasks.every((t) => l0.has(t))) {
          const next = gradnormUpdate({
            weights,
            gradNorms: gs.map((g) => Math.sqrt(dot(g, g))),
            lossRatios: tasks.map((t, i) => losses[i] / l0.get(t)!),
            alpha,
            lr,
          });
          tasks.forEach((t, i) => w.set(t, next[i]));
        }
        return { coefficients: weights, weights };
      },
      state: () => ({ weights: Object.fromEntries(w), initialLoss: Object.fromEntries(l0) }),
      restore(state) {
        const s = state as { weights?: Record<string, number>; initialLoss?: Record<string, number> } | null;
        for (const [t, v] of Object.entries(s?.weights ?? {})) {
          if (w.has(t as TaskName)) w.set(t as TaskName, v);
        }
        for (const [t, v] of Object.entries(s?.initialLoss ?? {})) l0.set(t as TaskName, v);
      },
      dispose() {},
    };
  },
};
export default strategy;
