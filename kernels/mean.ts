/**
 * Mean on wasm: SIMD reduction over leading axes (batch-norm moments of NHWC tensors); every other
 * case goes to the stock kernel.
 * @module
 */
import { leadingReduceKernel } from "./_leading_reduce.ts";

/** Kernel name in the tfjs registry. */
export const kernelName = "Mean";

/** Mean over the leading axes, else the stock kernel. */
export const kernelFunc = leadingReduceKernel(kernelName, true);
