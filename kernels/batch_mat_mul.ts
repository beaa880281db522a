/**
 * BatchMatMul on wasm with transpose flags. The stock kernel reaches XNNPACK's fast GEMM only when
 * neither operand is transposed and falls back to a slow loop otherwise (5–15× slower), which every
 * dense-layer gradient hits (dW = xᵀ·dy, dx = dy·Wᵀ). Here the transposed operand is transposed
 * explicitly with SIMD-friendly blocked copies and the fast path is used.
 * @module
 */
import type { KernelFunc, NamedAttrMap, TensorInfo } from "@tensorflow/tfjs-core";
import { kernelIo } from "./_io.ts";
import { callStock } from "./_stock.ts";
import { simdKernels } from "./_simd.ts";

/** Kernel name in the tfjs registry. */
export const kernelName = "BatchMatMul";

/** xᵀ over the last two axes, as a new tensor (caller frees). */
function transposed(
  t: TensorInfo,
  io: ReturnType<typeof kernelIo>,
  simd: NonNullable<ReturnType<typeof simdKernels>>,
): TensorInfo {
  const r = t.shape.length;
  const rows = t.shape[r - 2];
  const cols = t.shape[r - 1];
  const batch = t.shape.slice(0, -2).reduce((p, d) => p * d, 1);
  const out = io.alloc([...t.shape.slice(0, -2), cols, rows], "float32", false);
  const src = simd.ptr(t);
  const dst = simd.ptr(out);
  for (let b = 0; b < batch; b++) {
    simd.fns.transpose(src + b * rows * cols * 4, dst + b * rows * cols * 4, rows, cols);
  }
  return out;
}

/** Transposes the flagged operands, then runs the stock (XNNPACK) kernel without flags. */
export const kernelFunc: KernelFunc = (args) => {
  const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
  const { transposeA, transposeB } = args.attrs as NamedAttrMap;
  const io = kernelIo(args.backend as never);
  const simd = a.dtype === "float32" && b.dtype === "float32" ? simdKernels(args.backend as never) : null;
  if (!simd || (!transposeA && !transposeB) || a.shape.length < 2 || b.shape.length < 2) {
    return callStock(kernelName, args);
  }
  const at = transposeA ? transposed(a, io, simd) : a;
  const bt = transposeB ? transposed(b, io, simd) : b;
  const out = callStock(kernelName, {
    ...args,
    inputs: { a: at, b: bt },
    attrs: { ...args.attrs, transposeA: false, transposeB: false },
  });
  if (at !== a) io.free(at);
  if (bt !== b) io.free(bt);
  return out;
};
