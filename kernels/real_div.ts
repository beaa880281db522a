/**
 * RealDiv on wasm: SIMD fast path for a full float32 tensor and a channel vector (x / v);
 * every other case goes to the stock kernel.
 * @module
 */
import { ROW_OP, rowBroadcastKernel } from "./_row_broadcast.ts";

/** Kernel name in the tfjs registry. */
export const kernelName = "RealDiv";

/** Channel-vector broadcast with SIMD, else the stock kernel. */
export const kernelFunc = rowBroadcastKernel(kernelName, { op: ROW_OP.div, swapped: null });
