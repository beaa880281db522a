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

/**
 * How long a thread polls the control block before it sleeps in Atomics.wait (microseconds). A step
 * runs hundreds of kernels of 0.1-1 ms with gaps of ~15 µs between them; waking a sleeping thread
 * through the kernel's futex costs tens of µs each way, as much as a small kernel's whole gain from a
 * second thread. Polling for a short while keeps both sides awake through those gaps; the bound keeps
 * an idle thread from burning its core.
 */
export const SPIN_MICROS = 200;

/**
 * Polls `ctl[slot]` until it differs from `seen` or {@link SPIN_MICROS} pass; returns the last value read
 * (still `seen` when the time ran out).
 */
export function spinWhileEqual(ctl: Int32Array, slot: number, seen: number, micros = SPIN_MICROS): number {
  const until = performance.now() + micros / 1000;
  for (;;) {
    for (let i = 0; i < 256; i++) {
      const v = Atomics.load(ctl, slot);
      if (v !== seen) return v;
    }
    if (performance.now() > until) return seen;
  }
}

/**
 * Returns the new value of `ctl[slot]` once it differs from `seen`: polls for {@link SPIN_MICROS}, then
 * sleeps in Atomics.wait, and goes back to waiting after a wake-up that finds the value unchanged. A wake-up
 * alone is not a new value: the poster changes the slot and notifies in two steps, so a poster descheduled
 * between them can wake a thread that already saw the change while polling, served it and went to sleep.
 */
export function waitForChange(ctl: Int32Array, slot: number, seen: number): number {
  for (;;) {
    const v = spinWhileEqual(ctl, slot, seen);
    if (v !== seen) return v;
    Atomics.wait(ctl, slot, seen);
  }
}

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
