/**
 * LEL-LTN's jointly trained label transfer network: built into the model on the gradient-stopped predictions,
 * trained by its own loss term on the batch's true labels only, read back by the strategy at a refresh.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../runner/backend.ts";
import { buildModel } from "../models/mod.ts";
import { labelEmbeddingExtension } from "../core/label_embedding.ts";
import {
  jointLabelTransferExtension,
  jointLabelTransferTerm,
  ltnOutputName,
} from "../core/label_transfer_joint.ts";
import { maskedCrossEntropy } from "../core/loss.ts";
import { softmaxRows } from "../core/labels/mod.ts";
import { trainStep } from "../runner/train/step.ts";
import { lelLtnStrategy } from "../methods/lel_ltn.ts";
import { Rng } from "../core/rng.ts";
import type { LossContext, TeacherView } from "../core/plugin.ts";
import type { TaskSpec } from "../core/types.ts";

await initBackend({ backend: "cpu", quiet: true });

const E: TaskSpec = { name: "emotion", classes: 7, labels: ["a", "b", "c", "d", "e", "f", "g"] };
const P: TaskSpec = { name: "pose", classes: 5, labels: ["a", "b", "c", "d", "e"] };

function ltnModel(inputs: "all" | "others" = "all") {
  return buildModel({
    backbone: "mini_xception",
    tasks: [E, P],
    inputShape: [32, 32, 1],
    seed: 2,
    extension: jointLabelTransferExtension({
      inner: labelEmbeddingExtension({ dim: 16 }),
      hidden: 8,
      inputs,
    }),
  });
}

const weightOf = (m: ReturnType<typeof ltnModel>, layer: string) =>
  m.model.getLayer(layer).getWeights()[0] as tf.Variable;

Deno.test("the LTN is part of the model and its loss cannot train the main network", () => {
  const m = ltnModel();
  const x = tf.randomNormal([4, 32, 32, 1], 0, 1, "float32", 3) as tf.Tensor4D;
  const out = m.apply(x, false);
  assert.deepEqual(out.extra[ltnOutputName("emotion")].shape, [4, 7]);
  assert.deepEqual(out.extra[ltnOutputName("pose")].shape, [4, 5]);
  // Input width: both tasks' distributions (all), or the other task's only (others).
  assert.deepEqual(weightOf(m, "ltn_emotion_hidden").shape, [12, 8]);
  const others = ltnModel("others");
  assert.deepEqual(weightOf(others, "ltn_emotion_hidden").shape, [5, 8]);
  others.model.dispose();
  const main = ["emotion_fc", "label_embedding", "emotion_label_proj"].map((l) => weightOf(m, l));
  const ltn = ["ltn_emotion_hidden", "ltn_emotion_out"].map((l) => weightOf(m, l));
  const { value, grads } = tf.variableGrads(
    () => tf.sum(tf.square(m.apply(x, true).extra[ltnOutputName("emotion")])) as tf.Scalar,
    [...main, ...ltn],
  );
  for (const v of main) assert.equal(tf.sum(tf.abs(grads[v.name])).dataSync()[0], 0, v.name);
  for (const v of ltn) assert.ok(tf.sum(tf.abs(grads[v.name])).dataSync()[0] > 0, v.name);
  tf.dispose([value, x, ...Object.values(grads), ...Object.values(out.extra)]);
  m.model.dispose();
});

Deno.test("the LTN term reads only the rows with a true label, and is gated by --ltn_training", () => {
  const term = jointLabelTransferTerm();
  assert.equal(term.coefficient({}), 1);
  assert.equal(term.coefficient({ ltn_weight: 0.5 }), 0.5);
  assert.equal(term.coefficient({ ltn_training: "refit" }), 0);
  const z = tf.tensor2d([[1, 0, -1], [0.5, 0.2, 0], [0, 2, 1]]);
  const truth = tf.tensor2d([[1, 0, 0], [0, 1, 0], [0, 0, 0]]);
  const mask = tf.tensor1d([1, 1, 0]);
  const ctx = (pseudoRow: number[], labelled: number[]) =>
    ({
      model: { tasks: [{ name: "pose", classes: 3, labels: ["a", "b", "c"] }] },
      outputs: { logits: {}, features: {}, extra: { ltn_pose: z } },
      probs: {},
      masks: { pose: mask },
      targets: { pose: tf.tensor2d([[1, 0, 0], pseudoRow, [0, 0, 0]]) },
      labelled: { pose: tf.tensor1d(labelled) },
      options: {},
    }) as unknown as LossContext;
  // Row 1 carries a pseudo label: whatever it is, the term is the loss of row 0 alone.
  const a = term.compute(ctx([0, 1, 0], [1, 0, 0])).dataSync()[0];
  const b = term.compute(ctx([0, 0, 1], [1, 0, 0])).dataSync()[0];
  const want = maskedCrossEntropy(z, truth, tf.tensor1d([1, 0, 0])).dataSync()[0];
  assert.equal(a, b);
  assert.ok(Math.abs(a - want) < 1e-6);
  const noMasks = { ...ctx([0, 1, 0], [1, 0, 0]), labelled: undefined } as unknown as LossContext;
  assert.throws(() => term.compute(noMasks), /true-label masks/);
});

Deno.test("a training step lowers the LTN loss on a fixed batch (targets and true-label masks reach the term)", async () => {
  const m = ltnModel();
  const optimizer = tf.train.adam(1e-2);
  const x = tf.randomNormal([8, 32, 32, 1], 0, 1, "float32", 4) as tf.Tensor4D;
  const ye = tf.cast(tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 0], "int32"), 7), "float32") as tf.Tensor2D;
  const yp = tf.cast(tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 0, 1, 2], "int32"), 5), "float32") as tf.Tensor2D;
  const ones = tf.ones([8]) as tf.Tensor1D;
  const ltn: number[] = [];
  for (let i = 0; i < 12; i++) {
    const r = await trainStep({
      x,
      targets: { emotion: ye, pose: yp },
      masks: { emotion: ones, pose: ones },
      labelled: { emotion: ones, pose: ones },
    }, { model: m, optimizer, lossWeights: {}, terms: [jointLabelTransferTerm()], options: {} });
    assert.equal(r.fault, undefined);
    ltn.push(r.terms.ltn);
  }
  assert.ok(ltn[11] < 0.9 * ltn[0], `ltn loss ${ltn[0]} -> ${ltn[11]}`);
  tf.dispose([x, ye, yp, ones]);
  optimizer.dispose();
  m.model.dispose();
});

Deno.test("with --ltn_training=joint the targets come from the snapshot's LTN output", () => {
  const c = 3, n = 2;
  const z = Float32Array.from([2, 0, 0, 0, 0, 3]);
  const view = {
    task: { name: "pose", classes: c, labels: ["a", "b", "c"] },
    n,
    logits: new Float32Array(n * c),
    probs: Float32Array.from([0.1, 0.8, 0.1, 0.8, 0.1, 0.1]),
    features: new Float32Array(n * 4),
    d: 4,
    labelled: { n: 0, features: new Float32Array(0), labels: new Int32Array(0), probs: new Float32Array(0) },
    otherProbs: {},
    otherLabels: {},
    extra: { ltn_pose: z },
  } as unknown as TeacherView;
  const ctx = { options: { ltn_training: "joint", pseudo_target: "scaled" }, rng: new Rng(1), compat: false };
  const out = lelLtnStrategy.build!(view, ctx) as { targets: Float32Array; stats: Record<string, number> };
  const p = softmaxRows(z, c);
  // Row 0: class 0 at p_max; row 1: class 2; the teacher's own head said 1 and 0.
  assert.ok(Math.abs(out.targets[0] - p[0]) < 1e-6 && out.targets[1] === 0 && out.targets[2] === 0);
  assert.ok(Math.abs(out.targets[5] - p[5]) < 1e-6);
  assert.equal(out.stats.ltn_agree_teacher, 0);
  assert.ok(!lelLtnStrategy.needsLabelled!({ ltn_training: "joint" }));
  assert.ok(lelLtnStrategy.needsLabelled!({ ltn_training: "refit" }));
  assert.throws(
    () => lelLtnStrategy.build!({ ...view, extra: {} } as TeacherView, ctx),
    /no ltn_pose output/,
  );
});
