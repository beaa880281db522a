/**
 * RLW, random loss weighting (Lin, Ye, Xu, Shi & Zhang, "Reasonable effectiveness of random weighting: a
 * litmus test for multi-task learning", TMLR 2022, arXiv:2111.10603): every step the weights are a softmax of
 * fresh standard normal draws, one per task.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { TaskWeightingStrategy } from "./mod.ts";
import { rngStateOf } from "./_rng_state.ts";

/** softmax(z) for standard normal draws z (the paper's default distribution). */
export function softmax(z: number[]): number[] {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

const strategy: TaskWeightingStrategy = {
  name: "rlw",
  summary: "Random loss weighting: weights softmax(z), z ~ N(0, I) drawn every step.",
  citation: "Lin et al. 2022, TMLR, arXiv:2111.10603",
  needsGradients: false,
  absentTask: "weights are drawn for the present tasks only; no state besides the seeded generator",
  reads: [],
  create(ctx) {
    const rng = ctx.rng;
    return {
      name: "rlw",
      needsGradients: false,
      combineLosses(losses) {
        const w = softmax(losses.map(() => rng.normal()));
        return { loss: tf.addN(losses.map((l, i) => tf.mul(l, w[i]))) as tf.Scalar, weights: w };
      },
      ...rngStateOf(rng),
      dispose() {},
    };
  },
};
export default strategy;
