/**
 * Conv2DBackpropFilter (dL/dW of a 2-D convolution): missing on tfjs-backend-wasm 4.22 and very slow
 * on the cpu backend. im2col writes the transposed patch matrix colᵀ [K, P] (K = fh·fw·ci,
 * P = images·outH·outW) and the backend's GEMM computes dW = colᵀ·dy, chunked over the batch.
 * @module
 */
import type { KernelFunc, NamedAttrMap, TensorInfo } from "@tensorflow/tfjs-core";
import { kernelIo } from "./_io.ts";
import { batchChunk, type ConvGeometry, convGeometry, transpose2d } from "./_geometry.ts";
import { geometryBlock, simdKernels } from "./_simd.ts";
import { runThreaded } from "./threads.ts";

/** Kernel name in the tfjs registry. */
export const kernelName = "Conv2DBackpropFilter";

/** Fills colT [K, pc] with the patches of images b0..b0+nb-1 (zeros where the window is in padding). */
function im2colT(x: Float32Array, colT: Float32Array, g: ConvGeometry, b0: number, nb: number): void {
  const { inH, inW, inC, outH, outW, fh, fw, sh, sw, dh, dw, padTop, padLeft } = g;
  const pc = nb * outH * outW;
  for (let r = 0; r < fh; r++) {
    for (let s = 0; s < fw; s++) {
      for (let c = 0; c < inC; c++) {
        let o = ((r * fw + s) * inC + c) * pc;
        for (let b = b0; b < b0 + nb; b++) {
          const xb = b * inH * inW * inC;
          for (let oh = 0; oh < outH; oh++) {
            const ih = oh * sh - padTop + r * dh;
            if (ih < 0 || ih >= inH) {
              colT.fill(0, o, o + outW);
              o += outW;
              continue;
            }
            const xr = xb + ih * inW * inC + c;
            let iw = s * dw - padLeft;
            for (let ow = 0; ow < outW; ow++, iw += sw) {
              colT[o++] = iw >= 0 && iw < inW ? x[xr + iw * inC] : 0;
            }
          }
        }
      }
    }
  }
}

/** dW = Σ_chunks colᵀ·dy through the backend GEMM, or pack.wasm's direct kernel on wasm. */
export const kernelFunc: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const a = attrs as NamedAttrMap;
  const filterShape = a.filterShape as number[];
  const io = kernelIo(backend as never);
  const g = convGeometry(x.shape, filterShape, { attrs: a, kernel: kernelName });
  const direct = simdKernels(backend as never);
  if (direct) {
    // Outer products accumulated in registers: no im2col buffer, no transposes, one pass per tap
    // block; threads split the filter's elements, so the result does not depend on their number.
    const out = io.alloc(filterShape);
    const geo = io.alloc([15], "int32");
    io.values(geo).set(geometryBlock(g));
    const p = direct.ptr;
    runThreaded(direct.fns, "convFilterGrad", [p(x), p(dy), p(out), p(geo)]);
    io.free(geo);
    return out;
  }
  const K = g.fh * g.fw * g.inC;
  const out = io.alloc(filterShape);
  const pimg = g.outH * g.outW;
  const nbMax = batchChunk(g.batch, K * pimg);
  // A 1x1 stride-1 unpadded conv: colᵀ is xᵀ.
  const pointwise = g.fh === 1 && g.fw === 1 && g.sh === 1 && g.sw === 1 && g.padTop === 0 && g.padLeft === 0;
  const colT = io.alloc([1, K, nbMax * pimg], "float32", false);
  const simd = simdKernels(backend as never);
  const geo = simd && !pointwise ? io.alloc([15], "int32") : null;
  if (geo) io.values(geo).set(geometryBlock(g));
  let acc: Float64Array | null = null;
  for (let b0 = 0; b0 < g.batch; b0 += nbMax) {
    const nb = Math.min(nbMax, g.batch - b0);
    const pc = nb * pimg;
    const col = nb === nbMax ? colT : io.alloc([1, K, pc], "float32", false);
    if (pointwise && simd) {
      const x2 = { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
      simd.fns.transpose(simd.ptr(x2) + b0 * pimg * K * 4, simd.ptr(col), pc, K);
    } else if (pointwise) {
      transpose2d(io.floats(x), io.floats(col), { rows: pc, cols: K, srcOffset: b0 * pimg * K });
    } else if (simd && geo) {
      simd.fns.im2colT(simd.ptr(x), simd.ptr(col), simd.ptr(geo), b0, nb);
    } else {
      im2colT(io.floats(x), io.floats(col), g, b0, nb);
    }
    const dyc = { dataId: dy.dataId, shape: [1, pc, g.outC], dtype: dy.dtype };
    let prod: TensorInfo;
    if (b0 === 0) {
      prod = io.matMul(col, dyc, false, false);
    } else {
      // The GEMM reads dy from the start of its buffer, so hand it a chunk copy.
      const part = io.alloc([1, pc, g.outC]);
      io.floats(part).set(io.floats(dy).subarray(b0 * pimg * g.outC, (b0 + nb) * pimg * g.outC));
      prod = io.matMul(col, part, false, false);
      io.free(part);
    }
    if (col !== colT) io.free(col);
    const pv = io.floats(prod);
    if (nbMax >= g.batch) {
      io.floats(out).set(pv);
    } else {
      acc ??= new Float64Array(pv.length);
      for (let i = 0; i < pv.length; i++) acc[i] += pv[i];
    }
    io.free(prod);
  }
  io.free(colT);
  if (geo) io.free(geo);
  if (acc) io.floats(out).set(acc);
  return out;
};
