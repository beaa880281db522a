/**
 * Conv2DBackpropInput (dL/dx of a 2-D convolution). The stock wasm kernel is a naive C++ loop and the
 * cpu one indexes element by element. Here the backend's GEMM computes the patch gradients
 * cols [P, K] = dy [P, CO] · Wᵀ [CO, K], and col2im scatters them back into dx, chunked over the batch.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { KernelFunc, NamedAttrMap, TensorInfo } from "@tensorflow/tfjs-core";
import { kernelIo } from "./_io.ts";
import { batchChunk, type ConvGeometry, convGeometry, transpose2d } from "./_geometry.ts";
import { simdKernels } from "./_simd.ts";
import { convDirect, fitsConvDirect } from "./_conv_direct.ts";

/** Kernel name in the tfjs registry. */
export const kernelName = "Conv2DBackpropInput";

/** Adds the patch gradients of images b0..b0+nb-1 into dx. */
function col2im(cols: Float32Array, dx: Float32Array, g: ConvGeometry, b0: number, nb: number): void {
  const { inH, inW, inC, outH, outW, fh, fw, sh, sw, dh, dw, padTop, padLeft } = g;
  const K = fh * fw * inC;
  let p = 0;
  for (let b = b0; b < b0 + nb; b++) {
    const xb = b * inH * inW * inC;
    for (let oh = 0; oh < outH; oh++) {
      for (let ow = 0; ow < outW; ow++, p++) {
        const cb = p * K;
        for (let r = 0; r < fh; r++) {
          const ih = oh * sh - padTop + r * dh;
          if (ih < 0 || ih >= inH) continue;
          for (let s = 0; s < fw; s++) {
            const iw = ow * sw - padLeft + s * dw;
            if (iw < 0 || iw >= inW) continue;
            const xo = xb + (ih * inW + iw) * inC;
            const co = cb + (r * fw + s) * inC;
            for (let c = 0; c < inC; c++) dx[xo + c] += cols[co + c];
          }
        }
      }
    }
  }
}

/**
 * Stride-1 case on wasm: dx is the "full" convolution of dy with the spatially flipped,
 * in/out-swapped filter, which XNNPACK's forward Conv2D runs directly. Returns null when the
 * geometry does not fit (negative padding, dilation).
 */
function viaForwardConv(
  dy: TensorInfo,
  filter: TensorInfo,
  g: ConvGeometry,
  backend: unknown,
): TensorInfo | null {
  const { fh, fw, inH, inW, outH, outW, inC, outC } = g;
  if (g.sh !== 1 || g.sw !== 1 || g.dh !== 1 || g.dw !== 1) return null;
  // 1×1 with input channels in multiples of 8 also goes through the pack's convolution (a little
  // slower than XNNPACK's GEMM on one thread, but it runs on the pack's threads, and one path for
  // every thread count keeps results identical across thread counts).
  if (fh * fw === 1 && !(simdKernels(backend as never) && inC % 8 === 0)) return null;
  const top = fh - 1 - g.padTop;
  const left = fw - 1 - g.padLeft;
  const bottom = inH - outH - top + fh - 1;
  const right = inW - outW - left + fw - 1;
  if (top < 0 || left < 0 || bottom < 0 || right < 0) return null;
  const conv = tf.getKernel("Conv2D", "wasm");
  if (!conv) return null;
  const io = kernelIo(backend as never);
  const simd = simdKernels(backend as never);
  const flipped = io.alloc([fh, fw, outC, inC]);
  const w = io.floats(filter);
  const f = io.floats(flipped);
  for (let r = 0; r < fh; r++) {
    for (let s = 0; s < fw; s++) {
      const src = ((fh - 1 - r) * fw + (fw - 1 - s)) * inC * outC;
      const dst = (r * fw + s) * outC * inC;
      for (let ci = 0; ci < inC; ci++) {
        for (let co = 0; co < outC; co++) f[dst + co * inC + ci] = w[src + ci * outC + co];
      }
    }
  }
  const flippedGeometry: ConvGeometry = {
    batch: g.batch,
    inH: outH,
    inW: outW,
    inC: outC,
    outH: inH,
    outW: inW,
    outC: inC,
    fh,
    fw,
    sh: 1,
    sw: 1,
    dh: 1,
    dw: 1,
    padTop: top,
    padLeft: left,
  };
  if (simd && fitsConvDirect(flippedGeometry)) {
    // The pack's own convolution runs on the pack's threads.
    const out = convDirect(io, simd, flippedGeometry, { x: dy, filter: flipped });
    io.free(flipped);
    return out;
  }
  const out = conv.kernelFunc({
    inputs: { x: dy, filter: flipped },
    backend: backend as never,
    attrs: {
      strides: [1, 1],
      dilations: [1, 1],
      pad: [[0, 0], [top, bottom], [left, right], [0, 0]],
      dataFormat: "NHWC",
    },
  }) as TensorInfo;
  io.free(flipped);
  return out;
}

/**
 * Strided 1×1 case without padding on wasm (the residual shortcuts): dx is zero except at the
 * strided positions, where it is dy·Wᵀ. The pack's direct convolution computes dy·Wᵀ on the pack's
 * threads (XNNPACK's GEMM runs on one), then the rows are placed. Null when it does not fit.
 */
function viaStridedPointwise(
  dy: TensorInfo,
  filter: TensorInfo,
  g: ConvGeometry,
  inputShape: number[],
  backend: unknown,
): TensorInfo | null {
  const simd = simdKernels(backend as never);
  const { inC, outC, outH, outW, inH, inW, sh, sw } = g;
  if (!simd || g.fh !== 1 || g.fw !== 1 || g.padTop !== 0 || g.padLeft !== 0 || inC % 8 !== 0) return null;
  const io = kernelIo(backend as never);
  const wT = io.alloc([1, 1, outC, inC], "float32", false);
  transpose2d(io.floats(filter), io.floats(wT), { rows: inC, cols: outC });
  const pointwise: ConvGeometry = {
    ...g,
    inH: outH,
    inW: outW,
    inC: outC,
    outC: inC,
    sh: 1,
    sw: 1,
    dh: 1,
    dw: 1,
  };
  const rows = convDirect(io, simd, pointwise, { x: dy, filter: wT });
  io.free(wT);
  const dx = io.alloc(inputShape);
  const src = io.floats(rows);
  const dst = io.floats(dx);
  for (let b = 0, p = 0; b < g.batch; b++) {
    for (let oh = 0; oh < outH; oh++) {
      for (let ow = 0; ow < outW; ow++, p += inC) {
        const at = ((b * inH + oh * sh) * inW + ow * sw) * inC;
        dst.set(src.subarray(p, p + inC), at);
      }
    }
  }
  io.free(rows);
  return dx;
}

/** dx = col2im(dy·Wᵀ) (or one forward conv, see {@link viaForwardConv}). */
export const kernelFunc: KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const a = attrs as NamedAttrMap;
  const inputShape = a.inputShape as number[];
  const io = kernelIo(backend as never);
  const g = convGeometry(inputShape, filter.shape, { attrs: a, kernel: kernelName });
  if (io.backendName === "wasm") {
    const direct = viaForwardConv(dy, filter, g, backend) ??
      viaStridedPointwise(dy, filter, g, inputShape, backend);
    if (direct) return direct;
  }
  const K = g.fh * g.fw * g.inC;
  const pimg = g.outH * g.outW;
  // XNNPACK's GEMM is slow with transpose flags: transpose W [K, CO] → Wᵀ [CO, K] once here.
  const wT = io.alloc([1, g.outC, K]);
  transpose2d(io.floats(filter), io.floats(wT), { rows: K, cols: g.outC });
  // A 1x1 stride-1 unpadded conv: dx = dy·Wᵀ is already NHWC.
  if (g.fh === 1 && g.fw === 1 && g.sh === 1 && g.sw === 1 && g.padTop === 0 && g.padLeft === 0) {
    const d3 = { dataId: dy.dataId, shape: [1, g.batch * pimg, g.outC], dtype: dy.dtype };
    const prod = io.matMul(d3, wT, false, false);
    io.free(wT);
    return { dataId: prod.dataId, shape: inputShape, dtype: prod.dtype };
  }
  const out = io.alloc(inputShape);
  const nbMax = batchChunk(g.batch, K * pimg);
  for (let b0 = 0; b0 < g.batch; b0 += nbMax) {
    const nb = Math.min(nbMax, g.batch - b0);
    const pc = nb * pimg;
    let dyc: TensorInfo = { dataId: dy.dataId, shape: [1, pc, g.outC], dtype: dy.dtype };
    let part: TensorInfo | null = null;
    if (b0 > 0) {
      part = io.alloc([1, pc, g.outC]);
      io.floats(part).set(io.floats(dy).subarray(b0 * pimg * g.outC, (b0 + nb) * pimg * g.outC));
      dyc = part;
    }
    const cols = io.matMul(dyc, wT, false, false);
    if (part) io.free(part);
    col2im(io.floats(cols), io.floats(out), g, b0, nb);
    io.free(cols);
  }
  io.free(wT);
  return out;
};
