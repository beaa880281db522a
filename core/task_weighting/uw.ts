/**
 * UW, uncertainty weighting (Kendall, Gal & Cipolla, "Multi-task learning using uncertainty to weigh losses
 * for scene geometry and semantics", CVPR 2018). Each task has a learnable log-variance s_k = log sigma_k^2;
 * the loss is sum_k exp(-s_k) L_k + s_k / 2 (the paper's classification form, eq. 10: 1/sigma^2 L + log
 * sigma), so s = 0 starts at equal weights. The s_k are trained with the model, in the same step and at the
 * run's learning rate, by Adam on their exact gradient d/ds_k = 1/2 - exp(-s_k) L_k; they are kept here
 * (with their Adam moments) rather than in the model's optimiser, whose moments are positional and would be
 * shifted whenever a task is absent from a batch.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { TaskName } from "../types.ts";
import type { TaskWeightingStrategy } from "./mod.ts";

/** One task's log-variance and its Adam moments. */
interface LogVar {
  s: number;
  m: number;
  v: number;
  t: number;
}

const BETA1 = 0.9, BETA2 = 0.999, EPS = 1e-7;

/** One Adam step (tfjs defaults) of a scalar parameter on gradient g. */
export function adamStep(p: LogVar, g: number, lr: number): void {
  p.t++;
  p.m = BETA1 * p.m + (1 - BETA1) * g;
  p.v = BETA2 * p.v + (1 - BETA2) * g * g;
  const mh = p.m / (1 - BETA1 ** p.t);
  const vh = p.v / (1 - BETA2 ** p.t);
  p.s -= (lr * mh) / (Math.sqrt(vh) + EPS);
}

const strategy: TaskWeightingStrategy = {
  name: "uw",
  summary: "Uncertainty weighting: learnable log-variances s_k, loss sum exp(-s_k) L_k + s_k/2.",
  citation: "Kendall, Gal & Cipolla 2018, CVPR, arXiv:1705.07115",
  needsGradients: false,
  absentTask:
    "an absent task's term (and its s_k/2 regulariser) is left out, and its log-variance and Adam moments are not stepped",
  reads: [],
  create(ctx) {
    const vars = new Map<TaskName, LogVar>(ctx.tasks.map((t) => [t, { s: 0, m: 0, v: 0, t: 0 }]));
    return {
      name: "uw",
      needsGradients: false,
      combineLosses(losses, tasks) {
        const s = tasks.map((t) => vars.get(t)!.s);
        const weights = s.map((x) => Math.exp(-x));
        const terms = losses.map((l, i) => tf.add(tf.mul(l, weights[i]), s[i] / 2));
        return { loss: tf.addN(terms) as tf.Scalar, weights };
      },
      observe(tasks, losses, step) {
        tasks.forEach((t, i) => {
          const p = vars.get(t)!;
          adamStep(p, 0.5 - Math.exp(-p.s) * losses[i], step.lr);
        });
      },
      state: () => Object.fromEntries([...vars].map(([t, p]) => [t, { ...p }])),
      restore(state) {
        for (const [t, p] of Object.entries((state ?? {}) as Record<string, LogVar>)) {
          if (vars.has(t as TaskName)) vars.set(t as TaskName, { ...p });
        }
      },
      dispose() {},
    };
  },
};
export default strategy;
