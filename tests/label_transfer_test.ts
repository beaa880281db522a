import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { initBackend } from "../runner/backend.ts";
import { labelEmbeddingExtension, LabelEmbeddingLogits } from "../core/label_embedding.ts";
import { lelLtnStrategy } from "../methods/lel_ltn.ts";
import type { StrategyContext, TeacherView } from "../core/plugin.ts";
import type { TaskSpec } from "../core/types.ts";
import {
  concatRows,
  createLabelTransfer,
  predictLabelTransfer,
  trainLabelTransfer,
} from "../core/label_transfer.ts";
import { Rng } from "../core/rng.ts";

await initBackend({ backend: "cpu" });

/** Rows of two "other task" distributions (4 and 2 classes); target = f(argmax of the first), 5% noise. */
function toy(rng: Rng, n: number) {
  const a = new Float32Array(n * 4);
  const b = new Float32Array(n * 2);
  const labels = new Int32Array(n);
  const clean = new Int32Array(n);
  const f = [2, 0, 1, 2]; // a known non-monotone map from 4 classes to 3
  for (let i = 0; i < n; i++) {
    const top = rng.int(4);
    let s = 0;
    for (let c = 0; c < 4; c++) s += a[i * 4 + c] = (c === top ? 3 : 0) + rng.next();
    for (let c = 0; c < 4; c++) a[i * 4 + c] /= s;
    const g = rng.next();
    b[i * 2] = g;
    b[i * 2 + 1] = 1 - g;
    clean[i] = f[top];
    labels[i] = rng.next() < 0.05 ? rng.int(3) : f[top];
  }
  return { x: concatRows([a, b], n), labels, clean };
}

function argmaxAccuracy(p: Float32Array, truth: Int32Array, c: number): number {
  let ok = 0;
  for (let i = 0; i < truth.length; i++) {
    let best = 0;
    for (let k = 1; k < c; k++) if (p[i * c + k] > p[i * c + best]) best = k;
    if (best === truth[i]) ok++;
  }
  return ok / truth.length;
}

Deno.test("label transfer network", async (t) => {
  await t.step("concatRows interleaves per row", () => {
    const out = concatRows([Float32Array.from([1, 2, 3, 4]), Float32Array.from([9, 8])], 2);
    assert.deepEqual(Array.from(out), [1, 2, 9, 3, 4, 8]);
    assert.throws(() => concatRows([new Float32Array(3)], 2), /part 0/);
  });
  await t.step("learns a known label mapping from noisy labels (> 90% held-out accuracy)", () => {
    const rng = new Rng(21);
    const train = toy(rng, 600);
    const test = toy(rng, 300);
    const net = createLabelTransfer({ inDim: 6, classes: 3, hidden: 16 }, rng.derive("init"));
    const before = argmaxAccuracy(predictLabelTransfer(net, test.x), test.clean, 3);
    const { losses } = trainLabelTransfer(net, train, { rng: rng.derive("shuffle"), epochs: 15 });
    assert.ok(
      losses[losses.length - 1] < 0.6 * losses[0],
      `losses ${losses[0]} -> ${losses[losses.length - 1]}`,
    );
    const p = predictLabelTransfer(net, test.x);
    const acc = argmaxAccuracy(p, test.clean, 3);
    assert.ok(acc > 0.9, `accuracy ${acc} (before training ${before})`);
    for (let i = 0; i < 300; i++) assert.ok(Math.abs(p[i * 3] + p[i * 3 + 1] + p[i * 3 + 2] - 1) < 1e-5);
  });
  await t.step("same seed, same network; -1 rows are skipped; bad labels throw", () => {
    const run = () => {
      const rng = new Rng(5);
      const d = toy(rng, 100);
      d.labels[0] = -1;
      const net = createLabelTransfer({ inDim: 6, classes: 3 }, rng);
      trainLabelTransfer(net, d, { rng, epochs: 2 });
      return net.w1;
    };
    assert.deepEqual(run(), run());
    const rng = new Rng(6);
    const d = toy(rng, 10);
    d.labels[3] = 7;
    const net = createLabelTransfer({ inDim: 6, classes: 3 }, rng);
    assert.throws(() => trainLabelTransfer(net, d, { rng }), /row 3 has label 7/);
    assert.throws(
      () => trainLabelTransfer(net, { x: d.x, labels: new Int32Array(10).fill(-1) }, { rng }),
      /no labelled/,
    );
  });
});

const EMOTION: TaskSpec = { name: "emotion", classes: 3, labels: ["a", "b", "c"] };
const POSE: TaskSpec = { name: "pose", classes: 2, labels: ["l", "r"] };

Deno.test("label embedding extension", async (t) => {
  const inp = tfl.input({ shape: [8] });
  const fe = tfl.layers.dense({ units: 6, name: "emotion_fc" }).apply(inp) as tfl.SymbolicTensor;
  const fp = tfl.layers.dense({ units: 6, name: "pose_fc" }).apply(inp) as tfl.SymbolicTensor;
  const res = labelEmbeddingExtension({ dim: 4 })({
    tasks: [EMOTION, POSE],
    features: { emotion: fe, pose: fp },
    logits: {},
    seed: 7,
  });
  const model = tfl.model({ inputs: inp, outputs: [res.logits!.emotion!, res.logits!.pose!] });
  const layer = model.getLayer("label_embedding") as LabelEmbeddingLogits;
  const x = tf.tensor2d(Float32Array.from({ length: 5 * 8 }, (_, i) => Math.sin(i)), [5, 8]);

  await t.step("shapes and logits = projection · label embeddingsᵀ", () => {
    assert.deepEqual(res.logits!.emotion!.shape, [null, 3]);
    assert.deepEqual(res.logits!.pose!.shape, [null, 2]);
    assert.deepEqual(layer.embedding.shape, [5, 4]);
    const [le, lp] = model.predict(x) as tf.Tensor[];
    assert.deepEqual(le.shape, [5, 3]);
    assert.deepEqual(lp.shape, [5, 2]);
    const sub = tfl.model({
      inputs: inp,
      outputs: model.getLayer("pose_label_proj").output as tfl.SymbolicTensor,
    });
    const h = sub.predict(x) as tf.Tensor2D;
    const want = tf.matMul(h, tf.slice(layer.embedding.read(), [3, 0], [2, 4]) as tf.Tensor2D, false, true);
    const diff = tf.max(tf.abs(tf.sub(want, lp))).dataSync()[0];
    assert.ok(diff < 1e-5, `pose logits differ by ${diff}`);
    tf.dispose([le, lp, h, want]);
  });
  await t.step("gradients reach every row of the shared embedding", () => {
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const emb = layer.embedding.read() as tf.Variable;
    const { value, grads } = tf.variableGrads(() => {
      const [le, lp] = model.apply(x) as tf.Tensor[];
      return tf.add(tf.sum(tf.square(le)), tf.sum(tf.square(lp))) as tf.Scalar;
    }, vars);
    const g = grads[emb.name].arraySync() as number[][];
    for (const row of g) assert.ok(row.some((v) => Math.abs(v) > 0), "an embedding row got no gradient");
    tf.dispose([value, ...Object.values(grads)]);
  });
  await t.step("serialises and reloads through the class registry", async () => {
    const copy = await tfl.models.modelFromJSON(model.toJSON(undefined, false) as never);
    assert.ok(copy.layers.some((l) => l.getClassName() === "LabelEmbeddingLogits"));
    assert.throws(() => new LabelEmbeddingLogits({ classCounts: [3], dim: 0 }), /label_embedding_dim/);
  });
  x.dispose();
});

/** A teacher view where the emotion label is a function of the predicted pose (plus an uninformative own head). */
function ltnView(rng: Rng, n: number, nl: number) {
  const f = (poseTop: number, g: number) => (poseTop === 0 ? (g < 0.5 ? 0 : 1) : 2);
  const make = (m: number) => {
    const pose = new Float32Array(m * 2);
    const gender = new Float32Array(m * 2);
    const own = new Float32Array(m * 3).fill(1 / 3);
    const y = new Int32Array(m);
    for (let i = 0; i < m; i++) {
      const top = rng.int(2);
      const conf = 0.6 + 0.4 * rng.next();
      pose[i * 2 + top] = conf;
      pose[i * 2 + 1 - top] = 1 - conf;
      const g = rng.next();
      gender[i * 2] = g;
      gender[i * 2 + 1] = 1 - g;
      y[i] = f(top, g);
    }
    return { pose, gender, own, y };
  };
  const lab = make(nl);
  const rows = make(n);
  const view: TeacherView = {
    task: EMOTION,
    n,
    logits: new Float32Array(n * 3),
    probs: rows.own,
    features: new Float32Array(n * 4),
    d: 4,
    labelled: {
      n: nl,
      features: new Float32Array(nl * 4),
      labels: lab.y,
      probs: lab.own,
      otherProbs: { pose: lab.pose, gender: lab.gender },
    },
    otherProbs: { pose: rows.pose, gender: rows.gender },
    otherLabels: {},
  };
  return { view, truth: rows.y };
}

Deno.test("LEL-LTN strategy (--ltn_training=refit)", async (t) => {
  const ctx = (options: Record<string, string | number>): StrategyContext => ({
    options: { ltn_epochs: 30, ltn_training: "refit", ...options },
    rng: new Rng(9),
    compat: false,
  });
  await t.step("pseudo labels from the transfer network recover the hidden labels", async () => {
    const { view, truth } = ltnView(new Rng(31), 200, 600);
    const out = await lelLtnStrategy.build!(view, ctx({ pseudo_target: "scaled" }));
    let ok = 0;
    for (let i = 0; i < view.n; i++) {
      const row = out.targets.subarray(i * 3, i * 3 + 3);
      const nz = Array.from(row).filter((v) => v > 0);
      assert.equal(nz.length, 1);
      assert.ok(Math.abs(nz[0] - out.weights![i]) < 1e-6, "scaled target = p_max");
      if (row.indexOf(nz[0]) === truth[i]) ok++;
    }
    assert.ok(ok / view.n > 0.9, `pseudo-label accuracy ${ok / view.n}`);
    assert.ok(out.stats!.ltn_train_acc > 0.9);
    const hot = await lelLtnStrategy.build!(view, ctx({ pseudo_target: "onehot", ltn_inputs: "others" }));
    assert.ok(Array.from(hot.targets).every((v) => v === 0 || v === 1));
  });
  await t.step("a view without the labelled rows' other-task predictions is refused clearly", () => {
    const { view } = ltnView(new Rng(32), 10, 10);
    delete view.labelled.otherProbs;
    assert.throws(() => lelLtnStrategy.build!(view, ctx({})), /labelled.otherProbs/);
    const bad = ltnView(new Rng(33), 10, 10).view;
    assert.throws(() => lelLtnStrategy.build!(bad, ctx({ pseudo_target: "soft" })), /--pseudo_target/);
  });
});
