/**
 * Threads for the kernel pack: one training run computes its big kernels on N cores.
 *
 * tfjs-backend-wasm 4.22 cannot start its own threads under Deno (its pthread workers come from
 * `blob:` URLs that Deno's `worker_threads` rejects), so the pack brings its own: N−1 Deno workers,
 * each instantiating pack.wasm on the backend's linear memory. For that memory to be visible to
 * them, {@link useSharedWasmMemory} loads the backend's SIMD binary with its memory declared
 * shared (a one-byte change of the memory section's limits flag; nothing else in the binary
 * changes), before the backend initialises. Tensors then never move: a job passes heap offsets.
 *
 * Every threaded kernel splits its *output* elements over the threads and computes each element in
 * the same order as the one-thread path, so results are bit-identical for any thread count (and a
 * job whose threads are not ready yet simply runs all slices on the calling thread).
 *
 * XNNPACK's own kernels (forward convolutions, GEMM) stay single-threaded.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
// node:worker_threads rather than web workers: only its workers can be unref'd, so idle pack
// threads (blocked in Atomics.wait) never keep a finished process alive.
import { Worker } from "node:worker_threads";
import { CTL, CTL_SLOTS, MAX_ARGS, spinWhileEqual, type ThreadInit } from "./_thread_protocol.ts";
import { packWasmBytes } from "./_simd.ts";

/** pack.wasm exports that take (…, thread, threads) and can run threaded. */
export const THREADED_FNS = [
  "convFilterGrad",
  "depthwiseFilterGrad",
  "depthwiseInputGrad",
  "maxPoolGrad",
  "channelSum",
  "rowBroadcast",
  "elementwise",
  "batchNormGrad",
  "batchNormForward",
  "depthwise3x3",
  "conv2dDirect",
  "depthwiseFilterGrad3",
  "adamUpdate",
  "channelSqDev",
  "batchNormGradInput",
  "reluOp",
] as const;

/** Below this many elements touched a job runs on the calling thread (waking threads costs more). */
export const MIN_THREADED_WORK = 1 << 15;

/** A threaded pack function name. */
export type ThreadedFn = typeof THREADED_FNS[number];

const BINARY_NAMES = [
  "tfjs-backend-wasm.wasm",
  "tfjs-backend-wasm-simd.wasm",
  "tfjs-backend-wasm-threaded-simd.wasm",
];

let sharedMemoryRequested = false;
let requested = 1;

interface Pool {
  memory: WebAssembly.Memory;
  workers: Worker[];
  ctl: Int32Array;
  args: Float64Array;
  ready: Promise<void>;
  isReady: boolean;
}
let pool: Pool | null = null;

/**
 * Returns the backend's SIMD binary with its memory declared shared (limits flag 1 → 3). Throws if
 * the binary does not have the one defined memory with a maximum that this expects.
 */
export function shareMemoryOf(binary: Uint8Array): Uint8Array {
  const b = binary.slice();
  let p = 8;
  const leb = () => {
    let r = 0, s = 0, x;
    do {
      x = b[p++];
      r |= (x & 127) << s;
      s += 7;
    } while (x & 128);
    return r >>> 0;
  };
  while (p < b.length) {
    const id = b[p++];
    const len = leb();
    const start = p;
    if (id === 5) {
      if (leb() !== 1 || b[p] !== 1) {
        throw new Error("kernel threads: unexpected memory section in tfjs-backend-wasm-simd.wasm");
      }
      b[p] = 3;
      return b;
    }
    p = start + len;
  }
  throw new Error("kernel threads: tfjs-backend-wasm-simd.wasm defines no memory");
}

/**
 * Makes the wasm backend start on shared memory (call before it initialises; registerKernelPack
 * does). Returns false, changing nothing, when the backend is already initialised or the binary
 * cannot be read.
 */
export function useSharedWasmMemory(): boolean {
  if (sharedMemoryRequested) return true;
  if (tf.findBackend("wasm")) return false;
  try {
    const dist = new URL("./", import.meta.resolve("@tensorflow/tfjs-backend-wasm"));
    const url = new URL("tfjs-backend-wasm-simd.wasm", dist);
    if (Deno.permissions.querySync({ name: "read", path: url }).state !== "granted") return false;
    const shared = shareMemoryOf(Deno.readFileSync(url));
    const blob = URL.createObjectURL(new Blob([shared as BlobPart], { type: "application/wasm" }));
    // All three names must be mapped; only the SIMD one is loaded (tfjs disables wasm threads here).
    setWasmPaths(Object.fromEntries(BINARY_NAMES.map((n) => [n, blob])), true);
    sharedMemoryRequested = true;
    return true;
  } catch {
    return false;
  }
}

function backendMemory(): WebAssembly.Memory | null {
  const b = tf.findBackend("wasm") as unknown as { wasm?: { asm?: { memory?: unknown } } } | null;
  const m = b?.wasm?.asm?.memory;
  return m instanceof WebAssembly.Memory && m.buffer instanceof SharedArrayBuffer ? m : null;
}

function stopPool(): void {
  if (!pool) return;
  Atomics.store(pool.ctl, CTL.exit, 1);
  Atomics.add(pool.ctl, CTL.seq, 1);
  Atomics.notify(pool.ctl, CTL.seq);
  for (const w of pool.workers) w.terminate();
  pool = null;
}

function startPool(memory: WebAssembly.Memory, n: number): Pool {
  const wasm = packWasmBytes();
  if (!wasm) throw new Error("kernel threads: kernels/wasm/pack.wasm is not readable");
  const control = new SharedArrayBuffer(CTL_SLOTS * 4);
  const argBuf = new SharedArrayBuffer(MAX_ARGS * 8);
  const workers: Worker[] = [];
  const waits: Promise<void>[] = [];
  for (let i = 1; i < n; i++) {
    const w = new Worker(new URL("./_thread_worker.ts", import.meta.url));
    waits.push(
      new Promise((resolve, reject) => {
        // Unref only once serving: until then the pool's promise must keep the process alive.
        w.once("message", () => {
          w.unref();
          resolve();
        });
        w.once("error", (e: Error) => reject(new Error(`kernel threads: worker ${i} failed: ${e.message}`)));
      }),
    );
    const init: ThreadInit = { index: i, wasm, memory, control, args: argBuf, fns: [...THREADED_FNS] };
    w.postMessage(init);
    workers.push(w);
  }
  const p: Pool = {
    memory,
    workers,
    ctl: new Int32Array(control),
    args: new Float64Array(argBuf),
    isReady: false,
    ready: Promise.resolve(),
  };
  p.ready = Promise.all(waits).then(() => {
    p.isReady = true;
  });
  return p;
}

/**
 * Sets how many threads the pack's threaded kernels use (1 = none; default 1). Takes effect on the
 * wasm backend when it runs on shared memory (see {@link useSharedWasmMemory}); results do not
 * depend on it. Returns the previous setting.
 */
export function setKernelThreads(n: number): number {
  if (!Number.isInteger(n) || n < 1) {
    throw new Error(`setKernelThreads: expected a positive integer (got ${n})`);
  }
  const old = requested;
  requested = n;
  if (pool && pool.workers.length + 1 !== n) stopPool();
  return old;
}

/** The most threads a job can run on (the setting): per-thread scratch is sized with it. */
export function kernelThreadSlots(): number {
  return requested;
}

/**
 * Floats of per-thread scratch a row-block reduction (pack.as channelSum, batchNormGrad) needs for
 * `lanes` accumulators per thread: each thread's row starts a cache line after the previous one's end.
 */
export function reduceScratchFloats(lanes: number): number {
  return kernelThreadSlots() * (((lanes + 15) & ~15) + 16) + 16;
}

/** Threads the pack computes with on the active wasm backend (1 when it cannot share memory). */
export function kernelThreads(): number {
  return requested > 1 && backendMemory() ? requested : 1;
}

/**
 * Starts the threads of the current setting and resolves once they serve jobs; returns the thread
 * count in effect. Until then threaded kernels run all slices on the calling thread.
 */
export async function kernelThreadsReady(): Promise<number> {
  const n = kernelThreads();
  if (n === 1) return 1;
  const p = ensurePool();
  if (p) await p.ready;
  return n;
}

function ensurePool(): Pool | null {
  if (requested === 1) return null;
  const memory = backendMemory();
  if (!memory) return null;
  if (pool && pool.memory !== memory) stopPool();
  pool ??= startPool(memory, requested);
  return pool;
}

/**
 * Runs `fns[fn](...args, t, n)` for t = 0..n−1: slice 0 on this thread, the others on the pool's
 * threads; returns when all are done. With one thread, threads not ready, or less than
 * {@link MIN_THREADED_WORK} elements of `work`, it runs the whole job here as one slice.
 */
export function runThreaded(module: object, fn: ThreadedFn, args: number[], work = Infinity): void {
  const fns = module as Record<ThreadedFn, (...a: number[]) => void>;
  const p = work < MIN_THREADED_WORK ? null : ensurePool();
  if (!p || !p.isReady) {
    fns[fn](...args, 0, 1);
    return;
  }
  if (args.length > MAX_ARGS) throw new Error(`kernel threads: too many arguments for ${fn}`);
  const n = p.workers.length + 1;
  const { ctl } = p;
  p.args.set(args);
  Atomics.store(ctl, CTL.done, 0);
  Atomics.store(ctl, CTL.failed, 0);
  ctl[CTL.fn] = THREADED_FNS.indexOf(fn);
  ctl[CTL.threads] = n;
  ctl[CTL.argc] = args.length;
  Atomics.add(ctl, CTL.seq, 1);
  Atomics.notify(ctl, CTL.seq);
  try {
    fns[fn](...args, 0, n);
  } finally {
    // Wait for the other slices even if ours threw: they write into the same output.
    for (let done = Atomics.load(ctl, CTL.done); done < n - 1; done = Atomics.load(ctl, CTL.done)) {
      if (spinWhileEqual(ctl, CTL.done, done) === done) Atomics.wait(ctl, CTL.done, done, 1000);
    }
  }
  if (Atomics.load(ctl, CTL.failed)) throw new Error(`kernel threads: ${fn} failed on a worker thread`);
}

/** Stops the pack's threads (the setting is kept; the next threaded kernel restarts them). */
export function stopKernelThreads(): void {
  stopPool();
}
