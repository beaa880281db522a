/**
 * DWA, dynamic weight average (Liu, Johns & Davison, "End-to-end multi-task learning with attention",
 * CVPR 2019, eq. 7): w_k(t) = K exp(r_k(t-1)/T) / sum_i exp(r_i(t-1)/T) with r_k(t-1) = L_k(t-1) / L_k(t-2),
 * the ratio of the task's mean training loss over its last two epochs; T = `--dwa_temperature` (2).
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { optionReader } from "../options.ts";
import type { TaskName } from "../types.ts";
import { TASK_WEIGHTING_OPTIONS, type TaskWeightingStrategy } from "./mod.ts";

/**
 * DWA's weights for the present tasks from each one's loss ratio r_k (1 when a task has fewer than two
 * epochs of history): K_present * softmax(r / T).
 */
export function dwaWeights(ratios: number[], temperature: number): number[] {
  const e = ratios.map((r) => Math.exp(r / temperature));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => (ratios.length * v) / s);
}

interface History {
  /** Mean loss of the last two finished epochs in which the task had rows (older first). */
  means: number[];
  sum: number;
  count: number;
}

const strategy: TaskWeightingStrategy = {
  name: "dwa",
  summary: "Dynamic weight average: softmax over each task's loss ratio between its last two epochs.",
  citation: "Liu, Johns & Davison 2019, CVPR, arXiv:1803.10704",
  needsGradients: false,
  absentTask:
    "an absent task is left out of the softmax and its loss history does not advance: its epoch means come only from batches where it had rows, and an epoch without any keeps its last two means",
  reads: ["dwa_temperature"],
  create(ctx) {
    const temperature = optionReader(TASK_WEIGHTING_OPTIONS).num(ctx.options, "dwa_temperature");
    const hist = new Map<TaskName, History>(ctx.tasks.map((t) => [t, { means: [], sum: 0, count: 0 }]));
    const ratio = (t: TaskName) => {
      const m = hist.get(t)!.means;
      return m.length === 2 && m[0] > 0 ? m[1] / m[0] : 1;
    };
    return {
      name: "dwa",
      needsGradients: false,
      combineLosses(losses, tasks) {
        const w = dwaWeights(tasks.map(ratio), temperature);
        return { loss: tf.addN(losses.map((l, i) => tf.mul(l, w[i]))) as tf.Scalar, weights: w };
      },
      observe(tasks, losses) {
        tasks.forEach((t, i) => {
          const h = hist.get(t)!;
          h.sum += losses[i];
          h.count++;
        });
      },
      epochEnd() {
        for (const h of hist.values()) {
          if (h.count === 0) continue;
          h.means = [...h.means, h.sum / h.count].slice(-2);
          h.sum = 0;
          h.count = 0;
        }
      },
      state: () => Object.fromEntries(hist),
      restore(state) {
        for (const [t, h] of Object.entries((state ?? {}) as Record<string, History>)) {
          if (hist.has(t as TaskName)) hist.set(t as TaskName, { ...h, means: [...h.means] });
        }
      },
      dispose() {},
    };
  },
};
export default strategy;
