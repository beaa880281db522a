/**
 * One training step of the toolkit's own models (forward + backward + Adam through the trainer's
 * `trainStep`, masked two-head loss), batch 32, on wasm + kernel pack.
 * `deno bench -A bench/train_step.bench.ts` (per-iteration time; img/s = 32 / time).
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../runner/backend.ts";
import { trainStep } from "../runner/train/step.ts";
import { buildModel } from "../models/mod.ts";
import type { TaskSpec } from "../core/types.ts";

await initBackend({ backend: "wasm", quiet: true });

const tasks: TaskSpec[] = [
  {
    name: "emotion",
    classes: 7,
    labels: ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"],
  },
  { name: "pose", classes: 5, labels: ["frontal", "right profile", "left profile", "left", "right"] },
];

for (const size of [48, 64]) {
  const model = buildModel({ backbone: "mini_xception", tasks, inputShape: [size, size, 1], seed: 1 });
  const optimizer = tf.train.adam(1e-3);
  const x = tf.randomNormal([32, size, size, 1], 0, 1, "float32", 1) as tf.Tensor4D;
  const labels = (c: number) =>
    tf.cast(tf.oneHot(tf.mod(tf.range(0, 32, 1, "int32"), c) as tf.Tensor1D, c), "float32") as tf.Tensor2D;
  const targets = { emotion: labels(7), pose: labels(5) };
  const half = tf.tensor1d(Array.from({ length: 32 }, (_, i) => (i < 16 ? 1 : 0)));
  const masks = { emotion: half, pose: tf.sub(1, half) as tf.Tensor1D };
  const opts = { model, optimizer, lossWeights: { emotion: 1, pose: 1 }, terms: [], options: {} };
  await trainStep({ x, targets, masks }, opts);
  Deno.bench(
    `mini-Xception ${size}x${size}x1, batch 32, masked two-head step`,
    { group: "train step" },
    async () => {
      await trainStep({ x, targets, masks }, opts);
    },
  );
}
