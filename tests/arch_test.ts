/**
 * `--arch`: the shared architectures above the trunk (hps, cross-stitch, MMoE) on mini-Xception and VGG,
 * their layers, a training step through the representation tap, and methods refusing an architecture.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../runner/backend.ts";
import { buildModel, countParams } from "../models/mod.ts";
import { trainStep } from "../runner/train/step.ts";
import { resolveRun } from "../runner/commands.ts";
import { findWeighting } from "../core/task_weighting/mod.ts";
import { Rng } from "../core/rng.ts";
import type { BackboneName, TaskSpec } from "../core/types.ts";

await initBackend({ backend: "wasm", quiet: true });

const TASKS: TaskSpec[] = [
  { name: "emotion", classes: 7, labels: ["a", "b", "c", "d", "e", "f", "g"] },
  { name: "pose", classes: 5, labels: ["a", "b", "c", "d", "e"] },
];
const SHAPE: Record<string, [number, number, number]> = { mini_xception: [32, 32, 1], vggFace: [32, 32, 3] };

Deno.test("hps is the network as it was; cross-stitch mixes every branch; MMoE gates experts per task", () => {
  const age: TaskSpec = { name: "age", classes: 8, labels: ["0", "1", "2", "3", "4", "5", "6", "7"] };
  const build = (arch?: "hps" | "cross-stitch" | "mmoe", tasks = TASKS) =>
    buildModel({ backbone: "mini_xception", tasks, inputShape: [32, 32, 1], seed: 1, arch, experts: 3 });
  const plain = build(undefined), hps = build("hps");
  assert.equal(countParams(hps).total, countParams(plain).total);
  assert.ok(hps.model.layers.some((l) => l.name === "cross_stitch_emotion_pose"), "the original pair");
  // hps with emotion + age has no cross-stitch (not an original pair); cross-stitch mixes them.
  assert.ok(!build("hps", [TASKS[0], age]).model.layers.some((l) => l.name.startsWith("cross_stitch")));
  assert.ok(
    build("cross-stitch", [TASKS[0], age]).model.layers.some((l) => l.name === "cross_stitch_emotion_age"),
  );
  const m = build("mmoe");
  const names = m.model.layers.map((l) => l.name);
  for (const n of ["expert_0", "expert_2", "gate_emotion", "gate_pose", "emotion_mixture", "pose_mixture"]) {
    assert.ok(names.includes(n), n);
  }
  assert.ok(!names.includes("expert_3") && !names.some((n) => n.startsWith("cross_stitch")));
  for (const x of [plain, hps, m]) x.model.dispose();
  assert.throws(
    () =>
      buildModel(
        {
          backbone: "mini_xception",
          tasks: TASKS,
          inputShape: [32, 32, 1],
          seed: 1,
          arch: "mmoe",
          head: "conv",
        } as never,
      ),
    /conv head .* only hps/,
  );
});

for (const backbone of ["mini_xception", "vggFace"] as BackboneName[]) {
  for (const arch of ["cross-stitch", "mmoe"] as const) {
    Deno.test(`${backbone} ${arch}: MGDA steps through the representation tap and the loss falls`, async () => {
      const model = buildModel({ backbone, tasks: TASKS, inputShape: SHAPE[backbone], seed: 2, arch });
      const b = 2;
      const x = tf.randomNormal([b, ...SHAPE[backbone]], 0, 1, "float32", 1) as tf.Tensor4D;
      const targets = {
        emotion: tf.cast(tf.oneHot(tf.tensor1d([1, 4], "int32"), 7), "float32") as tf.Tensor2D,
        pose: tf.cast(tf.oneHot(tf.tensor1d([0, 3], "int32"), 5), "float32") as tf.Tensor2D,
      };
      const masks = { emotion: tf.tensor1d([1, 1]), pose: tf.tensor1d([1, 1]) };
      const tw = (await findWeighting("mgda")).create({
        tasks: ["emotion", "pose"],
        options: {},
        rng: new Rng(1),
      });
      const optimizer = tf.train.adam(backbone === "vggFace" ? 1e-4 : 3e-3);
      const sums: number[] = [];
      for (let i = 0; i < 5; i++) {
        const r = await trainStep({ x, targets, masks }, {
          model,
          optimizer,
          lossWeights: {},
          terms: [],
          options: {},
          weighting: tw,
        });
        assert.equal(r.fault, undefined);
        sums.push(r.heads.emotion! + r.heads.pose!);
      }
      assert.ok(sums[4] < sums[0], sums.join(" "));
      tf.dispose([x, ...Object.values(targets), ...Object.values(masks)]);
      optimizer.dispose();
      model.model.dispose();
    });
  }
}

Deno.test("--arch is recorded, and a method that cannot use an architecture refuses it by name", async () => {
  const quiet = { print: () => {} };
  assert.equal(
    (await resolveRun("sa-mtl", ["--arch=mmoe", "--mmoe_experts=6"], quiet))?.options.arch,
    "mmoe",
  );
  assert.equal((await resolveRun("all-in-one", [], quiet))?.options.arch, "hps");
  await assert.rejects(() => resolveRun("stl", ["--arch=mmoe"], quiet), /--arch=mmoe: stl cannot use/);
  await assert.rejects(() => resolveRun("sa-mtl", ["--arch=mtan"], quiet), /--arch/);
  // SLRM's nuclear norm needs task branches that read one shared feature vector; MMoE's read expert mixtures.
  await assert.rejects(() => resolveRun("slrm", ["--arch=mmoe"], quiet), /--arch=mmoe: slrm cannot use/);
  assert.equal((await resolveRun("slrm", ["--arch=cross-stitch"], quiet))?.options.arch, "cross-stitch");
});
