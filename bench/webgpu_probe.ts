/**
 * GPU probe: selects a backend (default webgpu), runs its self-check and times a mini-Xception training
 * step (batch 32, 48 and 64 px). Runs anywhere Deno runs; on a machine without node_modules, bundle it:
 *   deno bundle --platform=deno -o probe.js bench/webgpu_probe.ts && deno run -A probe.js webgpu
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../runner/backend.ts";
import { buildModel } from "../models/build.ts";
import { maskedCrossEntropy } from "../core/loss.ts";

const want = (Deno.args[0] ?? "webgpu") as "webgpu" | "wasm" | "cpu";
const t0 = performance.now();
const info = await initBackend({ backend: want });
console.log(JSON.stringify({ backend: info, initMs: performance.now() - t0 }));
const tasks = [
  { name: "emotion" as const, classes: 7, labels: ["a", "b", "c", "d", "e", "f", "g"] },
  { name: "pose" as const, classes: 5, labels: ["a", "b", "c", "d", "e"] },
];
for (const size of [48, 64]) {
  const model = buildModel({ backbone: "mini_xception", tasks, inputShape: [size, size, 1], seed: 1 });
  const opt = tf.train.adam(1e-3);
  const B = 32;
  const x = tf.randomNormal([B, size, size, 1]) as tf.Tensor4D;
  const ye = tf.cast(
    tf.oneHot(tf.randomUniform([B], 0, 7, "int32") as tf.Tensor1D, 7),
    "float32",
  ) as tf.Tensor2D;
  const yp = tf.cast(
    tf.oneHot(tf.randomUniform([B], 0, 5, "int32") as tf.Tensor1D, 5),
    "float32",
  ) as tf.Tensor2D;
  const m = tf.ones([B]) as tf.Tensor1D;
  const step = async () => {
    const { value, grads } = tf.variableGrads(() => {
      const o = model.apply(x, true);
      return tf.add(
        maskedCrossEntropy(o.logits.emotion!, ye, m),
        maskedCrossEntropy(o.logits.pose!, yp, m),
      ) as tf.Scalar;
    }, model.trainableWeights());
    (opt as tf.Optimizer).applyGradients(grads);
    const l = (await value.data())[0];
    tf.dispose([value, ...Object.values(grads)]);
    return l;
  };
  const w0 = performance.now();
  const first = await step();
  const warmMs = performance.now() - w0;
  await step();
  const n = 10;
  const s0 = performance.now();
  let last = 0;
  for (let i = 0; i < n; i++) last = await step();
  const ms = (performance.now() - s0) / n;
  console.log(
    JSON.stringify({
      model: `mini_xception${size}`,
      batch: B,
      firstStepMs: warmMs,
      msPerStep: ms,
      imgPerSec: B * 1000 / ms,
      loss0: first,
      lossN: last,
    }),
  );
  tf.dispose([x, ye, yp, m]);
  model.model.dispose();
}
