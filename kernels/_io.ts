/**
 * Backend-neutral access to tensor memory for the kernel pack: the same kernel body runs on the
 * wasm backend (tensors live on the WebAssembly heap) and on the cpu backend (tensors are JS
 * typed arrays).
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { backend_util, DataType, KernelBackend, TensorInfo } from "@tensorflow/tfjs-core";

/** The parts of `BackendWasm` (tfjs-backend-wasm 4.22) the kernels use. */
interface WasmBackendLike extends KernelBackend {
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): backend_util.TypedArray;
}

/** The parts of `MathBackendCPU` (tfjs-backend-cpu 4.22) the kernels use. */
interface CpuBackendLike extends KernelBackend {
  data: { get(dataId: object): { values: backend_util.BackendValues } };
  makeTensorInfo(shape: number[], dtype: DataType, values?: backend_util.BackendValues): TensorInfo;
  disposeIntermediateTensorInfo(t: TensorInfo): void;
}

/** Memory access used by every kernel of the pack. */
export interface KernelIo {
  /** Name of the backend the kernel runs on (`wasm` or `cpu`). */
  readonly backendName: string;
  /**
   * The tensor's values. On wasm this is a view of the heap: take it again after any allocation
   * (`alloc`, `matMul`), because a heap growth detaches earlier views.
   */
  values(t: TensorInfo): backend_util.TypedArray;
  /** Shorthand for a float32 tensor's values. */
  floats(t: TensorInfo): Float32Array;
  /**
   * A new tensor owned by the caller (returned as output or freed with `free`), zero-filled unless
   * `zero` is false (for buffers the caller overwrites completely).
   */
  alloc(shape: number[], dtype?: DataType, zero?: boolean): TensorInfo;
  /** Releases an intermediate tensor from `alloc` or `matMul`. */
  free(t: TensorInfo): void;
  /** `a·b` (rank 3, batch 1 or broadcast) through the backend's own BatchMatMul (XNNPACK on wasm). */
  matMul(a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean): TensorInfo;
}

const ioCache = new WeakMap<KernelBackend, KernelIo>();

/** Returns the memory accessor for a backend instance (the wasm or the cpu backend). */
export function kernelIo(backend: KernelBackend): KernelIo {
  const cached = ioCache.get(backend);
  if (cached) return cached;
  const backendName = "typedArrayFromHeap" in backend ? "wasm" : "makeTensorInfo" in backend ? "cpu" : "";
  const bmm = tf.getKernel("BatchMatMul", backendName);
  if (!bmm) throw new Error(`kernel pack: BatchMatMul is not registered for backend '${backendName}'`);
  const matMul = (a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean) =>
    bmm.kernelFunc({ inputs: { a, b }, backend, attrs: { transposeA, transposeB } }) as TensorInfo;
  let io: KernelIo;
  if (backendName === "wasm") {
    const wb = backend as WasmBackendLike;
    io = {
      backendName,
      values: (t) => wb.typedArrayFromHeap(t),
      floats: (t) => wb.typedArrayFromHeap(t) as Float32Array,
      alloc: (shape, dtype = "float32", zero = true) => {
        const t = wb.makeOutput(shape, dtype);
        // makeOutput does not clear reused heap memory.
        if (zero) wb.typedArrayFromHeap(t).fill(0);
        return t;
      },
      free: (t) => {
        wb.disposeData(t.dataId);
      },
      matMul,
    };
  } else if (backendName === "cpu") {
    const cb = backend as CpuBackendLike;
    const values = (t: TensorInfo) => cb.data.get(t.dataId).values as backend_util.TypedArray;
    io = {
      backendName,
      values,
      floats: (t) => {
        const v = values(t);
        return v instanceof Float32Array ? v : Float32Array.from(v as ArrayLike<number>);
      },
      alloc: (shape, dtype = "float32") => {
        const n = shape.reduce((a, b) => a * b, 1);
        const arr = dtype === "int32"
          ? new Int32Array(n)
          : dtype === "bool"
          ? new Uint8Array(n)
          : new Float32Array(n);
        return cb.makeTensorInfo(shape, dtype, arr);
      },
      free: (t) => cb.disposeIntermediateTensorInfo(t),
      matMul,
    };
  } else {
    throw new Error(`kernel pack: unsupported backend '${backendName}' (expected wasm or cpu)`);
  }
  ioCache.set(backend, io);
  return io;
}
