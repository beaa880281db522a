/**
 * Tile. The stock kernels copy element by element through index arithmetic; here x is written once
 * and then every axis, innermost first, is replicated with block copies (`copyWithin`).
 * @module
 */
import type { KernelFunc, NamedAttrMap, TensorInfo } from "@tensorflow/tfjs-core";
import { kernelIo } from "./_io.ts";
import { simdKernels } from "./_simd.ts";
import { runThreaded } from "./threads.ts";

/** Kernel name in the tfjs registry. */
export const kernelName = "Tile";

/** out = x repeated reps[d] times along every axis d. */
export const kernelFunc: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x } = inputs as { x: TensorInfo };
  const reps = (attrs as NamedAttrMap).reps as number[];
  if (x.dtype === "string") throw new Error("kernel pack Tile: string tensors are not supported");
  const io = kernelIo(backend as never);
  const rank = x.shape.length;
  const outShape = x.shape.map((d, i) => d * reps[i]);
  const total = outShape.reduce((p, d) => p * d, 1);
  const simd = x.dtype === "float32" && rank >= 2 ? simdKernels(backend as never) : null;
  const c = x.shape[rank - 1];
  if (simd && total > 0 && reps[rank - 1] === 1 && x.shape.slice(0, -1).every((d) => d === 1)) {
    // A channel vector repeated over the leading axes (the Mean gradient of batch-norm
    // statistics): one SIMD broadcast pass, split over the pack's threads.
    const out = io.alloc(outShape, "float32", false);
    runThreaded(simd.fns, "rowBroadcast", [0, simd.ptr(x), simd.ptr(out), total / c, c, 5], total);
    return out;
  }
  const out = io.alloc(outShape, x.dtype);
  if (total === 0) return out;
  if (rank === 0) {
    io.values(out).set(io.values(x));
    return out;
  }
  const xv = io.values(x);
  const ov = io.values(out);
  // stride[d] = product of outShape[d+1..].
  const stride = new Array<number>(rank);
  stride[rank - 1] = 1;
  for (let d = rank - 2; d >= 0; d--) stride[d] = stride[d + 1] * outShape[d + 1];
  // 1. Copy x's rows (last axis) into the corner of out where every tile index is 0.
  const rowLen = x.shape[rank - 1];
  const rows = xv.length / rowLen;
  const idx = new Array<number>(rank).fill(0);
  for (let row = 0; row < rows; row++) {
    let o = 0;
    for (let d = 0; d < rank - 1; d++) o += idx[d] * stride[d];
    ov.set(xv.subarray(row * rowLen, row * rowLen + rowLen), o);
    for (let d = rank - 2; d >= 0; d--) {
      if (++idx[d] < x.shape[d]) break;
      idx[d] = 0;
    }
  }
  // 2. Axis by axis from the innermost: the block [0, x.shape[d]) × (full inner axes) is filled;
  // repeat it reps[d] - 1 times for every outer index inside x's extent.
  for (let d = rank - 1; d >= 0; d--) {
    if (reps[d] === 1) continue;
    const block = x.shape[d] * stride[d];
    let outer = 1;
    for (let e = 0; e < d; e++) outer *= x.shape[e];
    const oidx = new Array<number>(d).fill(0);
    for (let k = 0; k < outer; k++) {
      let base = 0;
      for (let e = 0; e < d; e++) base += oidx[e] * stride[e];
      for (let r = 1; r < reps[d]; r++) ov.copyWithin(base + r * block, base, base + block);
      for (let e = d - 1; e >= 0; e--) {
        if (++oidx[e] < x.shape[e]) break;
        oidx[e] = 0;
      }
    }
  }
  return out;
};
