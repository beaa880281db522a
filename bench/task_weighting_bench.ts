/**
 * `deno task bench:task_weighting`: step time of every task weighting against `ew` on the project's
 * mini-Xception (48x48x1, batch 32 by default, two heads, half the rows labelled for each task, so both are
 * present in every batch). The weightings run interleaved, in a rotating order, round after round, so a
 * noisy neighbour slows all of them alike; the median step per weighting and its ratio to ew's are printed.
 *
 *   deno task bench:task_weighting [--rounds=6] [--steps=3] [--batch=32] [--size=48] [--backend=auto]
 *                                  [--weightings=ew,uw,...] [--json]
 * @module
 */
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend, parseBackendName } from "../runner/backend.ts";
import { buildModel } from "../models/mod.ts";
import { trainStep } from "../runner/train/step.ts";
import { discoverWeightings } from "../core/task_weighting/mod.ts";
import { Rng } from "../core/rng.ts";
import type { TaskSpec } from "../core/types.ts";

const { values: a } = parseArgs({
  args: Deno.args,
  options: {
    rounds: { type: "string", default: "6" },
    steps: { type: "string", default: "3" },
    batch: { type: "string", default: "32" },
    size: { type: "string", default: "48" },
    backend: { type: "string", default: "auto" },
    weightings: { type: "string" },
    json: { type: "boolean", default: false },
  },
});
const info = await initBackend({ backend: parseBackendName(a.backend!), quiet: true });
const rounds = Number(a.rounds), steps = Number(a.steps), b = Number(a.batch), size = Number(a.size);
const all = await discoverWeightings();
const names = a.weightings
  ? a.weightings.split(",")
  : ["ew", ...all.map((s) => s.name).filter((n) => n !== "ew")];
const tasks: TaskSpec[] = [
  { name: "emotion", classes: 7, labels: Array.from({ length: 7 }, (_, i) => `e${i}`) },
  { name: "pose", classes: 5, labels: Array.from({ length: 5 }, (_, i) => `p${i}`) },
];
const model = buildModel({ backbone: "mini_xception", tasks, inputShape: [size, size, 1], seed: 1 });
const x = tf.randomNormal([b, size, size, 1], 0, 1, "float32", 1) as tf.Tensor4D;
const rows = Array.from({ length: b }, (_, i) => i);
const ye = tf.cast(tf.oneHot(tf.tensor1d(rows.map((i) => i % 7), "int32"), 7), "float32") as tf.Tensor2D;
const yp = tf.cast(tf.oneHot(tf.tensor1d(rows.map((i) => i % 5), "int32"), 5), "float32") as tf.Tensor2D;
const me = tf.tensor1d(rows.map((i) => (i < b / 2 ? 1 : 0)));
const mp = tf.tensor1d(rows.map((i) => (i < b / 2 ? 0 : 1)));
const batch = { x, targets: { emotion: ye, pose: yp }, masks: { emotion: me, pose: mp } };
const times = new Map<string, number[]>(names.map((n) => [n, []]));
const instances = new Map(
  names.map((n) => {
    const s = all.find((w) => w.name === n);
    if (!s) throw new Error(`unknown weighting ${n}`);
    return [n, s.create({ tasks: tasks.map((t) => t.name), options: {}, rng: new Rng(1) })];
  }),
);
// Each weighting gets its own optimiser; the model's weights are shared (the step time does not depend
// on their values).
const optimizers = new Map(names.map((n) => [n, tf.train.adam(1e-4)]));
const step = (n: string) =>
  trainStep(batch, {
    model,
    optimizer: optimizers.get(n)!,
    lossWeights: { emotion: 1, pose: 1 },
    terms: [],
    options: {},
    weighting: instances.get(n),
  });
for (const n of names) await step(n); // warm-up: kernels compiled, optimiser slots made
for (let r = 0; r < rounds; r++) {
  const order = names.map((_, i) => names[(i + r) % names.length]);
  for (const n of order) {
    for (let s = 0; s < steps; s++) {
      const t0 = performance.now();
      await step(n);
      times.get(n)!.push(performance.now() - t0);
    }
  }
}
const median = (v: number[]) => {
  const s = [...v].sort((p, q) => p - q);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const ew = median(times.get("ew") ?? times.get(names[0])!);
const result = names.map((n) => ({
  weighting: n,
  medianMs: median(times.get(n)!),
  minMs: Math.min(...times.get(n)!),
  overVsEw: median(times.get(n)!) / ew - 1,
  steps: times.get(n)!.length,
}));
if (a.json) console.log(JSON.stringify({ backend: info.name, batch: b, size, result }, null, 2));
else {
  console.log(
    `backend ${info.name}, mini_xception ${size}x${size}x1, batch ${b}, ${rounds}x${steps} steps each`,
  );
  console.log("| weighting | median step (ms) | min (ms) | overhead vs ew (median) |");
  console.log("| --- | ---: | ---: | ---: |");
  for (const r of result) {
    console.log(
      `| ${r.weighting} | ${r.medianMs.toFixed(1)} | ${r.minMs.toFixed(1)} | ${
        (100 * r.overVsEw).toFixed(1)
      }% |`,
    );
  }
}
