/**
 * The CPU pack's fused training-mode batch norm: the three kernels that kernels/_fused_bn_layer.ts
 * routes tfjs-layers' BatchNormalization to (SIMD and threaded on wasm, JS on cpu). tfjs-layers
 * builds a training batch norm from tf.moments (Mean, Sub, Square, Mean), FusedBatchNorm and the
 * moving averages, and its gradient from about 25 more full-size ops (Tile, Sub, Multiply, Add, Sum);
 * here the forward reads x three times (mean, variance, normalisation) and the backward twice.
 * - Stats: the mean and variance are the same f32 values tf.moments gives on the pack (the same
 *   per-block partial sums), so the forward pass is unchanged bit for bit.
 * - Gradient: dx = A·dy + B·(x − mean) + C per channel, with A = γ·σ⁻¹, B = −γ·σ⁻³·Σdy(x − mean)/N,
 *   C = −γ·σ⁻¹·Σdy/N: the same function as tfjs' chain, summed in another order (within 1e-4 of the
 *   reference backend on a whole model, tests/kernels_test.ts).
 * @module
 */
import type { KernelFunc, NamedAttrMap, TensorInfo } from "@tensorflow/tfjs-core";
import { GRAD_INPUT, GRAD_REDUCE, STATS } from "./_fused_bn_layer.ts";
import { kernelIo } from "./_io.ts";
import { rowsAndChannels } from "./_geometry.ts";
import { simdKernels } from "./_simd.ts";
import { runThreaded } from "./threads.ts";
import { rowBlockPartials } from "./_row_blocks.ts";

const f = Math.fround;

/** 1/√(variance + ε) per channel, in f32 as the pack's FusedBatchNorm computes it. */
function inverseStd(variance: Float32Array, eps: number): Float32Array {
  return variance.map((v) => f(1 / f(Math.sqrt(f(v + eps)))));
}

/** [mean, variance, movingMean', movingVariance'] (see kernels/_fused_bn_layer.ts). */
const statsKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, movingMean, movingVariance } = inputs as Record<string, TensorInfo>;
  const io = kernelIo(backend as never);
  const [rows, c] = rowsAndChannels(x.shape);
  const outs = [0, 1, 2, 3].map(() => io.alloc([c], "float32", false));
  const simd = simdKernels(backend as never);
  if (simd) {
    const p = simd.ptr;
    const shape = { rows, lanes: c, work: rows * c };
    const sums = rowBlockPartials(io, simd, "channelSum", [p(x), rows, c], shape);
    simd.fns.channelCombine(p(sums.part), sums.blocks, c, 1 / rows, p(outs[0]));
    const squares = rowBlockPartials(io, simd, "channelSqDev", [p(x), p(outs[0]), rows, c], shape);
    simd.fns.channelCombine(p(squares.part), squares.blocks, c, 1 / rows, p(outs[1]));
    io.free(sums.part);
    io.free(squares.part);
  } else {
    const xv = io.floats(x);
    const [mean, variance] = [io.floats(outs[0]), io.floats(outs[1])];
    const s = new Float64Array(c);
    for (let r = 0, o = 0; r < rows; r++) for (let j = 0; j < c; j++, o++) s[j] += xv[o];
    for (let j = 0; j < c; j++) mean[j] = s[j] / rows;
    s.fill(0);
    for (let r = 0, o = 0; r < rows; r++) {
      for (let j = 0; j < c; j++, o++) {
        const d = f(xv[o] - mean[j]);
        s[j] += f(d * d);
      }
    }
    for (let j = 0; j < c; j++) variance[j] = s[j] / rows;
  }
  // tfjs-layers' moving average: m − (m − s)·(1 − momentum), op by op in f32.
  const decay = f(1 - ((attrs as NamedAttrMap).momentum as number));
  const stats = [io.floats(outs[0]), io.floats(outs[1])];
  [movingMean, movingVariance].forEach((m, k) => {
    const mv = io.floats(m);
    const o = io.floats(outs[2 + k]);
    for (let j = 0; j < c; j++) o[j] = f(mv[j] - f(f(mv[j] - stats[k][j]) * decay));
  });
  return outs;
};

/** [dscale = Σdy·x̂, doffset = Σdy]. */
const gradReduceKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, x, mean, variance } = inputs as Record<string, TensorInfo>;
  const io = kernelIo(backend as never);
  const [rows, c] = rowsAndChannels(x.shape);
  const sums = io.alloc([2 * c], "float32", false);
  const simd = simdKernels(backend as never);
  if (simd) {
    const p = simd.ptr;
    const { part, blocks } = rowBlockPartials(io, simd, "batchNormGrad", [p(dy), p(x), p(mean), rows, c], {
      rows,
      lanes: 2 * c,
      work: rows * c,
    });
    simd.fns.channelCombine(p(part), blocks, 2 * c, 1, p(sums));
    io.free(part);
  } else {
    const [dyv, xv, mv] = [dy, x, mean].map((t) => io.floats(t));
    const s = new Float64Array(2 * c);
    for (let r = 0, o = 0; r < rows; r++) {
      for (let j = 0; j < c; j++, o++) {
        s[j] += dyv[o];
        s[c + j] += dyv[o] * f(xv[o] - mv[j]);
      }
    }
    io.floats(sums).set(s);
  }
  const sv = io.floats(sums);
  const inv = inverseStd(io.floats(variance), (attrs as NamedAttrMap).varianceEpsilon as number);
  const dscale = io.alloc([c], "float32", false);
  const doffset = io.alloc([c], "float32", false);
  const [ds, dof] = [io.floats(dscale), io.floats(doffset)];
  for (let j = 0; j < c; j++) {
    dof[j] = sv[j];
    ds[j] = sv[c + j] * inv[j];
  }
  io.free(sums);
  return [dscale, doffset];
};

/** dx = γ·σ⁻¹/N · (N·dy − Σdy − x̂·Σdy·x̂), as A·dy + B·(x − mean) + C. */
const gradInputKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, x, mean, variance, scale, dscale, doffset } = inputs as Record<string, TensorInfo>;
  const io = kernelIo(backend as never);
  const [rows, c] = rowsAndChannels(x.shape);
  const dx = io.alloc(x.shape, "float32", false);
  const coef = io.alloc([3 * c], "float32", false);
  const inv = inverseStd(io.floats(variance), (attrs as NamedAttrMap).varianceEpsilon as number);
  const [g, ds, dof] = [scale, dscale, doffset].map((t) => io.floats(t));
  const k = io.floats(coef);
  for (let j = 0; j < c; j++) {
    const a = g[j] * inv[j];
    k[j] = a;
    k[c + j] = -a * inv[j] * ds[j] / rows;
    k[2 * c + j] = -a * dof[j] / rows;
  }
  const simd = simdKernels(backend as never);
  if (simd) {
    const p = simd.ptr;
    runThreaded(simd.fns, "batchNormGradInput", [p(dy), p(x), p(mean), p(coef), p(dx), rows, c], rows * c);
  } else {
    const [dyv, xv, mv, dxv] = [dy, x, mean, dx].map((t) => io.floats(t));
    for (let r = 0, o = 0; r < rows; r++) {
      for (let j = 0; j < c; j++, o++) dxv[o] = k[j] * dyv[o] + k[c + j] * (xv[o] - mv[j]) + k[2 * c + j];
    }
  }
  io.free(coef);
  return dx;
};

/** The three kernels, for the pack's registry. */
export const BATCH_NORM_TRAIN_KERNELS = [
  { kernelName: STATS, kernelFunc: statsKernel },
  { kernelName: GRAD_REDUCE, kernelFunc: gradReduceKernel },
  { kernelName: GRAD_INPUT, kernelFunc: gradInputKernel },
];
