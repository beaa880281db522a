/**
 * A kernel-pack thread (see kernels/threads.ts): instantiates pack.wasm on the tfjs wasm backend's
 * shared memory, then serves jobs posted through a shared control block until told to exit. Each
 * job names an exported pack function and its arguments; the thread runs its slice (its index of
 * the job's thread count) and counts itself done.
 * @module
 */
import { parentPort } from "node:worker_threads";
import { CTL, type ThreadInit, waitForChange } from "./_thread_protocol.ts";

parentPort?.once("message", (init: ThreadInit) => {
  const instance = new WebAssembly.Instance(new WebAssembly.Module(init.wasm), {
    env: { memory: init.memory },
  });
  const exports = instance.exports as Record<string, (...a: number[]) => void>;
  const fns = init.fns.map((name) => exports[name]);
  const ctl = new Int32Array(init.control);
  const args = new Float64Array(init.args);
  let seen = Atomics.load(ctl, CTL.seq);
  parentPort?.postMessage("ready");
  // Serve jobs synchronously: this thread does nothing else until the pool asks it to exit.
  for (;;) {
    // Only a new sequence number is a new job: taking a late wake-up for one ran the last job's slice twice
    // (an accumulating kernel added its part twice) and counted it done for the next job too.
    seen = waitForChange(ctl, CTL.seq, seen);
    if (Atomics.load(ctl, CTL.exit)) break;
    const nt = ctl[CTL.threads];
    if (init.index < nt) {
      const argc = ctl[CTL.argc];
      const a: number[] = [];
      for (let i = 0; i < argc; i++) a.push(args[i]);
      a.push(init.index, nt);
      try {
        fns[ctl[CTL.fn]](...a);
      } catch {
        // The caller checks this flag and rethrows: a failed slice must not leave it waiting.
        Atomics.store(ctl, CTL.failed, 1);
      }
    }
    Atomics.add(ctl, CTL.done, 1);
    Atomics.notify(ctl, CTL.done);
  }
  // Exit the handler; the pool terminates this worker.
});
