/**
 * Routes tfjs-layers' BatchNormalization.call in training mode to the fused WebGPU batch norm
 * (batch_norm.ts) while the WebGPU pack is active; inference, other backends and configurations the
 * fused kernels do not cover (statistics over other axes than the last, no γ or β, non-float32
 * input) keep tfjs-layers' own code. Routing inside the class keeps every model, checkpoint and
 * weight name unchanged, like fused_adam.ts does for the optimizer.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { GRAD_INPUT, GRAD_REDUCE, STATS } from "./batch_norm.ts";

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

type Call = (this: unknown, inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>) => tf.Tensor;

let installed = false;

/**
 * y = batchNorm(x) over all axes but the last, with the fused gradient; updates the moving
 * statistics. One stats dispatch and tfjs' FusedBatchNorm forward, two dispatches backward.
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

/** Installs the routing once; `active()` says whether the fused path applies now. */
export function installFusedBatchNorm(active: () => boolean): void {
  if (installed) return;
  const proto = Object.getPrototypeOf(tfl.layers.batchNormalization({})) as { call: Call };
  const stock = proto.call;
  proto.call = function (this: unknown, inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>) {
    const self = this as BatchNormInternals;
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const lastAxis = self.axis === -1 || self.axis === x.rank - 1;
    if (
      !kwargs?.training || !active() || !lastAxis || !self.center || !self.scale || x.dtype !== "float32" ||
      (Array.isArray(inputs) && inputs.length !== 1)
    ) {
      return stock.call(this, inputs, kwargs);
    }
    return tf.tidy(() =>
      fusedBatchNormTraining(x, self.gamma.read(), self.beta.read(), {
        epsilon: self.epsilon,
        momentum: self.momentum,
        movingMean: self.movingMean,
        movingVariance: self.movingVariance,
      })
    );
  };
  installed = true;
}
