import { join } from "node:path";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { forwardFlops } from "../bench/train_bench.ts";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import {
  assertSupportedTfjs,
  isKernelPackRegistered,
  KERNEL_PACK_VERSION,
  registerKernelPack,
  setChunkBudget,
  setSimdKernelsEnabled,
  simdKernelsAvailable,
  unregisterKernelPack,
} from "../kernels/mod.ts";
import { BINARY, SHARED_BINARY } from "../kernels/wasm/build.ts";
import { buildKernelsMain } from "../bench/build_kernels.ts";
import { exitCodeOf } from "../core/user_errors.ts";
import { outputOf, stdoutOf } from "./_stdout.ts";
import {
  ensureReferenceBackend,
  relativeError,
  runOnBackend,
  runSelfCheck,
  type SelfCheckCase,
} from "../runner/self_check.ts";
import {
  buildMiniXception,
  disposeBatch,
  multiHeadLoss,
  randomBatch,
  trainStep,
} from "../bench/_test_models.ts";

const c4 = (t: tf.Tensor) => t as tf.Tensor4D;

/** Larger and odder shapes than the start-up self-check, including the GEMM chunk path. */
const EXTRA_CASES: SelfCheckCase[] = [
  {
    name: "conv 5x5 s2 same odd",
    shapes: [[3, 11, 13, 4], [5, 5, 4, 6]],
    fn: (x, w) => tf.conv2d(c4(x), c4(w), 2, "same"),
  },
  {
    name: "conv 3x3 s1 valid odd",
    shapes: [[3, 9, 7, 5], [3, 3, 5, 7]],
    fn: (x, w) => tf.conv2d(c4(x), c4(w), 1, "valid"),
  },
  {
    name: "conv 2x3 s[1,2] same",
    shapes: [[2, 8, 9, 3], [2, 3, 3, 4]],
    fn: (x, w) => tf.conv2d(c4(x), c4(w), [1, 2], "same"),
  },
  {
    name: "conv 2x2 s1 same (asymmetric pad)",
    shapes: [[2, 5, 6, 3], [2, 2, 3, 4]],
    fn: (x, w) => tf.conv2d(c4(x), c4(w), 1, "same"),
  },
  {
    name: "conv 4x3 s1 same (asymmetric pad)",
    shapes: [[2, 7, 5, 2], [4, 3, 2, 3]],
    fn: (x, w) => tf.conv2d(c4(x), c4(w), 1, "same"),
  },
  {
    name: "conv 1x1 s1 odd",
    shapes: [[3, 7, 5, 6], [1, 1, 6, 5]],
    fn: (x, w) => tf.conv2d(c4(x), c4(w), 1, "same"),
  },
  {
    name: "conv 1x1 s2 same, 8 input channels (strided pointwise input gradient)",
    shapes: [[3, 7, 5, 8], [1, 1, 8, 5]],
    fn: (x, w) => tf.conv2d(c4(x), c4(w), 2, "same"),
  },
  {
    name: "conv 1x1 s2 valid odd",
    shapes: [[3, 7, 5, 6], [1, 1, 6, 5]],
    fn: (x, w) => tf.conv2d(c4(x), c4(w), 2, "valid"),
  },
  {
    name: "depthwise 3x3 s2 same odd",
    shapes: [[3, 11, 9, 5], [3, 3, 5, 1]],
    fn: (x, w) => tf.depthwiseConv2d(c4(x), c4(w), 2, "same"),
  },
  {
    name: "depthwise 5x5 s1 valid x3",
    shapes: [[2, 9, 8, 2], [5, 5, 2, 3]],
    fn: (x, w) => tf.depthwiseConv2d(c4(x), c4(w), 1, "valid"),
  },
  {
    name: "maxpool 3x3 s2 valid negatives odd",
    shapes: [[3, 9, 11, 5]],
    negative: true,
    fn: (x) => tf.maxPool(c4(x), 3, 2, "valid"),
  },
  {
    name: "maxpool 2x2 s2 same negatives odd",
    shapes: [[2, 7, 5, 3]],
    negative: true,
    fn: (x) => tf.maxPool(c4(x), 2, 2, "same"),
  },
  { name: "maxpool 3x3 s2 same", shapes: [[2, 9, 9, 4]], fn: (x) => tf.maxPool(c4(x), 3, 2, "same") },
  // Channel counts that are multiples of 4 plus a tail: the SIMD lanes and the scalar tail.
  // Output channels in multiples of 8: the pack's direct convolution (forward and stride-1 dx).
  {
    name: "conv 3x3 s2 same odd -> 8",
    shapes: [[3, 9, 11, 5], [3, 3, 5, 8]],
    fn: (x, w) => tf.conv2d(c4(x), c4(w), 2, "same"),
  },
  {
    name: "conv 3x3 s1 same c8 -> 16 (dx direct too)",
    shapes: [[2, 7, 6, 8], [3, 3, 8, 16]],
    fn: (x, w) => tf.conv2d(c4(x), c4(w), 1, "same"),
  },
  {
    name: "conv 2x3 s1 valid c3 -> 8",
    shapes: [[2, 9, 10, 3], [2, 3, 3, 8]],
    fn: (x, w) => tf.conv2d(c4(x), c4(w), 1, "valid"),
  },
  {
    name: "conv 1x1 s1 c16 -> 24 (dx direct)",
    shapes: [[2, 5, 3, 16], [1, 1, 16, 24]],
    fn: (x, w) => tf.conv2d(c4(x), c4(w), 1, "same"),
  },
  {
    name: "fused conv 3x3 same + bias + relu c4 -> 8",
    shapes: [[2, 6, 5, 4], [3, 3, 4, 8], [8]],
    fn: (x, w, b) =>
      tf.fused.conv2d({ x: c4(x), filter: c4(w), strides: 1, pad: "same", bias: b, activation: "relu" }),
  },
  {
    name: "depthwise 3x3 s1 valid c6 (SIMD block + tail)",
    shapes: [[2, 8, 9, 6], [3, 3, 6, 1]],
    fn: (x, w) => tf.depthwiseConv2d(c4(x), c4(w), 1, "valid"),
  },
  {
    name: "depthwise 3x3 s1 same 2x3 image c12",
    shapes: [[3, 2, 3, 12], [3, 3, 12, 1]],
    fn: (x, w) => tf.depthwiseConv2d(c4(x), c4(w), 1, "same"),
  },
  {
    name: "separable 3x3 s1 same c20 -> 24",
    shapes: [[2, 9, 10, 20], [3, 3, 20, 1], [1, 1, 20, 24]],
    fn: (x, d, p) => tf.separableConv2d(c4(x), c4(d), c4(p), 1, "same"),
  },
  {
    name: "depthwise 3x3 s1 same c8",
    shapes: [[2, 6, 7, 8], [3, 3, 8, 1]],
    fn: (x, w) => tf.depthwiseConv2d(c4(x), c4(w), 1, "same"),
  },
  {
    name: "depthwise 3x3 s2 same c6",
    shapes: [[2, 7, 6, 6], [3, 3, 6, 1]],
    fn: (x, w) => tf.depthwiseConv2d(c4(x), c4(w), 2, "same"),
  },
  {
    name: "maxpool 3x3 s2 same negatives c9",
    shapes: [[2, 7, 7, 9]],
    negative: true,
    fn: (x) => tf.maxPool(c4(x), 3, 2, "same"),
  },
  {
    name: "batch-norm moments c8 and c7",
    shapes: [[3, 5, 4, 8], [8], [8], [2, 3, 3, 7]],
    fn: (x, g, b, z) => {
      const m = tf.moments(x, [0, 1, 2]);
      const n = tf.moments(z, [0, 1, 2], true);
      const y = tf.batchNorm(x, m.mean, m.variance, b, g, 1e-3);
      return tf.concat([
        tf.reshape(y, [-1]),
        tf.reshape(tf.div(tf.sub(n.mean, z), tf.add(n.variance, 1)), [-1]),
      ]);
    },
  },
  {
    name: "channel-vector broadcasts both orders",
    shapes: [[2, 3, 5, 6], [6], [1, 1, 1, 6]],
    fn: (x, v, w) =>
      tf.stack([
        tf.mul(v, x),
        tf.mul(x, w),
        tf.add(v, x),
        tf.add(x, w),
        tf.sub(v, x),
        tf.sub(x, w),
        tf.div(x, tf.add(tf.abs(v), 1)),
      ]),
  },
  {
    name: "matMul with transposes, batched",
    shapes: [[5, 7], [6, 5], [2, 4, 3], [2, 5, 4]],
    fn: (a, b, c, d) =>
      tf.concat([
        tf.reshape(tf.matMul(a, b, true, true), [-1]),
        tf.reshape(tf.matMul(b, a, false, false), [-1]),
        tf.reshape(tf.matMul(c, d, true, true), [-1]),
        tf.reshape(tf.matMul(d, c, false, false), [-1]),
      ]),
  },
  {
    name: "same-shape and scalar binary ops",
    shapes: [[2, 3, 4], [2, 3, 4], []],
    fn: (x, y, k) =>
      tf.stack([
        tf.mul(x, y),
        tf.add(x, y),
        tf.sub(x, y),
        tf.div(x, tf.add(tf.abs(y), 1)),
        tf.mul(x, k),
        tf.add(k, x),
        tf.sub(k, x),
        tf.sub(x, k),
      ]),
  },
  {
    name: "sum / mean leading and other axes",
    shapes: [[3, 4, 5]],
    fn: (x) =>
      tf.concat([
        tf.sum(x, [0, 1]),
        tf.reshape(tf.mean(x, 0, true), [-1]),
        tf.reshape(tf.sum(x, 2), [-1]),
        tf.mean(x, [0, 2]),
      ]),
  },
  { name: "tile rank 4", shapes: [[2, 3, 1, 4]], fn: (x) => tf.tile(x, [1, 2, 5, 3]) },
  { name: "tile rank 1", shapes: [[5]], fn: (x) => tf.tile(x, [4]) },
];

async function packedCheck(backend: string, cases?: SelfCheckCase[]) {
  const report = await runSelfCheck(backend, { tolerance: 1e-5, cases });
  for (const r of report.results) assert.ok(r.ok, `${backend} ${r.name}: relative error ${r.relError}`);
}

/**
 * Runs `f` on every pack path (wasm with SIMD, wasm with the JS kernels, cpu) and hands each result
 * to `check` with a label; the SIMD switch is restored.
 */
async function onEveryPackPath(
  f: () => tf.Tensor | tf.Tensor[],
  check: (got: Float32Array[], label: string) => void,
): Promise<void> {
  for (const [backend, simd] of [["wasm", true], ["wasm", false], ["cpu", true]] as const) {
    const old = setSimdKernelsEnabled(simd);
    try {
      check(await runOnBackend(backend, f), `${backend} simd=${simd}`);
    } finally {
      setSimdKernelsEnabled(old);
    }
  }
}

Deno.test("kernel pack", async (t) => {
  ensureReferenceBackend();
  await tf.setBackend("wasm");
  await t.step("version guard and bad backend name", () => {
    assertSupportedTfjs();
    assert.match(KERNEL_PACK_VERSION, /^\d+\.\d+\.\d+$/);
    assert.throws(() => registerKernelPack("webgl" as "cpu"), /backend must be 'wasm' or 'cpu'/);
  });

  await t.step("stock wasm fails the self-check (the checks can fail)", async () => {
    unregisterKernelPack("wasm");
    const report = await runSelfCheck("wasm");
    assert.equal(report.ok, false);
    const bad = report.results.filter((r) => !r.ok).map((r) => r.name);
    assert.ok(bad.includes("conv2d 3x3 s1 same"), bad.join()); // Conv2DBackpropFilter missing
    assert.ok(bad.includes("maxpool 3x3 s2 same negatives"), bad.join()); // wrong MaxPoolGrad
  });

  for (const backend of ["wasm", "cpu"] as const) {
    await t.step(`${backend} + pack matches stock cpu: self-check and extra cases`, async () => {
      registerKernelPack(backend);
      assert.ok(isKernelPackRegistered(backend));
      await packedCheck(backend);
      await packedCheck(backend, EXTRA_CASES);
    });

    if (backend === "wasm") {
      await t.step("wasm + pack without the SIMD module (JS kernel paths)", async () => {
        const old = setSimdKernelsEnabled(false);
        try {
          await packedCheck(backend);
          await packedCheck(backend, EXTRA_CASES);
        } finally {
          setSimdKernelsEnabled(old);
        }
      });
    }

    await t.step(`${backend} + pack: chunked im2col/col2im path`, async () => {
      const old = setChunkBudget(200);
      try {
        await packedCheck(backend, EXTRA_CASES.slice(0, 4));
      } finally {
        setChunkBudget(old);
      }
    });

    await t.step(`${backend} + pack: MaxPoolGrad of an all-negative input routes every dy`, async () => {
      const [g] = await runOnBackend(backend, () => {
        const x = tf.tensor4d(Array.from({ length: 32 }, (_, i) => -1 - (i % 7) * 0.25), [1, 4, 4, 2]);
        return tf.grad((v: tf.Tensor) => tf.sum(tf.maxPool(c4(v), 2, 2, "valid")))(x);
      });
      assert.equal(g.reduce((a, b) => a + b, 0), 8);
      assert.ok(g.every((v) => v === 0 || v === 1));
    });

    await t.step(`${backend} + pack: transposed matMul with a broadcast batch (values)`, async () => {
      // Values only: tfjs' own BatchMatMul gradient rejects broadcast batches.
      const f = () => {
        const a = tf.randomUniform([1, 4, 3], -1, 1, "float32", 5);
        const d = tf.randomUniform([2, 5, 4], -1, 1, "float32", 6);
        return [tf.matMul(a, d, true, true), tf.matMul(d, a, false, false)];
      };
      const want = await runOnBackend("reference-cpu", f);
      const got = await runOnBackend(backend, f);
      want.forEach((w, i) => assert.ok(relativeError(got[i], w) < 1e-5, `output ${i}`));
    });

    await t.step(`${backend} + pack: Tile of int32 and bool tensors`, async () => {
      const f = () => [
        tf.tile(tf.tensor3d([1, 2, 3, 4, 5, 6], [1, 2, 3], "int32"), [3, 1, 2]),
        tf.cast(tf.tile(tf.tensor2d([true, false, false, true], [2, 2], "bool"), [2, 3]), "int32"),
        tf.tile(tf.tensor2d([[1, 2]]), [0, 2]),
      ];
      const want = await runOnBackend("reference-cpu", f);
      const got = await runOnBackend(backend, f);
      assert.deepEqual(got, want);
    });
  }

  await t.step(
    "pack.wasm and pack-shared.wasm: committed binaries match a rebuild, import only memory, have no data",
    async () => {
      assert.ok(simdKernelsAvailable());
      const committed = await Deno.readFile(BINARY);
      const mod = new WebAssembly.Module(committed);
      assert.deepEqual(WebAssembly.Module.imports(mod), [{ module: "env", name: "memory", kind: "memory" }]);
      // Section ids: no data (11) and no start (8) section, so instantiation never writes to the tfjs heap.
      const ids: number[] = [];
      for (let i = 8; i < committed.length;) {
        ids.push(committed[i++]);
        let n = 0;
        let shift = 0;
        let byte: number;
        do {
          byte = committed[i++];
          n |= (byte & 127) << shift;
          shift += 7;
        } while (byte & 128);
        i += n;
      }
      assert.ok(!ids.includes(11) && !ids.includes(8), `sections ${ids}`);
      // The shared-memory twin (kernels/threads.ts): same source, imports a shared memory.
      const shared = await Deno.readFile(SHARED_BINARY);
      assert.deepEqual(
        WebAssembly.Module.imports(new WebAssembly.Module(shared)),
        [{ module: "env", name: "memory", kind: "memory" }],
      );
      assert.throws(
        () =>
          new WebAssembly.Instance(new WebAssembly.Module(shared), {
            env: { memory: new WebAssembly.Memory({ initial: 1, maximum: 2 }) },
          }),
        /shared/,
      );
      // assemblyscript is pinned in deno.json, so the rebuild always runs: a stale binary cannot pass unseen.
      // It goes through the command (`deno task build:kernels --out=DIR`), writing beside the test.
      const tmp = await Deno.makeTempDir({ prefix: "build_kernels_" });
      try {
        const built = await stdoutOf(() => exitCodeOf(buildKernelsMain, [`--out=${tmp}`, "--json"]));
        assert.equal(built.code, 0);
        const report = JSON.parse(built.out) as { binaries: { path: string; bytes: number }[] };
        assert.deepEqual(report.binaries.map((b) => b.path), [
          join(tmp, "pack.wasm"),
          join(tmp, "pack-shared.wasm"),
        ]);
        assert.deepEqual(
          await Deno.readFile(join(tmp, "pack.wasm")),
          committed,
          "pack.wasm is stale: run deno task build:kernels",
        );
        assert.deepEqual(
          await Deno.readFile(join(tmp, "pack-shared.wasm")),
          shared,
          "pack-shared.wasm is stale: run deno task build:kernels",
        );
        // --dry_run builds and writes nothing; bad flags are one-line errors (exit 2).
        const dry = await stdoutOf(() =>
          exitCodeOf(buildKernelsMain, [`--out=${tmp}/dry`, "--dry_run", "--quiet"])
        );
        assert.equal(dry.code, 0);
        await assert.rejects(() => Deno.stat(join(tmp, "dry")), Deno.errors.NotFound);
        // Without --out a dry run would write over the committed binaries: it must leave them as they are.
        const before = [(await Deno.stat(BINARY)).mtime, (await Deno.stat(SHARED_BINARY)).mtime];
        assert.equal((await stdoutOf(() => exitCodeOf(buildKernelsMain, ["--dry_run", "--quiet"]))).code, 0);
        assert.deepEqual([(await Deno.stat(BINARY)).mtime, (await Deno.stat(SHARED_BINARY)).mtime], before);
        const bads = [
          ["--bogus"],
          ["--check", `--out=${tmp}`],
          ["--check", "--dry_run"],
          ["--out=README.md"],
          [
            "--check=maybe",
          ],
        ];
        for (const bad of bads) {
          const r = await outputOf(() => exitCodeOf(buildKernelsMain, bad));
          assert.equal(r.code, 2, bad.join(" "));
          assert.deepEqual(r.stdout, [], `${bad.join(" ")}: stdout stays empty`);
          assert.equal(
            r.stderr.filter((l) => l.startsWith("error:")).length,
            1,
            `${bad.join(" ")}: ${r.stderr}`,
          );
        }
      } finally {
        await Deno.remove(tmp, { recursive: true });
      }
    },
  );

  await t.step("whole mini-Xception step: variable gradients within 1e-4 of stock cpu", async () => {
    await tf.setBackend("reference-cpu");
    const model = buildMiniXception({ size: 24, channels: 1, seed: 7 });
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const grads = (backend: string) =>
      runOnBackend(backend, () => {
        const batch = randomBatch([3, 24, 24, 1], { seed: 11 });
        const { grads } = tf.variableGrads(() => multiHeadLoss(model, batch), vars);
        disposeBatch(batch);
        return vars.map((v) => grads[v.name]);
      });
    const want = await grads("reference-cpu");
    for (const backend of ["wasm", "cpu"]) {
      const got = await grads(backend);
      assert.equal(got.length, want.length);
      want.forEach((w, i) => {
        const e = relativeError(got[i], w);
        assert.ok(e <= 1e-4, `${backend} ${vars[i].name}: relative error ${e}`);
      });
    }
    model.layers.forEach((l) => l.dispose());
  });

  await t.step(
    "fused Adam (SaMtlCpuAdamUpdate) is bit-identical to tfjs' 14-op Adam over 3 steps",
    async () => {
      // Sizes: a scalar, a tail that is not a multiple of 4, and one large enough to be threaded.
      const shapes = [[1], [3, 5], [40, 300]];
      const adamSteps = () => {
        const vars = shapes.map((s, i) => tf.variable(tf.randomUniform(s, -1, 1, "float32", 20 + i)));
        const opt = tf.train.adam(3e-3, 0.9, 0.999, 1e-7);
        for (let step = 0; step < 3; step++) {
          const grads = vars.map((v, i) => ({
            name: v.name,
            tensor: tf.randomNormal(v.shape, 0, step === 1 ? 1e-3 : 1, "float32", 100 * step + i + 1),
          }));
          opt.applyGradients(grads);
          tf.dispose(grads.map((g) => g.tensor));
        }
        const out = vars.map((v) => v.clone());
        const moments = (opt as unknown as { accumulatedSecondMoment: { variable: tf.Variable }[] })
          .accumulatedSecondMoment.map((m) => m.variable.clone());
        opt.dispose();
        tf.dispose(vars);
        return [...out, ...moments];
      };
      const want = await runOnBackend("reference-cpu", adamSteps);
      await onEveryPackPath(adamSteps, (got, label) => {
        want.forEach((w, i) => assert.deepEqual(got[i], w, `${label} output ${i}`));
      });
    },
  );

  await t.step(
    "fused training batch norm: output, moving statistics and gradients match tfjs-layers",
    async () => {
      // A layer per backend with the same weights; 130 rows × 6 channels (an odd channel tail, and
      // more rows than one reduction block for the threaded path's layout).
      const run = () => {
        const layer = tfl.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-3 });
        layer.build([null, 5, 26, 6]);
        layer.setWeights([
          tf.randomUniform([6], 0.5, 1.5, "float32", 31),
          tf.randomUniform([6], -0.5, 0.5, "float32", 32),
          tf.randomUniform([6], -0.2, 0.2, "float32", 33),
          tf.randomUniform([6], 0.5, 2, "float32", 34),
        ]);
        const x = tf.add(tf.mul(tf.randomNormal([1, 5, 26, 6], 0, 1, "float32", 35), 3), 0.7);
        const dy = tf.randomNormal([1, 5, 26, 6], 0, 1, "float32", 36);
        const [gamma, beta] = layer.trainableWeights.map((w) => w.read() as tf.Variable);
        const y = layer.apply(x, { training: true }) as tf.Tensor;
        const dx = tf.grad((xi: tf.Tensor) =>
          tf.sum(tf.mul(layer.apply(xi, { training: true }) as tf.Tensor, dy))
        )(x);
        const { grads } = tf.variableGrads(
          () => tf.sum(tf.mul(layer.apply(x, { training: true }) as tf.Tensor, dy)) as tf.Scalar,
          [gamma, beta],
        );
        // Three training calls: the moving statistics have been updated three times.
        const moving = layer.getWeights().slice(2).map((w) => w.clone());
        tf.dispose(layer.getWeights());
        return [y, dx, grads[gamma.name], grads[beta.name], ...moving];
      };
      const want = await runOnBackend("reference-cpu", run);
      const names = ["y", "dx", "dgamma", "dbeta", "movingMean", "movingVariance"];
      await onEveryPackPath(run, (got, label) => {
        want.forEach((w, i) => {
          const e = relativeError(got[i], w);
          assert.ok(e <= 2e-6, `${label} ${names[i]}: relative error ${e}`);
        });
      });
    },
  );

  await t.step(
    "a model's first convolution skips the unused image gradient, same weight gradients",
    async () => {
      const run = () => {
        const layer = tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: "same", useBias: true });
        layer.build([null, 6, 5, 2]);
        layer.setWeights([
          tf.randomNormal([3, 3, 2, 4], 0, 1, "float32", 41),
          tf.randomNormal([4], 0, 1, "float32", 42),
        ]);
        const x = tf.randomNormal([2, 6, 5, 2], 0, 1, "float32", 43);
        const dy = tf.randomNormal([2, 6, 5, 4], 0, 1, "float32", 44);
        const vars = layer.trainableWeights.map((w) => w.read() as tf.Variable);
        const y = layer.apply(x) as tf.Tensor;
        const { grads } = tf.variableGrads(
          () => tf.sum(tf.mul(layer.apply(x) as tf.Tensor, dy)) as tf.Scalar,
          vars,
        );
        // An intermediate (non-leaf) input keeps the stock fused path and its input gradient.
        const dx = tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(layer.apply(tf.mul(xi, 1)) as tf.Tensor, dy)))(x);
        const out = [y, grads[vars[0].name], grads[vars[1].name], dx];
        tf.dispose(vars);
        return out;
      };
      const want = await runOnBackend("reference-cpu", run);
      await tf.setBackend("wasm");
      const info = await tf.profile(() => {
        const layer = tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: "same" });
        const x = tf.randomNormal([2, 6, 5, 1], 0, 1, "float32", 45);
        layer.apply(x);
        const vars = layer.trainableWeights.map((w) => w.read() as tf.Variable);
        const { value, grads } = tf.variableGrads(
          () => tf.sum(layer.apply(x) as tf.Tensor) as tf.Scalar,
          vars,
        );
        tf.dispose([value, ...Object.values(grads), ...vars]);
      });
      const names = info.kernels.map((k) => k.name);
      assert.ok(names.includes("Conv2DBackpropFilter"), names.join());
      assert.ok(!names.includes("Conv2DBackpropInput"), names.join());
      for (const backend of ["wasm", "cpu"]) {
        const got = await runOnBackend(backend, run);
        want.forEach((w, i) => assert.ok(relativeError(got[i], w) <= 1e-5, `${backend} output ${i}`));
      }
    },
  );

  await t.step(
    "Relu and its one-pass gradient equal tfjs' bit for bit (zeros, -0, negatives, odd tail)",
    async () => {
      const f = () => {
        // 4,099 values: the SIMD body, a 3-element tail and, split over threads, uneven slices.
        const v = Array.from(
          { length: 4099 },
          (_, i) => i % 7 === 0 ? 0 : i % 11 === 0 ? -0 : Math.sin(i) * 3,
        );
        const x = tf.tensor1d(v);
        const dy = tf.tensor1d(v.map((_, i) => Math.cos(i * 1.3)));
        const [y, dx] = [tf.relu(x), tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.relu(a), dy)))(x)];
        return [y, dx];
      };
      const want = await runOnBackend("reference-cpu", f);
      await onEveryPackPath(f, (got, label) => {
        want.forEach((w, i) => assert.deepEqual(got[i], w, `${label} output ${i}`));
      });
    },
  );

  await t.step("wasm + pack: a training step leaks no heap buffers or tensors", async () => {
    await tf.setBackend("wasm");
    const model = buildMiniXception({ size: 20, channels: 1, seed: 3 });
    const batch = randomBatch([2, 20, 20, 1], { seed: 4 });
    const opt = tf.train.adam(1e-3);
    await trainStep(model, batch, opt);
    const ids = tf.backend().numDataIds();
    const tensors = tf.memory().numTensors;
    await trainStep(model, batch, opt);
    await trainStep(model, batch, opt);
    assert.equal(tf.backend().numDataIds(), ids);
    assert.equal(tf.memory().numTensors, tensors);
    disposeBatch(batch);
    opt.dispose();
    model.layers.forEach((l) => l.dispose());
  });

  await t.step("bench:train FLOP count of conv, separable and dense layers", () => {
    const input = tfl.input({ shape: [6, 6, 2] });
    let x = tfl.layers.conv2d({ filters: 3, kernelSize: 3 }).apply(input) as tfl.SymbolicTensor; // 4x4x3
    x = tfl.layers.separableConv2d({ filters: 5, kernelSize: 3, padding: "same" }).apply(
      x,
    ) as tfl.SymbolicTensor;
    x = tfl.layers.flatten().apply(x) as tfl.SymbolicTensor;
    const y = tfl.layers.dense({ units: 7 }).apply(x) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: y });
    const conv = 2 * 4 * 4 * 3 * 9 * 2;
    const sep = 2 * 4 * 4 * 3 * 9 + 2 * 4 * 4 * 3 * 5;
    const dense = 2 * 80 * 7;
    assert.equal(forwardFlops(model), conv + sep + dense);
    model.layers.forEach((l) => l.dispose());
  });
});
