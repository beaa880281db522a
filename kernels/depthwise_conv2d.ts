/**
 * DepthwiseConv2dNative (forward) on wasm for the 3×3, stride-1, multiplier-1 case of separable
 * convolutions: pack.wasm's gathered kernel with register accumulation, split over the pack's
 * threads (XNNPACK's kernel runs on one thread). Every other case goes to the stock kernel.
 * @module
 */
import type { KernelFunc, NamedAttrMap, TensorInfo } from "@tensorflow/tfjs-core";
import { kernelIo } from "./_io.ts";
import { convGeometry } from "./_geometry.ts";
import { callStock } from "./_stock.ts";
import { simdKernels } from "./_simd.ts";
import { depthwise3x3, fitsDepthwise3x3 } from "./_depthwise3x3.ts";

/** Kernel name in the tfjs registry. */
export const kernelName = "DepthwiseConv2dNative";

/** y = depthwise conv(x, filter) via pack.wasm when it fits, else the stock kernel. */
export const kernelFunc: KernelFunc = (args) => {
  const { x, filter } = args.inputs as { x: TensorInfo; filter: TensorInfo };
  const simd = x.dtype === "float32" && filter.dtype === "float32"
    ? simdKernels(args.backend as never)
    : null;
  if (!simd) return callStock(kernelName, args);
  const g = convGeometry(x.shape, filter.shape, {
    attrs: args.attrs as NamedAttrMap,
    kernel: kernelName,
    depthwise: true,
  });
  if (!fitsDepthwise3x3(g)) return callStock(kernelName, args);
  return depthwise3x3(kernelIo(args.backend as never), simd, g, { src: x, filter, grad: false });
};
