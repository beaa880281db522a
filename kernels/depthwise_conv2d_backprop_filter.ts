/**
 * DepthwiseConv2dNativeBackpropFilter (dL/dW of a depthwise convolution): missing on
 * tfjs-backend-wasm 4.22. Direct loops with channel-contiguous inner loops and float64 accumulation.
 * @module
 */
import type { KernelFunc, NamedAttrMap, TensorInfo } from "@tensorflow/tfjs-core";
import { kernelIo } from "./_io.ts";
import { convGeometry } from "./_geometry.ts";
import { geometryBlock, simdKernels } from "./_simd.ts";
import { runThreaded } from "./threads.ts";

/** Kernel name in the tfjs registry. */
export const kernelName = "DepthwiseConv2dNativeBackpropFilter";

/** dW[r, s, c, m] = Σ_{b, oh, ow} x[b, ih, iw, c] · dy[b, oh, ow, c·M + m]. */
export const kernelFunc: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const a = attrs as NamedAttrMap;
  const filterShape = a.filterShape as number[];
  const io = kernelIo(backend as never);
  const g = convGeometry(x.shape, filterShape, { attrs: a, kernel: kernelName, depthwise: true });
  const { batch, inH, inW, inC, outH, outW, outC, fh, fw, sh, sw, dh, dw, padTop, padLeft } = g;
  const M = outC / inC;
  const out = io.alloc(filterShape);
  const simd = M === 1 ? simdKernels(backend as never) : null;
  if (simd && fh === 3 && fw === 3 && sh === 1 && sw === 1 && dh === 1 && dw === 1 && inC % 4 === 0) {
    // 3×3 stride 1 (separable convolutions): nine register sums per 4 channels.
    const geo = io.alloc([15], "int32");
    io.values(geo).set(geometryBlock(g));
    const zeros = io.alloc([inW * inC]);
    const acc = io.alloc([2 * 9 * inC], "float32", false);
    runThreaded(simd.fns, "depthwiseFilterGrad3", [
      simd.ptr(x),
      simd.ptr(dy),
      simd.ptr(out),
      simd.ptr(geo),
      simd.ptr(zeros),
      simd.ptr(acc),
    ]);
    [geo, zeros, acc].forEach(io.free);
    return out;
  }
  if (simd) {
    const n = fh * fw * inC;
    const geo = io.alloc([15], "int32");
    const part = io.alloc([n]);
    const acc = io.alloc([2 * n]);
    io.values(geo).set(geometryBlock(g));
    runThreaded(simd.fns, "depthwiseFilterGrad", [
      simd.ptr(x),
      simd.ptr(dy),
      simd.ptr(out),
      simd.ptr(geo),
      simd.ptr(part),
      simd.ptr(acc),
    ]);
    [geo, part, acc].forEach(io.free);
    return out;
  }
  const xv = io.floats(x);
  const dyv = io.floats(dy);
  const acc = new Float64Array(fh * fw * outC);
  for (let b = 0; b < batch; b++) {
    for (let oh = 0; oh < outH; oh++) {
      const dyRow = ((b * outH + oh) * outW) * outC;
      for (let r = 0; r < fh; r++) {
        const ih = oh * sh - padTop + r * dh;
        if (ih < 0 || ih >= inH) continue;
        const xRow = ((b * inH + ih) * inW) * inC;
        for (let s = 0; s < fw; s++) {
          const ab = (r * fw + s) * outC;
          for (let ow = 0; ow < outW; ow++) {
            const iw = ow * sw - padLeft + s * dw;
            if (iw < 0 || iw >= inW) continue;
            const xo = xRow + iw * inC;
            const dyo = dyRow + ow * outC;
            if (M === 1) {
              for (let c = 0; c < inC; c++) acc[ab + c] += xv[xo + c] * dyv[dyo + c];
            } else {
              for (let c = 0; c < inC; c++) {
                const xc = xv[xo + c];
                for (let m = 0; m < M; m++) acc[ab + c * M + m] += xc * dyv[dyo + c * M + m];
              }
            }
          }
        }
      }
    }
  }
  io.floats(out).set(acc);
  return out;
};
