/**
 * The control block shared by kernels/threads.ts and its worker threads (kernels/_thread_worker.ts).
 * @module
 */

/** Control block slots (Int32 indices into the shared control buffer). */
export const CTL = { seq: 0, done: 1, fn: 2, threads: 3, exit: 4, argc: 5, failed: 6 } as const;

/** Int32 slots in the control buffer. */
export const CTL_SLOTS = 16;

/** Most numeric arguments a job can carry (Float64 slots in the argument buffer). */
export const MAX_ARGS = 32;

/** The first (and only) message from the pool to a thread. */
export interface ThreadInit {
  /** Thread index (1..n-1; the calling thread is 0). */
  index: number;
  /** pack.wasm bytes. */
  wasm: Uint8Array<ArrayBuffer>;
  /** The tfjs wasm backend's shared memory. */
  memory: WebAssembly.Memory;
  control: SharedArrayBuffer;
  args: SharedArrayBuffer;
  /** Export names, indexed by the job's function slot. */
  fns: string[];
}
