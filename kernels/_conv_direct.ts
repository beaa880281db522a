/**
 * pack.wasm's direct convolution (`conv2dDirect`): NHWC, output channels a multiple of 8, with an
 * optional per-channel bias and ReLU, split over the pack's threads by output rows. Serves Conv2D,
 * FusedConv2D and the stride-1 input gradient of Conv2D (a convolution of dy with the flipped filter).
 * @module
 */
import type { TensorInfo } from "@tensorflow/tfjs-core";
import type { KernelIo } from "./_io.ts";
import type { ConvGeometry } from "./_geometry.ts";
import { geometryBlock, type SimdKernels } from "./_simd.ts";
import { runThreaded } from "./threads.ts";

/** Whether `conv2dDirect` computes this geometry (the 8-wide output-channel tiles must fill). */
export function fitsConvDirect(g: ConvGeometry): boolean {
  return g.outC % 8 === 0 && g.outC > 0 && g.inC > 0 && g.outH > 0 && g.outW > 0;
}

/** out = act(conv(x, filter) + bias) for the geometry `g`; returns a new [batch, outH, outW, outC] tensor. */
export function convDirect(
  io: KernelIo,
  simd: SimdKernels,
  g: ConvGeometry,
  opts: { x: TensorInfo; filter: TensorInfo; bias?: TensorInfo; relu?: boolean },
): TensorInfo {
  const out = io.alloc([g.batch, g.outH, g.outW, g.outC], "float32", false);
  const geo = io.alloc([15], "int32", false);
  io.values(geo).set(geometryBlock(g));
  const zeros = io.alloc([g.inC]);
  const p = simd.ptr;
  runThreaded(
    simd.fns,
    "conv2dDirect",
    [p(opts.x), p(opts.filter), opts.bias ? p(opts.bias) : 0, p(out), p(geo), p(zeros), opts.relu ? 1 : 0],
    g.batch * g.outH * g.outW * g.outC * g.fh * g.fw,
  );
  io.free(geo);
  io.free(zeros);
  return out;
}
