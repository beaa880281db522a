/**
 * The pack's gradients for FusedBatchNorm, Relu and Mean. Gradients are global in tfjs (not per
 * backend), so these route by the active backend: where the kernel pack is registered they take
 * the fast path, everywhere else (webgpu, tensorflow, the reference backend) tfjs' stock gradient.
 * - FusedBatchNorm with per-channel statistics: the fused SaMtlFusedBatchNormGrad kernel (2 passes
 *   instead of ~14).
 * - Relu: dy·step(x) in one threaded kernel (SaMtlReluGrad) instead of Step, Cast and Multiply.
 * - Mean: dy/n broadcast to x's shape (one Tile) instead of dy·ones(x.shape)/n (Fill, Multiply,
 *   RealDiv); bit-identical, since dy·1 = dy.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { util } from "@tensorflow/tfjs-core";
import type { GradConfig, NamedAttrMap } from "@tensorflow/tfjs-core";
import { kernelName as fusedKernel } from "./batch_norm_grad.ts";
import { GRAD_KERNEL as reluGradKernel } from "./relu.ts";

let installed = false;

function stockGradient(kernelName: string): GradConfig {
  const g = tf.getGradient(kernelName);
  if (!g) {
    throw new Error(
      `kernel pack: tfjs registered no ${kernelName} gradient (import @tensorflow/tfjs-layers first)`,
    );
  }
  return g;
}

/** Replaces the two gradients once; `packActive` says whether a backend has the pack. */
export function installPackGradients(packActive: (backendName: string) => boolean): void {
  if (installed) return;
  const stock = stockGradient("FusedBatchNorm");
  const stockMean = stockGradient("Mean");
  const stockRelu = stockGradient("Relu");
  const config: GradConfig = {
    kernelName: "FusedBatchNorm",
    inputsToSave: ["x", "mean", "variance", "scale"],
    gradFunc: (dy, saved, attrs) => {
      const [x, mean, variance, scale] = saved;
      const d = dy as tf.Tensor;
      const perChannel = mean.rank === 1 && variance.rank === 1 && x.rank >= 2 &&
        mean.shape[0] === x.shape[x.rank - 1] && (!scale || scale.rank === 1) && d.dtype === "float32";
      if (!perChannel || !packActive(tf.getBackend())) return stock.gradFunc(dy, saved, attrs);
      const inputs: tf.NamedTensorMap = { dy: d, x, mean, variance };
      if (scale) inputs.scale = scale;
      const eps = (attrs as NamedAttrMap).varianceEpsilon as number;
      const [dx, dmean, dvar, dscale, doffset] = tf.engine().runKernel(fusedKernel, inputs, {
        varianceEpsilon: eps,
      }) as tf.Tensor[];
      return {
        x: () => dx,
        mean: () => dmean,
        variance: () => dvar,
        scale: () => dscale,
        offset: () => doffset,
      };
    },
  };
  tf.registerGradient(config);
  tf.registerGradient({
    kernelName: "Mean",
    inputsToSave: ["x"],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved;
      if (!packActive(tf.getBackend()) || (dy as tf.Tensor).dtype !== "float32") {
        return stockMean.gradFunc(dy, saved, attrs);
      }
      const axes = util.parseAxisParam((attrs as NamedAttrMap).axis as number | number[], x.shape);
      const expanded = x.shape.map((d, i) => axes.includes(i) ? 1 : d);
      const n = axes.reduce((p, a) => p * x.shape[a], 1);
      return { x: () => tf.broadcastTo(tf.div(tf.reshape(dy as tf.Tensor, expanded), n), x.shape) };
    },
  });
  tf.registerGradient({
    kernelName: "Relu",
    inputsToSave: ["x"],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved;
      const d = dy as tf.Tensor;
      if (!packActive(tf.getBackend()) || d.dtype !== "float32" || x.dtype !== "float32") {
        return stockRelu.gradFunc(dy, saved, attrs);
      }
      return { x: () => tf.engine().runKernel(reluGradKernel, { dy: d, x }) as tf.Tensor };
    },
  });
  installed = true;
}
