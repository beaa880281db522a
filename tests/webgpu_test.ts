/**
 * The WebGPU pack on whatever adapter Deno finds (Mesa's llvmpipe in CI: .ci/run installs
 * mesa-vulkan-drivers): each WGSL kernel against tfjs' reference cpu kernels, a whole mini-Xception
 * gradient, and the queue counts of a training step. Ignored, with a note, where no adapter exists.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { initBackend, probeWebgpu } from "../runner/backend.ts";
import { ensureReferenceBackend, relativeError } from "../runner/self_check.ts";
import { gpuClassOf, tablePrefersWebgpu } from "../runner/gpu_table.ts";
import { isWebgpuPackRegistered, registerWebgpuPack, unregisterWebgpuPack } from "../kernels/webgpu/mod.ts";
import { installWebgpuCounters, stepFields } from "../bench/webgpu_counters.ts";
import { buildMiniXception, disposeBatch, multiHeadLoss, randomBatch } from "../bench/_test_models.ts";
import { Rng } from "../core/rng.ts";
import { profileWebgpuTraining } from "../bench/webgpu_bench.ts";
import { skipWithout } from "./_required_tools.ts";

const probe = await probeWebgpu();

function normal(n: number, seed: number, scale = 1): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => rng.normal() * scale);
}

const size = (shape: number[]) => shape.reduce((p, d) => p * d, 1);

Deno.test("gpu table: auto uses webgpu only where it was measured faster", () => {
  assert.equal(gpuClassOf("4318 9008 NVIDIA H100 80GB HBM3"), "nvidia-hopper");
  assert.equal(gpuClassOf("llvmpipe (LLVM 15.0.6, 256 bits)"), null);
  // The committed table: the pack measured on an H200 beats that host's single CPU thread (docs/engine.md).
  assert.equal(tablePrefersWebgpu("NVIDIA H100 80GB HBM3", "mini_xception48")?.webgpu, true);
  assert.equal(tablePrefersWebgpu("NVIDIA H100 80GB HBM3", "unmeasured9"), null);
  const table = [
    {
      gpuClass: "nvidia-hopper",
      workload: "w",
      webgpuImgPerSec: 10,
      cpuImgPerSec: 20,
      webgpuPack: null,
      source: "a",
    },
    {
      gpuClass: "nvidia-hopper",
      workload: "w",
      webgpuImgPerSec: 900,
      cpuImgPerSec: 20,
      webgpuPack: "x",
      source: "b",
    },
  ];
  assert.equal(tablePrefersWebgpu("NVIDIA H200", "w", table)?.webgpu, true);
});

Deno.test({
  name: "webgpu pack",
  ignore: skipWithout(probe !== null, "no WebGPU adapter (apt-get install mesa-vulkan-drivers libvulkan1)"),
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async (t) => {
    const info = await initBackend({ backend: "webgpu", quiet: true });
    assert.equal(info.name, "webgpu");
    assert.ok(isWebgpuPackRegistered());
    assert.equal(info.selfCheck?.ok, true);
    const reference = ensureReferenceBackend();
    const counters = installWebgpuCounters();

    await t.step("fused Adam matches tfjs' Adam on the reference cpu backend", async () => {
      const shapes = [[3, 3, 2, 5], [7], [130]];
      const run = async (backend: string) => {
        await tf.setBackend(backend);
        const vars = shapes.map((s, i) =>
          tf.variable(tf.tensor(normal(size(s), 10 + i), s), true, `adam_t_${backend}_${i}`)
        );
        const opt = tf.train.adam(0.01);
        counters.reset();
        for (let step = 0; step < 3; step++) {
          const grads: Record<string, tf.Variable> = {};
          vars.forEach((v, i) =>
            grads[v.name] = tf.tensor(normal(size(shapes[i]), 100 * step + i, 0.5), shapes[i]) as tf.Variable
          );
          opt.applyGradients(grads);
          tf.dispose(Object.values(grads));
        }
        const fused = counters.snapshot().byKernel["SaMtlAdamUpdate"] ?? 0;
        const weights = await opt.getWeights();
        const out = [...vars, ...weights.slice(1).map((w) => w.tensor)];
        const values = await Promise.all(
          out.map(async (x) => Float32Array.from(await x.data() as Float32Array)),
        );
        opt.dispose();
        tf.dispose(vars);
        return { values, fused };
      };
      const want = await run(reference);
      const got = await run("webgpu");
      assert.equal(got.fused, 9, "the fused kernel ran once per variable and step");
      assert.equal(got.values.length, want.values.length);
      got.values.forEach((v, i) => {
        const e = relativeError(v, want.values[i]);
        assert.ok(e < 1e-5, `Adam output ${i}: relative error ${e}`);
      });
    });

    await t.step("fused batch norm matches tfjs-layers on the reference cpu backend", async () => {
      // Errors seen on llvmpipe: Adam ~5e-7, batch norm ~2e-7, whole network ~4e-5 (stock tfjs-webgpu: ~3e-5).
      // 189 rows (< one workgroup), 400 rows (several values per thread), odd channel counts.
      // A rank-2 input (batch norm after a dense layer) too.
      for (const shape of [[3, 7, 9, 5], [4, 10, 10, 3], [37, 6]]) {
        const c = shape[shape.length - 1];
        const run = async (backend: string) => {
          await tf.setBackend(backend);
          const layer = tfl.layers.batchNormalization({ momentum: 0.9 });
          layer.build(shape);
          layer.setWeights([
            tf.add(tf.tensor(normal(c, 1, 0.5)), 1),
            tf.tensor(normal(c, 2, 0.5)),
            tf.tensor(normal(c, 3, 0.5)),
            tf.add(tf.abs(tf.tensor(normal(c, 4, 0.5))), 0.5),
          ]);
          const x = tf.variable(
            tf.add(tf.tensor(normal(size(shape), 5, 2), shape), 0.7),
            true,
            `bn_x_${backend}_${c}`,
          );
          const w = tf.tensor(normal(size(shape), 6), shape);
          counters.reset();
          const { value, grads } = tf.variableGrads(
            () => tf.sum(tf.mul(layer.apply(x, { training: true }) as tf.Tensor, w)) as tf.Scalar,
            [x, ...layer.trainableWeights.map((v) => v.read() as tf.Variable)],
          );
          const fused = counters.snapshot().byKernel["SaMtlBatchNormStats"] ?? 0;
          const out = [
            value,
            grads[x.name],
            ...layer.trainableWeights.map((v) => grads[(v.read() as tf.Variable).name]),
          ];
          const moving = layer.getWeights().slice(2);
          const values = await Promise.all(
            [...out, ...moving].map(async (t) => Float32Array.from(await t.data() as Float32Array)),
          );
          tf.dispose([x, w, value, ...Object.values(grads), ...layer.weights.map((v) => v.read())]);
          return { values, fused };
        };
        const want = await run(reference);
        const got = await run("webgpu");
        assert.equal(got.fused, 1, "the fused batch norm ran");
        const names = ["loss", "dx", "dgamma", "dbeta", "moving mean", "moving variance"];
        got.values.forEach((v, i) => {
          const e = relativeError(v, want.values[i]);
          assert.ok(e < 1e-4, `${shape} ${names[i]}: relative error ${e}`);
        });
      }
    });

    await t.step("a mini-Xception step's gradients match the reference cpu backend", async () => {
      const grads = async (backend: string) => {
        await tf.setBackend(backend);
        const model = buildMiniXception({ size: 20, channels: 1, seed: 3 });
        const batch = randomBatch([2, 20, 20, 1], { seed: 4 });
        const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
        const { value, grads } = tf.variableGrads(() => multiHeadLoss(model, batch), vars);
        const out = [value, ...vars.map((v) => grads[v.name])];
        const values = await Promise.all(
          out.map(async (t) => Float32Array.from(await t.data() as Float32Array)),
        );
        tf.dispose([value, ...Object.values(grads)]);
        disposeBatch(batch);
        model.layers.forEach((l) => l.dispose());
        return values;
      };
      const want = await grads(reference);
      const got = await grads("webgpu");
      got.forEach((v, i) => {
        const e = relativeError(v, want[i]);
        assert.ok(e < 2e-4, `${i === 0 ? "loss" : `gradient ${i - 1}`}: relative error ${e}`);
      });
    });

    await t.step("queue counts of a training step: pack vs tfjs-webgpu as shipped", async () => {
      // Counts barely depend on batch and image size (the same graph: 279 dispatches at batch 2,
      // 274 at the 48 px batch-32 step of bench:webgpu), so a small step stands for the big one.
      await tf.setBackend("webgpu");
      const opts = { batch: 2, steps: 1, warmup: 2, counters };
      const pack = await profileWebgpuTraining("xception48", { ...opts, mode: "pack" });
      assert.ok(pack.dispatchesPerStep <= 400, `dispatches ${pack.dispatchesPerStep}`);
      assert.ok(pack.submitsPerStep <= 2, `submits ${pack.submitsPerStep}`);
      assert.ok(pack.bufferWritesPerStep <= 2 * pack.submitsPerStep, `writes ${pack.bufferWritesPerStep}`);
      assert.equal(pack.readbacksPerStep, 1);
      assert.equal(pack.readbackBytesPerStep, 4);
      assert.equal(pack.cpuForwardedOps, 0);
      assert.equal(pack.compilesAfterWarmup, 0);
      assert.ok(Number.isFinite(pack.loss));
      const tensors = tf.memory().numTensors;
      const again = await profileWebgpuTraining("xception48", { ...opts, mode: "pack" });
      assert.equal(tf.memory().numTensors, tensors, "a pack step leaks no tensors");
      assert.equal(again.dispatchesPerStep, pack.dispatchesPerStep);
      unregisterWebgpuPack();
      try {
        const stock = await profileWebgpuTraining("xception48", { ...opts, mode: "stock" });
        // The counters see what the pack removes: tfjs' per-op Adam and batch norm, and a submit
        // every 15 dispatches.
        assert.ok(stock.dispatchesPerStep > 3 * pack.dispatchesPerStep, `stock ${stock.dispatchesPerStep}`);
        assert.ok(stock.submitsPerStep >= Math.floor(stock.dispatchesPerStep / 15));
        assert.ok(stock.cpuForwardedOps > 0);
        assert.ok(stock.bufferWritesPerStep >= stock.dispatchesPerStep, "one uniform write per dispatch");
      } finally {
        registerWebgpuPack();
      }
      const fields = stepFields(counters.snapshot(), 1);
      assert.ok(fields.enqueueMsPerStep >= 0);
    });
    counters.uninstall();
    await tf.setBackend("cpu");
  },
});
