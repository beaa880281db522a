/**
 * Prints the parameter-count table of docs/models.md: `deno run -A models/param_table.ts`.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import type { TaskSpec } from "../core/types.ts";
import { buildModel, type BuildOptions, countParams } from "./build.ts";

function task(name: TaskSpec["name"], classes: number): TaskSpec {
  return { name, classes, labels: [] };
}

/** The configurations the table lists. */
export function paramTableRows(): [string, BuildOptions][] {
  const E = task("emotion", 7);
  const P = task("pose", 5);
  const G = task("gender", 2);
  const A = task("age", 8);
  type Base = Pick<BuildOptions, "backbone" | "inputShape" | "seed">;
  const vgg: Base = { backbone: "vggFace", inputShape: [224, 224, 3], seed: 1 };
  const mini: Base = { backbone: "mini_xception", inputShape: [64, 64, 1], seed: 1 };
  const big: Base = { backbone: "big_xception", inputShape: [64, 64, 1], seed: 1 };
  return [
    ["vggFace 224×224×3, emotion(7)+pose(5), branch + cross-stitch", { ...vgg, tasks: [E, P] }],
    ["vggFace 224×224×3, emotion+pose, `isBn`", { ...vgg, tasks: [E, P], isBn: true }],
    ["vggFace 224×224×3, emotion+pose+gender+age", { ...vgg, tasks: [E, P, G, A] }],
    ["vggFace 64×64×3, emotion+pose", { ...vgg, inputShape: [64, 64, 3], tasks: [E, P] }],
    ["mini_xception 64×64×1, emotion+pose, head `conv` (docs/original.md §4.4)", {
      ...mini,
      tasks: [E, P],
      head: "conv",
    }],
    ["mini_xception 64×64×1, emotion+pose, head `branch`", { ...mini, tasks: [E, P] }],
    ["mini_xception 64×64×1, emotion+pose+gender+age, `branch`", { ...mini, tasks: [E, P, G, A] }],
    ["big_xception 64×64×1, emotion, head `conv`", { ...big, tasks: [E], head: "conv" }],
    ["big_xception 64×64×1, emotion+pose, head `branch`", { ...big, tasks: [E, P] }],
  ];
}

if (import.meta.main) {
  // Counting parameters needs no fast kernels: the stock cpu backend builds every model.
  await tf.setBackend("cpu");
  const fmt = (n: number) => n.toLocaleString("en");
  console.log("| model | total | trainable | non-trainable (BN moving stats) |");
  console.log("| --- | ---: | ---: | ---: |");
  for (const [name, opts] of paramTableRows()) {
    const m = buildModel(opts);
    const c = countParams(m);
    console.log(`| ${name} | ${fmt(c.total)} | ${fmt(c.trainable)} | ${fmt(c.nonTrainable)} |`);
    m.model.dispose();
  }
}
