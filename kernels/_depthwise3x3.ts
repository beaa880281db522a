/**
 * The 3×3, stride-1, channel-multiplier-1 depthwise convolution of pack.wasm (`depthwise3x3`),
 * shared by the forward kernel and the input gradient (a forward pass over dy with the flipped
 * filter). Threads split the output rows.
 * @module
 */
import type { TensorInfo } from "@tensorflow/tfjs-core";
import type { KernelIo } from "./_io.ts";
import type { ConvGeometry } from "./_geometry.ts";
import type { SimdKernels } from "./_simd.ts";
import { runThreaded } from "./threads.ts";

/** Whether the geometry is the one `depthwise3x3` computes. */
export function fitsDepthwise3x3(g: ConvGeometry): boolean {
  return g.fh === 3 && g.fw === 3 && g.sh === 1 && g.sw === 1 && g.dh === 1 && g.dw === 1 &&
    g.outC === g.inC && g.padTop >= 0 && g.padTop <= 2 && g.padLeft >= 0 && g.padLeft <= 2;
}

/**
 * Forward (`grad` false: x → y) or input gradient (`grad` true: dy → dx) of a depthwise 3×3
 * stride-1 convolution; returns a new tensor.
 */
export function depthwise3x3(
  io: KernelIo,
  simd: SimdKernels,
  g: ConvGeometry,
  opts: { src: TensorInfo; filter: TensorInfo; grad: boolean },
): TensorInfo {
  const { batch, inH, inW, outH, outW, inC: c, padTop, padLeft } = g;
  const [sH, sW, dH, dW] = opts.grad ? [outH, outW, inH, inW] : [inH, inW, outH, outW];
  const p = opts.grad ? 2 - padTop : padTop;
  const q = opts.grad ? 2 - padLeft : padLeft;
  const out = io.alloc([batch, dH, dW, c], "float32", false);
  const dims = io.alloc([9], "int32", false);
  io.values(dims).set([batch, sH, sW, dH, dW, c, p, q, opts.grad ? 1 : 0]);
  // A zero source row for the taps above and below the image.
  const zeros = io.alloc([sW * c]);
  const ptr = simd.ptr;
  runThreaded(
    simd.fns,
    "depthwise3x3",
    [ptr(opts.src), ptr(opts.filter), ptr(out), ptr(dims), ptr(zeros)],
    batch * dH * dW * c,
  );
  io.free(dims);
  io.free(zeros);
  return out;
}
