/**
 * Reduction over the leading axes of a float32 tensor ([..., C] → [C]), the pattern of every
 * batch-norm statistic and gradient in NHWC. The stock wasm Sum/Mean transpose the reduced axes to
 * the end first (an extra pass); pack.wasm reduces in place with SIMD.
 * @module
 */
import { util } from "@tensorflow/tfjs-core";
import type { KernelFunc, NamedAttrMap, TensorInfo } from "@tensorflow/tfjs-core";
import { kernelIo } from "./_io.ts";
import { callStock } from "./_stock.ts";
import { simdKernels } from "./_simd.ts";
import { rowBlockPartials } from "./_row_blocks.ts";

/** A Sum (mean=false) or Mean (mean=true) kernel with the leading-axes fast path. */
export function leadingReduceKernel(kernelName: string, mean: boolean): KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const x = inputs.x as TensorInfo;
    const { axis, keepDims } = attrs as NamedAttrMap;
    const io = kernelIo(backend as never);
    const simd = x.dtype === "float32" ? simdKernels(backend as never) : null;
    const rank = x.shape.length;
    const axes = util.parseAxisParam(axis as number | number[], x.shape).sort((a, b) => a - b);
    const k = axes.length;
    const leading = k > 0 && k < rank && axes.every((a, i) => a === i);
    const js = !simd && io.backendName === "cpu" && x.dtype === "float32";
    if ((!simd && !js) || !leading) return callStock(kernelName, args);
    const rows = util.sizeFromShape(x.shape.slice(0, k));
    const c = util.sizeFromShape(x.shape.slice(k));
    const outShape = keepDims ? x.shape.map((d, i) => i < k ? 1 : d) : x.shape.slice(k);
    const out = io.alloc(outShape);
    if (!simd) {
      // cpu backend: the stock kernels index every element through indexToLoc.
      const xv = io.floats(x);
      const sums = new Float64Array(c);
      for (let r = 0, o = 0; r < rows; r++) {
        for (let j = 0; j < c; j++, o++) sums[j] += xv[o];
      }
      const ov = io.floats(out);
      for (let j = 0; j < c; j++) ov[j] = mean ? sums[j] / rows : sums[j];
      return out;
    }
    const { part, blocks } = rowBlockPartials(io, simd, "channelSum", [simd.ptr(x), rows, c], {
      rows,
      lanes: c,
      work: rows * c,
    });
    simd.fns.channelCombine(simd.ptr(part), blocks, c, mean ? 1 / rows : 1, simd.ptr(out));
    io.free(part);
    return out;
  };
}
