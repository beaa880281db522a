/**
 * DepthwiseConv2dNativeBackpropInput (dL/dx of a depthwise convolution): missing on
 * tfjs-backend-wasm 4.22. Scatter loops per image with a float64 accumulator.
 * @module
 */
import type { KernelFunc, NamedAttrMap, TensorInfo } from "@tensorflow/tfjs-core";
import { kernelIo } from "./_io.ts";
import { convGeometry } from "./_geometry.ts";
import { geometryBlock, simdKernels } from "./_simd.ts";
import { runThreaded } from "./threads.ts";
import { depthwise3x3, fitsDepthwise3x3 } from "./_depthwise3x3.ts";

/** Kernel name in the tfjs registry. */
export const kernelName = "DepthwiseConv2dNativeBackpropInput";

/** dx[b, ih, iw, c] = Σ dy[b, oh, ow, c·M + m] · W[r, s, c, m] over the windows that cover (ih, iw). */
export const kernelFunc: KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const a = attrs as NamedAttrMap;
  const inputShape = a.inputShape as number[];
  const io = kernelIo(backend as never);
  const g = convGeometry(inputShape, filter.shape, { attrs: a, kernel: kernelName, depthwise: true });
  const { batch, inH, inW, inC, outH, outW, outC, fh, fw, sh, sw, dh, dw, padTop, padLeft } = g;
  const M = outC / inC;
  const simd = M === 1 ? simdKernels(backend as never) : null;
  if (simd && fitsDepthwise3x3(g)) return depthwise3x3(io, simd, g, { src: dy, filter, grad: true });
  const out = io.alloc(inputShape);
  if (simd) {
    const geo = io.alloc([15], "int32");
    io.values(geo).set(geometryBlock(g));
    runThreaded(simd.fns, "depthwiseInputGrad", [
      simd.ptr(dy),
      simd.ptr(filter),
      simd.ptr(out),
      simd.ptr(geo),
    ]);
    io.free(geo);
    return out;
  }
  const dyv = io.floats(dy);
  const wv = io.floats(filter);
  const dxv = io.floats(out);
  const imgSize = inH * inW * inC;
  const acc = new Float64Array(imgSize);
  for (let b = 0; b < batch; b++) {
    acc.fill(0);
    for (let oh = 0; oh < outH; oh++) {
      const dyRow = ((b * outH + oh) * outW) * outC;
      for (let r = 0; r < fh; r++) {
        const ih = oh * sh - padTop + r * dh;
        if (ih < 0 || ih >= inH) continue;
        for (let s = 0; s < fw; s++) {
          const wo = (r * fw + s) * outC;
          for (let ow = 0; ow < outW; ow++) {
            const iw = ow * sw - padLeft + s * dw;
            if (iw < 0 || iw >= inW) continue;
            const xo = (ih * inW + iw) * inC;
            const dyo = dyRow + ow * outC;
            if (M === 1) {
              for (let c = 0; c < inC; c++) acc[xo + c] += dyv[dyo + c] * wv[wo + c];
            } else {
              for (let c = 0; c < inC; c++) {
                let sum = 0;
                for (let m = 0; m < M; m++) sum += dyv[dyo + c * M + m] * wv[wo + c * M + m];
                acc[xo + c] += sum;
              }
            }
          }
        }
      }
    }
    dxv.set(acc, b * imgSize);
  }
  return out;
};
