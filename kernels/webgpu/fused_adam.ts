/**
 * Routes tfjs' AdamOptimizer.applyGradients to the fused SaMtlAdamUpdate kernel while the active
 * backend is webgpu with the toolkit's WebGPU pack (kernels/_adam_route.ts), and to tfjs' own method
 * everywhere else.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { type AdamGrads, type AdamInternals, adamSlots, installAdamRoute } from "../_adam_route.ts";
import { kernelName } from "./adam.ts";

/** The fused update of all variables (one dispatch each). */
function fusedApply(self: AdamInternals, grads: AdamGrads): void {
  tf.tidy(() => {
    for (const { value, gradient, m, v } of adamSlots(self, grads)) {
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
    }
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
  installAdamRoute("webgpu", active, fusedApply);
}
