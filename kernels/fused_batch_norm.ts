/**
 * FusedBatchNorm (forward) on wasm: SIMD fast path for per-channel parameters (out = x·a + b per
 * channel, one pass); other layouts go to the stock kernel.
 * @module
 */
import type { KernelFunc, NamedAttrMap, TensorInfo } from "@tensorflow/tfjs-core";
import { kernelIo } from "./_io.ts";
import { callStock } from "./_stock.ts";
import { simdKernels } from "./_simd.ts";
import { kernelThreadSlots, runThreaded } from "./threads.ts";

/** Kernel name in the tfjs registry. */
export const kernelName = "FusedBatchNorm";

function perChannel(t: TensorInfo | undefined, c: number): boolean {
  return t === undefined ||
    (t.dtype === "float32" && t.shape.length >= 1 && t.shape[t.shape.length - 1] === c &&
      t.shape.slice(0, -1).every((d) => d === 1));
}

/** Per-channel batch norm with SIMD, else the stock kernel. */
export const kernelFunc: KernelFunc = (args) => {
  const { x, mean, variance, offset, scale } = args.inputs as Record<string, TensorInfo | undefined>;
  const io = kernelIo(args.backend as never);
  const simd = x && x.dtype === "float32" ? simdKernels(args.backend as never) : null;
  const c = x ? x.shape[x.shape.length - 1] : 0;
  const js = !simd && io.backendName === "cpu" && x?.dtype === "float32";
  if (
    (!simd && !js) || !x || !mean || !variance || x.shape.length < 2 ||
    ![mean, variance, offset, scale].every((t) => perChannel(t, c))
  ) {
    return callStock(kernelName, args);
  }
  const eps = (args.attrs as NamedAttrMap).varianceEpsilon as number;
  const rows = x.shape.reduce((p, d) => p * d, 1) / c;
  const out = io.alloc(x.shape, "float32", false);
  if (!simd) {
    // cpu backend: same arithmetic as pack.wasm, in JS.
    const [xv, mv, vv] = [x, mean, variance].map((t) => io.floats(t));
    const ov2 = offset ? io.floats(offset) : null;
    const sv = scale ? io.floats(scale) : null;
    const a = new Float32Array(c);
    const b = new Float32Array(c);
    for (let j = 0; j < c; j++) {
      const rs = Math.fround(1 / Math.sqrt(Math.fround(vv[j] + eps)));
      a[j] = (sv ? sv[j] : 1) * rs;
      b[j] = (ov2 ? ov2[j] : 0) - mv[j] * a[j];
    }
    const ov = io.floats(out);
    for (let o = 0; o < xv.length; o += c) {
      for (let j = 0; j < c; j++) ov[o + j] = xv[o + j] * a[j] + b[j];
    }
    return out;
  }
  const coef = io.alloc([2 * c * kernelThreadSlots()], "float32", false);
  const p = simd.ptr;
  runThreaded(simd.fns, "batchNormForward", [
    p(x),
    p(mean),
    p(variance),
    offset ? p(offset) : 0,
    scale ? p(scale) : 0,
    eps,
    rows,
    c,
    p(out),
    p(coef),
  ], rows * c);
  io.free(coef);
  return out;
};
