/**
 * The per-kernel GPU-time profile of bench/gpu_check.ts (`--parts=profile`): the summary of
 * dispatch times, the part's flags, and, where Deno finds an adapter with `timestamp-query`
 * (llvmpipe in CI), the profiler on a small convolution and its gradients.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { type DispatchTime, installGpuProfiler, summarizeDispatchTimes } from "../bench/webgpu_profile.ts";
import { formatProfileResult, parseProfileOptions, PROFILE_MODELS } from "../bench/gpu_check.ts";
import { initBackend, probeWebgpu } from "../runner/backend.ts";
import { skipWithout } from "./_required_tools.ts";

const d = (kernel: string, program: string, ms: number, outShape: number[] = [2, 2]): DispatchTime => ({
  kernel,
  program,
  outShape,
  groups: [1, 1, 1],
  ms,
});

Deno.test("summarizeDispatchTimes: per step, slowest first, by kernel and by shape", () => {
  // Two steps of the same dispatches.
  const step = [
    d("Conv2DBackpropFilter", "Conv2DDerFilterProgram", 9, [3, 3, 8, 8]),
    d("Conv2DBackpropFilter", "Conv2DDerFilterProgram", 1, [1, 1, 8, 8]),
    d("Add", "BinaryOpProgram", 0.5),
    d("Add", "BinaryOpProgram", 0.5),
    d("SaMtlAdamUpdate", "SaMtlAdamUpdate", 4, []),
  ];
  const s = summarizeDispatchTimes([...step, ...step.map((x) => ({ ...x, ms: x.ms * 3 }))], { steps: 2 });
  assert.equal(s.dispatchesPerStep, 5);
  assert.equal(s.totalMsPerStep, 30);
  assert.deepEqual(s.byKernel.map((r) => [r.kernel, r.msPerStep, r.callsPerStep]), [
    ["Conv2DBackpropFilter", 20, 2],
    ["SaMtlAdamUpdate", 8, 1],
    ["Add", 2, 2],
  ]);
  assert.equal(s.byKernel[0].percent.toFixed(3), (100 * 20 / 30).toFixed(3));
  assert.equal(s.byKernel[0].msPerCall, 10);
  assert.deepEqual(s.byShape.map((r) => [r.kernel, r.shape, r.msPerStep]), [
    ["Conv2DBackpropFilter", "[3,3,8,8] wg[1,1,1]", 18],
    ["SaMtlAdamUpdate", "– wg[1,1,1]", 8],
    ["Add", "[2,2] wg[1,1,1]", 2],
    ["Conv2DBackpropFilter", "[1,1,8,8] wg[1,1,1]", 2],
  ]);
  const top2 = summarizeDispatchTimes(step, { steps: 1, top: 2 });
  assert.deepEqual(top2.byShape.map((r) => r.msPerStep), [9, 4]);
  // The total still covers the rows left out.
  assert.equal(top2.totalMsPerStep, 15);
  const text = formatProfileResult({ models: { m: { size: 8, batch: 2, clock: "gpu-timestamp", ...s } } });
  assert.match(
    text,
    /\| Conv2DBackpropFilter \| Conv2DDerFilterProgram \| \[3,3,8,8\] wg\[1,1,1\] \| 1 \| 18\.00 \|/,
  );
});

Deno.test("gpu_check --profile-* flags", () => {
  assert.deepEqual(parseProfileOptions({}), { models: PROFILE_MODELS, batch: 32, size: null, steps: 1 });
  assert.deepEqual(
    parseProfileOptions({ models: "xception48", batch: "2", size: "32", steps: "3" }),
    { models: ["xception48"], batch: 2, size: 32, steps: 3 },
  );
  assert.throws(() => parseProfileOptions({ models: "resnet" }), /--profile-models: unknown model 'resnet'/);
  assert.throws(() => parseProfileOptions({ models: "cpu-xception64" }), /--profile-models/);
  assert.throws(() => parseProfileOptions({ batch: "0" }), /--profile-batch: expected a positive integer/);
});

const probe = await probeWebgpu();

Deno.test({
  name: "installGpuProfiler times every dispatch of a conv step on the adapter",
  ignore: skipWithout(probe !== null, "no WebGPU adapter (apt-get install mesa-vulkan-drivers libvulkan1)"),
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await initBackend({ backend: "webgpu", quiet: true });
    const backend = tf.backend() as unknown as { device: GPUDevice };
    if (!backend.device.features.has("timestamp-query")) {
      // CI's llvmpipe has the feature, so there this branch would skip the profiler unseen: fail instead.
      assert.notEqual(
        Deno.env.get("SA_MTL_TEST_TOOLS"),
        "required",
        `CI's adapter (${probe!.description}) should offer timestamp-query`,
      );
      assert.throws(() => installGpuProfiler(backend), /timestamp-query/);
      return;
    }
    const x = tf.randomNormal([2, 8, 8, 3], 0, 1, "float32", 1) as tf.Tensor4D;
    const w = tf.variable(tf.randomNormal([3, 3, 3, 4], 0, 1, "float32", 2)) as tf.Variable<tf.Rank.R4>;
    const loss = () => tf.sum(tf.relu(tf.conv2d(x, w, 1, "same"))) as tf.Scalar;
    const plainConv = tf.getKernel("Conv2D", "webgpu")!.kernelFunc;
    const before = tf.variableGrads(loss);
    const expected = await before.grads[w.name].data();
    tf.dispose([before.value, ...Object.values(before.grads)]);
    const profiler = installGpuProfiler(backend);
    let p;
    try {
      profiler.start();
      const g = tf.variableGrads(loss);
      const got = await g.grads[w.name].data();
      p = await profiler.stop();
      tf.dispose([g.value, ...Object.values(g.grads)]);
      // Profiling changes how the work is split into passes, not what it computes.
      assert.deepEqual(Array.from(got), Array.from(expected));
    } finally {
      profiler.uninstall();
    }
    assert.equal(tf.getKernel("Conv2D", "webgpu")!.kernelFunc, plainConv);
    assert.equal(p.untimed, 0);
    const kernels = new Set(p.dispatches.map((t) => t.kernel));
    for (const k of ["Conv2D", "Conv2DBackpropFilter", "Relu", "Sum"]) {
      assert.ok(kernels.has(k), `${k} in ${[...kernels]}`);
    }
    assert.ok(
      p.dispatches.every((t) => Number.isFinite(t.ms) && t.ms >= 0 && t.program && t.groups.length === 3),
    );
    const total = p.dispatches.reduce((s, t) => s + t.ms, 0);
    assert.ok(total > 0, "the GPU took some time");
    // The dispatches run one after another inside the GPU's busy window.
    assert.ok(total <= p.spanMs * 1.01 + 1e-3, `sum ${total} within span ${p.spanMs}`);
    tf.dispose([x, w]);
  },
});
