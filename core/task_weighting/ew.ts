/**
 * EW, equal weighting: the plain sum of the task losses (the toolkit's behaviour before task weighting
 * existed, and the baseline every weighting paper compares with).
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { TaskWeightingStrategy } from "./mod.ts";

const strategy: TaskWeightingStrategy = {
  name: "ew",
  summary: "Equal weighting: the sum of the task losses.",
  citation: "Equal weighting, the baseline of e.g. Lin et al. 2022, LibMTL (JMLR 24(209))",
  needsGradients: false,
  absentTask: "an absent task is left out of the sum (weight 0 that batch); no state",
  reads: [],
  create() {
    return {
      name: "ew",
      needsGradients: false,
      combineLosses(losses) {
        return { loss: tf.addN(losses) as tf.Scalar, weights: losses.map(() => 1) };
      },
      state: () => null,
      restore() {},
      dispose() {},
    };
  },
};
export default strategy;
