/**
 * A kernel the pack adds (no tfjs equivalent): the whole backward pass of a batch norm with
 * per-channel statistics in two passes over the data (SIMD on wasm, JS on cpu), returning
 * [dx, dmean, dvariance, dscale, doffset]. tfjs' own FusedBatchNorm gradient builds the same five
 * results from about fourteen full-size elementwise ops and reductions (one is a Tile to full size).
 * The pack's FusedBatchNorm gradient (kernels/_gradients.ts) calls it.
 * @module
 */
import type { KernelFunc, NamedAttrMap, TensorInfo } from "@tensorflow/tfjs-core";
import { kernelIo } from "./_io.ts";
import { rowsAndChannels } from "./_geometry.ts";
import { simdKernels } from "./_simd.ts";
import { runThreaded } from "./threads.ts";
import { rowBlockPartials } from "./_row_blocks.ts";
import { ROW_OP } from "./_row_broadcast.ts";

/** Kernel name in the tfjs registry (namespaced: not a tfjs kernel). */
export const kernelName = "SaMtlFusedBatchNormGrad";

/** Inputs dy, x ([..., C]), mean, variance, scale? ([C]); attr varianceEpsilon. */
export const kernelFunc: KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, x, mean, variance, scale } = inputs as Record<string, TensorInfo | undefined> as {
    dy: TensorInfo;
    x: TensorInfo;
    mean: TensorInfo;
    variance: TensorInfo;
    scale?: TensorInfo;
  };
  const eps = (attrs as NamedAttrMap).varianceEpsilon as number;
  const io = kernelIo(backend as never);
  const [rows, c] = rowsAndChannels(x.shape);
  const dx = io.alloc(x.shape, "float32", false);
  const outs = [dx, io.alloc([c]), io.alloc([c]), io.alloc([c]), io.alloc([c])];
  const simd = simdKernels(backend as never);
  if (simd) {
    const p = simd.ptr;
    const coef = io.alloc([c], "float32", false);
    // Pass 1 (threads split the row blocks): block partials of Σdy and Σdy·(x − mean).
    const { part } = rowBlockPartials(io, simd, "batchNormGrad", [p(dy), p(x), p(mean), rows, c], {
      rows,
      lanes: 2 * c,
      work: rows * c,
    });
    simd.fns.batchNormGradCombine(
      p(part),
      rows,
      c,
      p(variance),
      scale ? p(scale) : 0,
      eps,
      p(outs[1]),
      p(outs[2]),
      p(outs[3]),
      p(outs[4]),
      p(coef),
    );
    // Pass 2 (threads split the rows): dx = dy·coef.
    runThreaded(simd.fns, "rowBroadcast", [p(dy), p(coef), p(dx), rows, c, ROW_OP.mul], rows * c);
    [part, coef].forEach(io.free);
    return outs;
  }
  const dyv = io.floats(dy);
  const xv = io.floats(x);
  const mv = io.floats(mean);
  const vv = io.floats(variance);
  const sv = scale ? io.floats(scale) : null;
  const sdy = new Float64Array(c);
  const sdxm = new Float64Array(c);
  for (let r = 0, o = 0; r < rows; r++) {
    for (let j = 0; j < c; j++, o++) {
      const d = dyv[o];
      sdy[j] += d;
      sdxm[j] += d * Math.fround(xv[o] - mv[j]);
    }
  }
  const coef = new Float32Array(c);
  const [dmv, dvv, dsv, dov] = outs.slice(1).map((t) => io.floats(t));
  for (let j = 0; j < c; j++) {
    const rs = Math.fround(1 / Math.sqrt(Math.fround(vv[j] + eps)));
    const s = sv ? sv[j] : 1;
    dmv[j] = -rs * s * sdy[j];
    dvv[j] = -0.5 * rs * rs * rs * s * sdxm[j];
    dsv[j] = rs * sdxm[j];
    dov[j] = sdy[j];
    coef[j] = s * rs;
  }
  const dxv = io.floats(dx);
  for (let r = 0, o = 0; r < rows; r++) {
    for (let j = 0; j < c; j++, o++) dxv[o] = dyv[o] * coef[j];
  }
  return outs;
};
