import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import { initBackend, isSoftwareAdapter, parseBackendName, probeWebgpu } from "../runner/backend.ts";
import { assertSelfCheck, runSelfCheck } from "../runner/self_check.ts";
import { KERNEL_PACK_VERSION, stockKernelConfigs } from "../kernels/mod.ts";
import { skipWithout } from "./_required_tools.ts";

Deno.test("backend selection", async (t) => {
  await t.step("--backend values", () => {
    assert.equal(parseBackendName("wasm"), "wasm");
    assert.throws(
      () => parseBackendName("gpu"),
      /--backend: unknown value 'gpu' \(expected auto\|tensorflow/,
    );
  });

  await t.step("software WebGPU adapters are recognised", () => {
    assert.ok(isSoftwareAdapter("llvmpipe (LLVM 15.0.6, 256 bits)"));
    assert.ok(isSoftwareAdapter("Google SwiftShader"));
    assert.ok(!isSoftwareAdapter("NVIDIA H100 80GB HBM3"));
  });

  // CI's adapter is llvmpipe (.ci/run installs mesa-vulkan-drivers), which the probe must call software so
  // that auto does not train on it.
  const probe = await probeWebgpu();
  await t.step({
    name: "the WebGPU probe describes the adapter; CI's llvmpipe is software",
    ignore: skipWithout(probe !== null, "no WebGPU adapter (apt-get install mesa-vulkan-drivers libvulkan1)"),
    fn: () => {
      assert.ok(probe, "probeWebgpu found no adapter");
      assert.notEqual(probe.description, "unknown adapter", "the adapter's info names it");
      if (Deno.env.get("SA_MTL_TEST_TOOLS") === "required") {
        assert.ok(
          isSoftwareAdapter(probe.description),
          `CI's adapter should be llvmpipe: ${probe.description}`,
        );
        assert.equal(probe.hardware, false);
      }
    },
  });

  await t.step("wasm: kernel pack, SIMD, one thread, self-check", async () => {
    const info = await initBackend({ backend: "wasm", quiet: true });
    assert.equal(info.name, "wasm");
    assert.equal(tf.getBackend(), "wasm");
    assert.equal(info.kernelPack, KERNEL_PACK_VERSION);
    assert.ok(info.packKernels.includes("Conv2DBackpropFilter"));
    assert.equal(info.simd, true);
    assert.equal(info.packSimd, true);
    assert.equal(info.threads, 1);
    assert.equal(info.selfCheck?.ok, true);
  });

  await t.step("cpu: kernel pack and self-check", async () => {
    const info = await initBackend({ backend: "cpu", quiet: true });
    assert.equal(info.name, "cpu");
    assert.equal(info.kernelPack, KERNEL_PACK_VERSION);
    assert.ok((info.selfCheck?.maxRelError ?? 1) < 1e-4);
  });

  await t.step("tensorflow is an explicit, optional choice", async () => {
    // tfjs-node is not part of this project's dependencies.
    await assert.rejects(
      initBackend({ backend: "tensorflow", quiet: true }),
      /--backend=tensorflow: neither/,
    );
  });

  await t.step("auto records what it skipped", async () => {
    const info = await initBackend({ quiet: true });
    assert.ok(["tensorflow", "webgpu", "wasm"].includes(info.name), info.name);
    if (info.name === "wasm") {
      assert.ok(info.skipped.some((s) => s.startsWith("tensorflow:")));
      assert.ok(info.skipped.some((s) => s.startsWith("webgpu:")));
    }
    await tf.setBackend("cpu");
  });

  await t.step("a backend with a wrong kernel is refused", async () => {
    const name = "broken-cpu-test";
    for (const cfg of stockKernelConfigs("cpu")) tf.registerKernel({ ...cfg, backendName: name });
    // Relu that lets negatives through.
    tf.unregisterKernel("Relu", name);
    tf.registerKernel({
      kernelName: "Relu",
      backendName: name,
      kernelFunc: ({ inputs, backend }) => {
        const x = inputs.x as tf.TensorInfo;
        const b = backend as MathBackendCPU;
        const v = Float32Array.from(b.data.get(x.dataId).values as Float32Array, (a) => a > 0 ? a : 0.5 * a);
        return b.makeTensorInfo(x.shape, "float32", v);
      },
    });
    tf.registerBackend(name, () => new MathBackendCPU(), -1);
    const report = await runSelfCheck(name);
    assert.equal(report.ok, false);
    assert.deepEqual(report.results.filter((r) => !r.ok).map((r) => r.name), ["relu + broadcast add + mean"]);
    assert.throws(() => assertSelfCheck(report), /failed the gradient self-check.*relu.*refusing to train/);
    tf.removeBackend(name);
  });
});
