/**
 * MaxPoolGrad. The stock wasm kernel loses gradient mass when a window holds only negative values
 * (it starts its running max at 0); the cpu kernel is slow. The gradient goes to the first maximum
 * of each window in row-major order, like the cpu backend; padding never wins.
 * @module
 */
import type { KernelFunc, NamedAttrMap, TensorInfo } from "@tensorflow/tfjs-core";
import { kernelIo } from "./_io.ts";
import { poolGeometry } from "./_geometry.ts";
import { geometryBlock, simdKernels } from "./_simd.ts";
import { runThreaded } from "./threads.ts";

/** Kernel name in the tfjs registry. */
export const kernelName = "MaxPoolGrad";

/** dx[argmax of window] += dy[window], per channel. */
export const kernelFunc: KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
  const io = kernelIo(backend as never);
  const g = poolGeometry(input.shape, attrs as NamedAttrMap);
  const { batch, inH, inW, inC: C, outH, outW, fh, fw, sh, sw, dh, dw, padTop, padLeft } = g;
  const simd = simdKernels(backend as never);
  // The SIMD kernel zeroes dx itself, on its threads.
  const out = io.alloc(input.shape, "float32", !simd);
  if (simd) {
    const geo = io.alloc([15], "int32");
    io.values(geo).set(geometryBlock(g));
    runThreaded(simd.fns, "maxPoolGrad", [
      simd.ptr(input),
      simd.ptr(dy),
      simd.ptr(out),
      simd.ptr(geo),
    ]);
    io.free(geo);
    return out;
  }
  const xv = io.floats(input);
  const dyv = io.floats(dy);
  const dxv = io.floats(out);
  const best = new Float32Array(C);
  const bestAt = new Int32Array(C);
  for (let b = 0; b < batch; b++) {
    const xb = b * inH * inW * C;
    for (let oh = 0; oh < outH; oh++) {
      for (let ow = 0; ow < outW; ow++) {
        best.fill(-Infinity);
        bestAt.fill(-1);
        for (let r = 0; r < fh; r++) {
          const ih = oh * sh - padTop + r * dh;
          if (ih < 0 || ih >= inH) continue;
          for (let s = 0; s < fw; s++) {
            const iw = ow * sw - padLeft + s * dw;
            if (iw < 0 || iw >= inW) continue;
            const xo = xb + (ih * inW + iw) * C;
            for (let c = 0; c < C; c++) {
              const v = xv[xo + c];
              if (v > best[c]) {
                best[c] = v;
                bestAt[c] = xo + c;
              }
            }
          }
        }
        const dyo = ((b * outH + oh) * outW + ow) * C;
        for (let c = 0; c < C; c++) {
          if (bestAt[c] >= 0) dxv[bestAt[c]] += dyv[dyo + c];
        }
      }
    }
  }
  return out;
};
