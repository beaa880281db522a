/**
 * Binary ops of a full float32 tensor [..., C] with a channel vector ([C] or [1, ..., 1, C]), the
 * pattern of batch-norm and its gradient. The stock wasm kernels take a generic broadcasting path
 * for it; pack.wasm runs it with SIMD. Every other case goes to the stock kernel.
 * @module
 */
import type { KernelFunc, TensorInfo } from "@tensorflow/tfjs-core";
import { kernelIo } from "./_io.ts";
import { callStock } from "./_stock.ts";
import { simdKernels } from "./_simd.ts";
import { runThreaded } from "./threads.ts";

/** rowBroadcast op codes of pack.wasm. */
export const ROW_OP = { mul: 0, add: 1, sub: 2, rsub: 3, div: 4 } as const;

function isChannelVector(v: TensorInfo, full: TensorInfo): boolean {
  const c = full.shape[full.shape.length - 1];
  if (v.shape.length === 0 || v.shape.length > full.shape.length) return false;
  if (v.shape[v.shape.length - 1] !== c) return false;
  return v.shape.slice(0, -1).every((d) => d === 1);
}

function elementwiseJs(a: Float32Array, b: Float32Array, out: Float32Array, op: number): void {
  const n = a.length;
  if (op === 0) { for (let i = 0; i < n; i++) out[i] = a[i] * b[i]; }
  else if (op === 1) { for (let i = 0; i < n; i++) out[i] = a[i] + b[i]; }
  else if (op === 2) { for (let i = 0; i < n; i++) out[i] = a[i] - b[i]; }
  else for (let i = 0; i < n; i++) out[i] = a[i] / b[i];
}

function rowBroadcastJs(a: Float32Array, v: Float32Array, out: Float32Array, op: number): void {
  const c = v.length;
  for (let o = 0; o < a.length; o += c) {
    for (let j = 0; j < c; j++) {
      const x = a[o + j];
      const y = v[j];
      out[o + j] = op === 0 ? x * y : op === 1 ? x + y : op === 2 ? x - y : op === 3 ? y - x : x / y;
    }
  }
}

/**
 * A kernel for `a (op) b`: `op` when b is the channel vector, `swapped` when a is (null: no fast
 * path for that order).
 */
export function rowBroadcastKernel(
  kernelName: string,
  ops: { op: number; swapped: number | null },
): KernelFunc {
  const { op, swapped } = ops;
  return (args) => {
    const { inputs, backend } = args;
    const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
    const io = kernelIo(backend as never);
    const floats = a.dtype === "float32" && b.dtype === "float32";
    const simd = floats ? simdKernels(backend as never) : null;
    // cpu backend: JS loop (its stock kernels broadcast through per-element index arithmetic).
    if (simd || (floats && io.backendName === "cpu")) {
      let full: TensorInfo | null = null;
      let vec: TensorInfo | null = null;
      let code = op;
      const na = a.shape.reduce((p, d) => p * d, 1);
      const nb = b.shape.reduce((p, d) => p * d, 1);
      if (na > nb && isChannelVector(b, a)) {
        full = a;
        vec = b;
      } else if (swapped !== null && nb > na && b.shape.length >= 2 && isChannelVector(a, b)) {
        full = b;
        vec = a;
        code = swapped;
      }
      if (
        !full && na === nb && a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i])
      ) {
        // Same shapes: one SIMD pass (split over the pack's threads), or on cpu one typed loop
        // instead of a closure call per element.
        const out = io.alloc(a.shape, "float32", false);
        if (simd) {
          runThreaded(simd.fns, "elementwise", [simd.ptr(a), simd.ptr(b), simd.ptr(out), na, op], na);
        } else {
          elementwiseJs(io.floats(a), io.floats(b), io.floats(out), op);
        }
        return out;
      }
      if (!simd && !full && nb === 1 && na > 1 && b.shape.length <= a.shape.length) {
        full = a;
        vec = b;
      } else if (
        !simd && !full && na === 1 && nb > 1 && swapped !== null && a.shape.length <= b.shape.length
      ) {
        full = b;
        vec = a;
        code = swapped;
      }
      if (full && vec) {
        const c = full.shape[full.shape.length - 1];
        const n = full.shape.reduce((p, d) => p * d, 1);
        const out = io.alloc(full.shape, "float32", false);
        if (simd) {
          runThreaded(simd.fns, "rowBroadcast", [
            simd.ptr(full),
            simd.ptr(vec),
            simd.ptr(out),
            n / c,
            c,
            code,
          ], n);
        } else {
          rowBroadcastJs(io.floats(full), io.floats(vec), io.floats(out), code);
        }
        return out;
      }
    }
    return callStock(kernelName, args);
  };
}
