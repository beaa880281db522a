/**
 * The first step of pack.wasm's row-block reductions (channelSum, channelSqDev, batchNormGrad): the
 * threads split blocks of rows and write each block's f32 partial sums to `part` ([blocks, lanes]);
 * the caller combines them (channelCombine, batchNormGradCombine) and frees `part`.
 * @module
 */
import type { TensorInfo } from "@tensorflow/tfjs-core";
import type { KernelIo } from "./_io.ts";
import type { SimdKernels } from "./_simd.ts";
import { reduceScratchFloats, runThreaded } from "./threads.ts";

/** A row-block reduction of pack.wasm; its arguments end with (part, tmp, thread, threads). */
export type RowBlockFn = "channelSum" | "channelSqDev" | "batchNormGrad";

/**
 * Runs `fn` with `args` (the arguments before part and tmp) over `rows` rows of `lanes` partial sums
 * per block; returns the partials and the block count.
 */
export function rowBlockPartials(
  io: KernelIo,
  simd: SimdKernels,
  fn: RowBlockFn,
  args: number[],
  shape: { rows: number; lanes: number; work: number },
): { part: TensorInfo; blocks: number } {
  const blocks = simd.fns.reduceBlocks(shape.rows);
  const part = io.alloc([blocks * shape.lanes], "float32", false);
  const tmp = io.alloc([reduceScratchFloats(shape.lanes)], "float32", false);
  runThreaded(simd.fns, fn, [...args, simd.ptr(part), simd.ptr(tmp)], shape.work);
  io.free(tmp);
  return { part, blocks };
}
