/**
 * Relu, and a kernel the pack adds for its gradient (SaMtlReluGrad: dx = dy·step(x) in one pass,
 * where tfjs runs Step, Cast and Multiply). The stock wasm Relu runs on one thread; these run on the
 * pack's threads (SIMD on wasm, JS on cpu) with tfjs' semantics (Math.max(0, x); NaN propagates).
 * kernels/_gradients.ts routes Relu's gradient here while the pack is active.
 * @module
 */
import type { KernelFunc, TensorInfo } from "@tensorflow/tfjs-core";
import { kernelIo } from "./_io.ts";
import { callStock } from "./_stock.ts";
import { simdKernels } from "./_simd.ts";
import { runThreaded } from "./threads.ts";

/** Kernel name in the tfjs registry. */
export const kernelName = "Relu";

/** Name of the pack's Relu gradient kernel (inputs dy, x). */
export const GRAD_KERNEL = "SaMtlReluGrad";

function run(backend: unknown, a: TensorInfo, b: TensorInfo | null, op: 0 | 1): TensorInfo {
  const io = kernelIo(backend as never);
  const n = a.shape.reduce((p, d) => p * d, 1);
  const out = io.alloc(a.shape, "float32", false);
  const simd = simdKernels(backend as never);
  if (simd) {
    runThreaded(simd.fns, "reluOp", [simd.ptr(a), b ? simd.ptr(b) : 0, simd.ptr(out), n, op], n);
    return out;
  }
  const [x, dy, o] = [io.floats(a), b ? io.floats(b) : null, io.floats(out)];
  for (let i = 0; i < n; i++) {
    const v = x[i];
    o[i] = op === 0 ? Math.max(0, v) : dy![i] * (v !== v ? v : v > 0 ? 1 : 0);
  }
  return out;
}

/** max(0, x) for float32 tensors; other dtypes go to the stock kernel. */
export const kernelFunc: KernelFunc = (args) => {
  const x = args.inputs.x as TensorInfo;
  if (x.dtype !== "float32") return callStock(kernelName, args);
  return run(args.backend, x, null, 0);
};

/** The gradient kernel: dx = dy·step(x). */
export const gradKernel = {
  kernelName: GRAD_KERNEL,
  kernelFunc: (({ inputs, backend }) => {
    const { dy, x } = inputs as { dy: TensorInfo; x: TensorInfo };
    return run(backend, x, dy, 1);
  }) as KernelFunc,
};
