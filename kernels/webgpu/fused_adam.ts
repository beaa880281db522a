/**
 * Routes tfjs' AdamOptimizer.applyGradients to the fused SaMtlAdamUpdate kernel while the active
 * backend is webgpu with the toolkit's WebGPU pack, and to tfjs' own method everywhere else.
 * Optimizers are created all over the toolkit (trainer, benches, tests) with `tf.train.adam`; routing
 * inside the class keeps every caller, checkpoint format (the same m/v variables and names) and
 * `getWeights`/`setWeights` unchanged, the way kernels/_gradients.ts routes gradients.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { NamedTensorMap } from "@tensorflow/tfjs-core";
import { kernelName } from "./adam.ts";

type Grads = NamedTensorMap | { name: string; tensor: tf.Tensor }[];

interface AdamInternals {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: { originalName: string; variable: tf.Variable }[];
  accumulatedSecondMoment: { originalName: string; variable: tf.Variable }[];
  readonly iterations: number;
  incrementIterations(): void;
}

type Apply = (this: tf.AdamOptimizer, g: Grads) => void;

let stockApply: Apply | null = null;

/** The fused update of all variables (one dispatch each). */
function fusedApply(this: tf.AdamOptimizer, variableGradients: Grads): void {
  const self = this as unknown as AdamInternals;
  const names = Array.isArray(variableGradients)
    ? variableGradients.map((v) => v.name)
    : Object.keys(variableGradients);
  const registered = tf.engine().registeredVariables as Record<string, tf.Variable>;
  tf.tidy(() => {
    names.forEach((name, i) => {
      const value = registered[name];
      if (self.accumulatedFirstMoment[i] == null) {
        self.accumulatedFirstMoment[i] = {
          originalName: `${name}/m`,
          variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
        };
      }
      if (self.accumulatedSecondMoment[i] == null) {
        self.accumulatedSecondMoment[i] = {
          originalName: `${name}/v`,
          variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
        };
      }
      const gradient = Array.isArray(variableGradients)
        ? variableGradients[i].tensor
        : variableGradients[name];
      if (gradient == null) return;
      const m = self.accumulatedFirstMoment[i].variable;
      const v = self.accumulatedSecondMoment[i].variable;
      const [x1, m1, v1] = tf.engine().runKernel(kernelName, { x: value, g: gradient, m, v }, {
        beta1: self.beta1,
        beta2: self.beta2,
        learningRate: self.learningRate,
        epsilon: self.epsilon,
        iteration: self.iterations,
      }) as tf.Tensor[];
      m.assign(m1);
      v.assign(v1);
      value.assign(x1);
    });
    // tfjs keeps β^(t+1) in two scalar variables for checkpoints; keep them current as CPU scalars
    // (never uploaded: no kernel reads them on this path).
    const t = self.iterations + 2;
    self.accBeta1.assign(tf.scalar(self.beta1 ** t));
    self.accBeta2.assign(tf.scalar(self.beta2 ** t));
  });
  self.incrementIterations();
}

/**
 * Installs the routing once; `active()` says whether the fused path applies now (webgpu with the
 * pack registered). Returns nothing; idempotent.
 */
export function installFusedAdam(active: () => boolean): void {
  if (stockApply) return;
  const proto = tf.AdamOptimizer.prototype as unknown as { applyGradients: Apply };
  const stock = proto.applyGradients;
  stockApply = stock;
  proto.applyGradients = function (this: tf.AdamOptimizer, g: Grads) {
    if (active()) return fusedApply.call(this, g);
    return stock.call(this, g);
  };
}
