/**
 * Loader of the pack's WebAssembly SIMD kernels (kernels/wasm/pack.wasm, built from pack.as by
 * `deno task build:kernels`). The module imports the tfjs wasm backend's linear memory, so its
 * functions take heap byte offsets of tensors directly.
 * @module
 */
import type { KernelBackend, TensorInfo } from "@tensorflow/tfjs-core";
import type { ConvGeometry } from "./_geometry.ts";

/**
 * A row-block reduction of pack.wasm (kernels/_row_blocks.ts): its leading pointers, then the rows
 * and channels, the block partials, the per-thread scratch, and the thread's slice.
 */
type RowBlockReduction<Lead extends number[]> = (
  ...args: [...Lead, rows: number, c: number, part: number, tmp: number, t: number, nt: number]
) => void;

/** Exports of pack.wasm (pointers are byte offsets on the tfjs wasm heap). */
export interface PackWasm {
  channelSum: RowBlockReduction<[x: number]>;
  channelCombine(part: number, nb: number, c: number, scale: number, out: number): void;
  reduceBlocks(rows: number): number;
  channelSqDev: RowBlockReduction<[x: number, mean: number]>;
  batchNormGradInput(
    dy: number,
    x: number,
    mean: number,
    coef: number,
    dx: number,
    rows: number,
    c: number,
    t: number,
    nt: number,
  ): void;
  rowBroadcast(
    a: number,
    v: number,
    out: number,
    rows: number,
    c: number,
    op: number,
    t: number,
    nt: number,
  ): void;
  elementwise(a: number, b: number, out: number, n: number, op: number, t: number, nt: number): void;
  reluOp(a: number, b: number, out: number, n: number, op: number, t: number, nt: number): void;
  depthwiseFilterGrad(
    x: number,
    dy: number,
    out: number,
    g: number,
    part: number,
    acc: number,
    t: number,
    nt: number,
  ): void;
  depthwiseInputGrad(dy: number, w: number, dx: number, g: number, t: number, nt: number): void;
  maxPoolGrad(x: number, dy: number, dx: number, g: number, t: number, nt: number): void;
  depthwise3x3(src: number, w: number, dst: number, dims: number, zeros: number, t: number, nt: number): void;
  conv2dDirect(
    x: number,
    w: number,
    bias: number,
    out: number,
    g: number,
    zeros: number,
    act: number,
    t: number,
    nt: number,
  ): void;
  depthwiseFilterGrad3(
    x: number,
    dy: number,
    out: number,
    g: number,
    zeros: number,
    acc: number,
    t: number,
    nt: number,
  ): void;
  convFilterGrad(x: number, dy: number, dw: number, g: number, t: number, nt: number): void;
  im2colT(x: number, colT: number, g: number, b0: number, nb: number): void;
  batchNormForward(
    x: number,
    mean: number,
    variance: number,
    offset: number,
    scale: number,
    eps: number,
    rows: number,
    c: number,
    out: number,
    coef: number,
    t: number,
    nt: number,
  ): void;
  transpose(src: number, dst: number, rows: number, cols: number): void;
  adamUpdate(
    x: number,
    g: number,
    m: number,
    v: number,
    xo: number,
    mo: number,
    vo: number,
    n: number,
    b1: number,
    omb1: number,
    b2: number,
    omb2: number,
    c1: number,
    c2: number,
    negLr: number,
    eps: number,
    t: number,
    nt: number,
  ): void;
  batchNormGrad: RowBlockReduction<[dy: number, x: number, mean: number]>;
  batchNormGradCombine(
    part: number,
    rows: number,
    c: number,
    variance: number,
    scale: number,
    eps: number,
    dmean: number,
    dvar: number,
    dscale: number,
    doffset: number,
    coef: number,
  ): void;
}

/** The SIMD kernels bound to one wasm backend instance. */
export interface SimdKernels {
  fns: PackWasm;
  /** Heap byte offset of a tensor. */
  ptr(t: TensorInfo): number;
}

interface WasmBackendInternals {
  wasm: { asm: { memory: WebAssembly.Memory } };
  dataIdMap: { get(dataId: object): { memoryOffset: number } };
}

let enabled = true;
const bound = new WeakMap<KernelBackend, SimdKernels | null>();

/** Turns the SIMD kernels on or off (tests and benches compare both paths); returns the old value. */
export function setSimdKernelsEnabled(on: boolean): boolean {
  const old = enabled;
  enabled = on;
  return old;
}

interface Loaded {
  bytes: Uint8Array<ArrayBuffer>;
  module: WebAssembly.Module;
}
/** pack.wasm (ordinary imported memory) and pack-shared.wasm (shared imported memory). */
const loaded = new Map<boolean, Loaded | null>();

function load(shared: boolean): Loaded | null {
  if (!loaded.has(shared)) {
    const url = new URL(shared ? "./wasm/pack-shared.wasm" : "./wasm/pack.wasm", import.meta.url);
    let result: Loaded | null = null;
    try {
      // Query first: without read permission Deno would otherwise prompt on a terminal.
      const granted = url.protocol === "file:" &&
        Deno.permissions.querySync({ name: "read", path: url }).state === "granted";
      if (granted) {
        const bytes = Deno.readFileSync(url);
        result = { bytes, module: new WebAssembly.Module(bytes) };
      }
    } catch {
      result = null;
    }
    loaded.set(shared, result);
  }
  return loaded.get(shared) ?? null;
}

/** Whether pack.wasm could be loaded (false without read permission or without the file). */
export function simdKernelsAvailable(): boolean {
  return load(false) !== null;
}

/** pack-shared.wasm's bytes (for the pack's worker threads), or null when it cannot be loaded. */
export function packWasmBytes(): Uint8Array<ArrayBuffer> | null {
  return load(true)?.bytes ?? null;
}

/** The SIMD kernels for a wasm backend instance, or null (cpu backend, disabled, or unavailable). */
export function simdKernels(backend: KernelBackend): SimdKernels | null {
  if (!enabled) return null;
  const cached = bound.get(backend);
  if (cached !== undefined) return cached;
  const wb = backend as unknown as WasmBackendInternals;
  let result: SimdKernels | null = null;
  const memory = wb.wasm?.asm?.memory;
  const pack = memory instanceof WebAssembly.Memory ? load(memory.buffer instanceof SharedArrayBuffer) : null;
  if (memory && pack) {
    const instance = new WebAssembly.Instance(pack.module, { env: { memory } });
    result = {
      fns: instance.exports as unknown as PackWasm,
      ptr: (t) => wb.dataIdMap.get(t.dataId).memoryOffset,
    };
  }
  bound.set(backend, result);
  return result;
}

/** Writes the 15-int geometry block the window kernels of pack.wasm read (14 = output channels). */
export function geometryBlock(g: ConvGeometry): Int32Array {
  return Int32Array.from([
    g.batch,
    g.inH,
    g.inW,
    g.inC,
    g.outH,
    g.outW,
    g.fh,
    g.fw,
    g.sh,
    g.sw,
    g.dh,
    g.dw,
    g.padTop,
    g.padLeft,
    g.outC,
  ]);
}
