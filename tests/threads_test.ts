import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../runner/backend.ts";
import { relativeError, runOnBackend } from "../runner/self_check.ts";
import { kernelThreads, kernelThreadsReady, setKernelThreads, stopKernelThreads } from "../kernels/mod.ts";
import { shareMemoryOf, THREADED_FNS } from "../kernels/threads.ts";
import { CTL, CTL_SLOTS, MAX_ARGS, type ThreadInit } from "../kernels/_thread_protocol.ts";
import { packWasmBytes } from "../kernels/_simd.ts";
import { buildMiniXception, disposeBatch, multiHeadLoss, randomBatch } from "../bench/_test_models.ts";
import { buildModel } from "../models/mod.ts";
import type { TaskSpec } from "../core/types.ts";

/** First-step variable gradients of a mini-Xception on the active backend. */
async function miniXceptionGrads(size: number, batchSize: number): Promise<Float32Array[]> {
  const model = buildMiniXception({ size, channels: 1, seed: 5 });
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const out = await runOnBackend("wasm", () => {
    const batch = randomBatch([batchSize, size, size, 1], { seed: 9 });
    const { grads } = tf.variableGrads(() => multiHeadLoss(model, batch), vars);
    disposeBatch(batch);
    return vars.map((v) => grads[v.name]);
  });
  model.layers.forEach((l) => l.dispose());
  return out;
}

Deno.test("kernel pack threads", async (t) => {
  const info = await initBackend({ backend: "wasm", quiet: true, threads: 2 });

  await t.step("the wasm backend runs on shared memory and the pack on 2 threads", () => {
    const memory = (tf.backend() as unknown as { wasm: { asm: { memory: WebAssembly.Memory } } }).wasm.asm
      .memory;
    assert.ok(memory.buffer instanceof SharedArrayBuffer);
    assert.equal(info.threads, 2);
    assert.equal(kernelThreads(), 2);
  });

  await t.step("the memory patch changes only the limits flag, and refuses other binaries", () => {
    // A minimal module: header + memory section with one memory, flags 1 (min 1, max 2).
    const bin = Uint8Array.from([0, 97, 115, 109, 1, 0, 0, 0, 5, 4, 1, 1, 1, 2]);
    const shared = shareMemoryOf(bin);
    assert.deepEqual([...shared], [...bin.slice(0, 11), 3, 1, 2]);
    assert.ok(new WebAssembly.Module(shared as BufferSource));
    assert.throws(() => shareMemoryOf(bin.slice(0, 8)), /defines no memory/);
    assert.throws(() => shareMemoryOf(shared), /unexpected memory section/);
  });

  await t.step("first-step gradients with 1, 2 and 3 threads agree (bit-identical)", async () => {
    setKernelThreads(1);
    const one = await miniXceptionGrads(40, 8);
    for (const n of [2, 3]) {
      setKernelThreads(n);
      assert.equal(await kernelThreadsReady(), n);
      const got = await miniXceptionGrads(40, 8);
      const again = await miniXceptionGrads(40, 8);
      assert.equal(got.length, one.length);
      got.forEach((g, i) => {
        const e = relativeError(g, one[i]);
        assert.ok(e <= 1e-4, `${n} threads, variable ${i}: relative error ${e}`);
        // Threads split output elements, never a sum: the results are the same bits.
        assert.deepEqual(g, one[i], `${n} threads, variable ${i} differs from 1 thread`);
        assert.deepEqual(again[i], g, `${n} threads, variable ${i} not deterministic`);
      });
    }
    setKernelThreads(2);
  });

  // Reference: the cpu backend with the pack's JS kernels, an implementation independent of the
  // SIMD/threaded one (every JS kernel is checked against the stock cpu kernels op by op in
  // kernels_test.ts). Stock cpu itself needs ~4 minutes for this model's convolution gradients.
  await t.step(
    "whole VGGFace (32x32x3, batch 2, 2 threads): variable gradients within 1e-4 of cpu",
    async () => {
      await kernelThreadsReady();
      const tasks: TaskSpec[] = [
        { name: "emotion", classes: 7, labels: ["0", "1", "2", "3", "4", "5", "6"] },
        { name: "pose", classes: 5, labels: ["0", "1", "2", "3", "4"] },
      ];
      const built = buildModel({
        backbone: "vggFace",
        tasks,
        inputShape: [32, 32, 3],
        seed: 3,
        head: "branch",
      });
      const vars = built.trainableWeights();
      const grads = (backend: string) =>
        runOnBackend(backend, () => {
          const batch = randomBatch([2, 32, 32, 3], { seed: 4 });
          const { grads } = tf.variableGrads(() => {
            const out = built.apply(batch.x, true);
            return tf.addN(
              tasks.map((task, i) => tf.losses.softmaxCrossEntropy(batch.y[i], out.logits[task.name]!)),
            ) as tf.Scalar;
          }, vars);
          disposeBatch(batch);
          return vars.map((v) => grads[v.name]);
        });
      await initBackend({ backend: "cpu", quiet: true, selfCheck: false });
      const want = await grads("cpu");
      await initBackend({ backend: "wasm", quiet: true, threads: 2, selfCheck: false });
      assert.equal(await kernelThreadsReady(), 2);
      const got = await grads("wasm");
      assert.equal(got.length, want.length);
      assert.ok(got.length >= 26, `${got.length} variables`);
      got.forEach((g, i) => {
        const e = relativeError(g, want[i]);
        assert.ok(e <= 1e-4, `${vars[i].name}: relative error ${e}`);
      });
      built.model.layers.forEach((l) => l.dispose());
    },
  );

  stopKernelThreads();
  setKernelThreads(1);
});

Deno.test("a pack thread takes only a new sequence number for a job, not a late wake-up", async () => {
  const { Worker } = await import("node:worker_threads");
  const wasm = packWasmBytes();
  assert.ok(wasm, "pack-shared.wasm loads");
  const control = new SharedArrayBuffer(CTL_SLOTS * 4);
  const ctl = new Int32Array(control);
  const init: ThreadInit = {
    index: 1,
    wasm,
    memory: new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true }),
    control,
    args: new SharedArrayBuffer(MAX_ARGS * 8),
    fns: [...THREADED_FNS],
  };
  const worker = new Worker(new URL("../kernels/_thread_worker.ts", import.meta.url));
  await new Promise((resolve) => {
    worker.once("message", resolve);
    worker.postMessage(init);
  });
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  try {
    // A job for one thread: the worker (index 1) runs no slice and only counts itself done.
    ctl[CTL.threads] = 1;
    Atomics.store(ctl, CTL.done, 0);
    Atomics.add(ctl, CTL.seq, 1);
    Atomics.notify(ctl, CTL.seq);
    for (let i = 0; i < 500 && Atomics.load(ctl, CTL.done) === 0; i++) await sleep(2);
    assert.equal(Atomics.load(ctl, CTL.done), 1, "the worker served the job");
    // The notify of a poster descheduled between its add and its notify arrives after the worker served the
    // job while polling and went to sleep: it must go back to sleep, not serve the job again.
    let woken = 0;
    for (let i = 0; i < 100 && woken === 0; i++) {
      await sleep(5); // past SPIN_MICROS: the worker sleeps in Atomics.wait
      woken = Atomics.notify(ctl, CTL.seq);
    }
    assert.equal(woken, 1, "the late notify woke the sleeping worker");
    await sleep(50);
    assert.equal(Atomics.load(ctl, CTL.done), 1, "a wake-up without a new job ran no job");
    // The next real job is still served once.
    Atomics.store(ctl, CTL.done, 0);
    Atomics.add(ctl, CTL.seq, 1);
    Atomics.notify(ctl, CTL.seq);
    for (let i = 0; i < 500 && Atomics.load(ctl, CTL.done) === 0; i++) await sleep(2);
    await sleep(20);
    assert.equal(Atomics.load(ctl, CTL.done), 1);
  } finally {
    Atomics.store(ctl, CTL.exit, 1);
    Atomics.add(ctl, CTL.seq, 1);
    Atomics.notify(ctl, CTL.seq);
    await worker.terminate();
  }
});
