/**
 * Routes tfjs-layers' BatchNormalization.call in training mode to a fused batch norm while a pack
 * that implements its three kernels is active on the current backend (the WebGPU pack:
 * webgpu/batch_norm.ts; the CPU pack: batch_norm_train.ts). Inference, other backends and
 * configurations the fused kernels do not cover (statistics over other axes than the last, no γ or
 * β, non-float32 input) keep tfjs-layers' own code. Routing inside the class keeps every model,
 * checkpoint and weight name unchanged (kernels/_route_method.ts).
 *
 * The kernels, by name (registered per backend):
 * - {@link STATS}: inputs x ([..., C]), movingMean, movingVariance ([C]), attr momentum; returns
 *   [mean, variance (biased), movingMean', movingVariance'] with m' = m − (m − s)·(1 − momentum);
 * - {@link GRAD_REDUCE}: inputs dy, x, mean, variance, attr varianceEpsilon; returns
 *   [dscale = Σdy·x̂, doffset = Σdy] with x̂ = (x − mean)/√(variance + ε);
 * - {@link GRAD_INPUT}: inputs dy, x, mean, variance, scale, dscale, doffset; returns
 *   dx = γ·σ⁻¹/N · (N·dy − Σdy − x̂·Σdy·x̂), the gradient through the batch statistics too.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { routeMethod } from "./_route_method.ts";

/** Kernel names in the tfjs registry (namespaced: not tfjs kernels). */
export const STATS = "SaMtlBatchNormStats";
/** See the module documentation. */
export const GRAD_REDUCE = "SaMtlBatchNormGradReduce";
/** See the module documentation. */
export const GRAD_INPUT = "SaMtlBatchNormGradInput";

interface LayerVar {
  read(): tf.Tensor;
  write(v: tf.Tensor): void;
}

interface BatchNormInternals {
  axis: number;
  epsilon: number;
  momentum: number;
  center: boolean;
  scale: boolean;
  gamma: LayerVar;
  beta: LayerVar;
  movingMean: LayerVar;
  movingVariance: LayerVar;
}

/**
 * y = batchNorm(x) over all axes but the last, with the fused gradient; updates the moving
 * statistics. One stats kernel and tfjs' FusedBatchNorm forward, two kernels backward.
 */
export function fusedBatchNormTraining(
  x: tf.Tensor,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  opts: { epsilon: number; momentum: number; movingMean: LayerVar; movingVariance: LayerVar },
): tf.Tensor {
  let moving: tf.Tensor[] = [];
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xs, g, b] = args as tf.Tensor[];
    const save = args[3] as tf.GradSaveFunc;
    const [mean, variance, mm, mv] = tf.engine().runKernel(
      STATS,
      { x: xs, movingMean: opts.movingMean.read(), movingVariance: opts.movingVariance.read() },
      { momentum: opts.momentum },
    ) as tf.Tensor[];
    moving = [tf.keep(mm), tf.keep(mv)];
    const y = tf.batchNorm(xs, mean, variance, b, g, opts.epsilon);
    save([xs, mean, variance, g]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [sx, sm, sv, sg] = saved;
        const attrs = { varianceEpsilon: opts.epsilon };
        const [dscale, doffset] = tf.engine().runKernel(
          GRAD_REDUCE,
          { dy: dy as tf.Tensor, x: sx, mean: sm, variance: sv },
          attrs,
        ) as tf.Tensor[];
        const dx = tf.engine().runKernel(
          GRAD_INPUT,
          { dy: dy as tf.Tensor, x: sx, mean: sm, variance: sv, scale: sg, dscale, doffset },
          attrs,
        ) as tf.Tensor;
        return [dx, dscale, doffset];
      },
    };
  });
  const y = (f as (...t: tf.Tensor[]) => tf.Tensor)(x, gamma, beta);
  opts.movingMean.write(moving[0]);
  opts.movingVariance.write(moving[1]);
  tf.dispose(moving);
  return y;
}

/**
 * Installs a route once per `key`; `active()` says whether the fused path applies now. A call no
 * route claims runs tfjs-layers' own code.
 */
export function installFusedBatchNorm(key: string, active: () => boolean): void {
  const proto = Object.getPrototypeOf(tfl.layers.batchNormalization({})) as object;
  routeMethod<[tf.Tensor | tf.Tensor[], Record<string, unknown>], tf.Tensor>(
    proto,
    "call",
    key,
    (layer, [inputs, kwargs], next) => {
      const self = layer as BatchNormInternals;
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const lastAxis = self.axis === -1 || self.axis === x.rank - 1;
      if (
        !kwargs?.training || !active() || !lastAxis || !self.center || !self.scale || x.dtype !== "float32" ||
        (Array.isArray(inputs) && inputs.length !== 1)
      ) {
        return next();
      }
      return tf.tidy(() =>
        fusedBatchNormTraining(x, self.gamma.read(), self.beta.read(), {
          epsilon: self.epsilon,
          momentum: self.momentum,
          movingMean: self.movingMean,
          movingVariance: self.movingVariance,
        })
      );
    },
  );
}
