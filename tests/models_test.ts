import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { initBackend } from "../runner/backend.ts";
import type { BackboneName, TaskName, TaskSpec } from "../core/types.ts";
import {
  buildModel,
  type BuildOptions,
  countParams,
  CrossStitch,
  recalibrateBatchNorm,
} from "../models/mod.ts";

await initBackend({ backend: "cpu", quiet: true });

function task(name: TaskName, classes: number): TaskSpec {
  return { name, classes, labels: Array.from({ length: classes }, (_, i) => `${name}${i}`) };
}

const E7 = task("emotion", 7);
const E8 = task("emotion", 8);
const P = task("pose", 5);
const G = task("gender", 2);
const A = task("age", 8);
const D = task("digit", 10);
const R = task("rotation", 4);

/** Small input per backbone so the tests stay fast on the CPU. */
const SMALL: Record<BackboneName, [number, number, number]> = {
  mini_xception: [32, 32, 1],
  big_xception: [32, 32, 1],
  vggFace: [32, 32, 3],
};

function build(backbone: BackboneName, tasks: TaskSpec[], extra: Partial<BuildOptions> = {}) {
  return buildModel({ backbone, tasks, inputShape: SMALL[backbone], seed: 1, ...extra });
}

function input(backbone: BackboneName, n: number, seed = 5): tf.Tensor4D {
  return tf.randomNormal([n, ...SMALL[backbone]], 0, 1, "float32", seed) as tf.Tensor4D;
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

const BACKBONES: BackboneName[] = ["mini_xception", "vggFace", "big_xception"];

Deno.test("shapes for every backbone and head combination", async (t) => {
  // task_type combinations of the spec's factory (4.1) plus the digits-rot benchmark and odd class counts.
  const combos: TaskSpec[][] = [
    [E7],
    [A],
    [G, A],
    [E7, A],
    [E7, G, A],
    [P],
    [E7, P, A],
    [G],
    [E7, P],
    [E7, P, G, A],
    [
      E8,
      P,
    ],
    [D, R],
    [task("rotation", 3)],
  ];
  // The head code is shared by all backbones; VGG16 (15M trunk weights per build) gets the structurally distinct subset.
  const vggCombos = [[E7], [G, A], [E7, P, G, A], [E8, P], [D, R]];
  for (const backbone of BACKBONES) {
    await t.step(backbone, () => {
      const x = input(backbone, 2);
      for (const tasks of backbone === "vggFace" ? vggCombos : combos) {
        for (const head of backbone === "vggFace" ? ["branch"] as const : ["branch", "conv"] as const) {
          const m = build(backbone, tasks, { head });
          const out = m.apply(x, false);
          const featureWidth = head === "conv" ? (backbone === "big_xception" ? 256 : 128) : 128;
          for (const tk of tasks) {
            assert.deepEqual(
              out.logits[tk.name]!.shape,
              [2, tk.classes],
              `${backbone}/${head} ${tk.name} logits`,
            );
            assert.deepEqual(
              out.features[tk.name]!.shape,
              [2, featureWidth],
              `${backbone}/${head} ${tk.name} features`,
            );
          }
          assert.deepEqual(Object.keys(out.logits).sort(), tasks.map((tk) => tk.name).sort());
          const stitched = m.model.layers.filter((l) => l instanceof CrossStitch).map((l) => l.name);
          const names = tasks.map((tk) => tk.name);
          const expect = head === "branch"
            ? [["emotion", "pose"], ["digit", "rotation"]].filter((g) =>
              g.every((n) => names.includes(n as TaskName))
            )
              .map((g) => `cross_stitch_${g.join("_")}`)
            : [];
          assert.deepEqual(stitched, expect, `${backbone}/${head} ${names}`);
          tf.dispose([...Object.values(out.logits), ...Object.values(out.features)]);
          m.model.dispose();
        }
      }
      x.dispose();
    });
  }
  await t.step("bad options give one-line errors", () => {
    assert.throws(
      () => buildModel({ backbone: "vggFace", tasks: [E7], inputShape: [16, 16, 3], seed: 1 }),
      /too small/,
    );
    assert.throws(() => build("mini_xception", []), /no tasks/);
    assert.throws(() => build("mini_xception", [E7, E7]), /given twice/);
    assert.throws(() => build("vggFace", [E7], { head: "conv" }), /Xception/);
    assert.throws(() => build("mini_xception", [E7], { bnMomentum: 1 }), /bn_momentum/);
  });
});

Deno.test("feature taps, roles, freezing, tricks", async (t) => {
  await t.step("feature tap is the linear branch output before the cross-stitch", () => {
    const m = build("mini_xception", [E7, P]);
    const x = input("mini_xception", 3);
    const out = m.apply(x, false);
    // Compute emotion_fc directly: GAP of the trunk times the branch kernel plus bias.
    const sub = tfl.model({
      inputs: m.model.inputs,
      outputs: m.model.getLayer("gap_trunk").output as tfl.SymbolicTensor,
    });
    const gap = sub.predict(x) as tf.Tensor2D;
    const [k, b] = m.model.getLayer("emotion_fc").getWeights();
    const expected = tf.add(tf.matMul(gap, k as tf.Tensor2D), b);
    assert.ok(maxAbsDiff(out.features.emotion!, expected) < 1e-5);
    // Pre-ReLU: a linear layer on random data has negative entries.
    assert.ok(tf.min(out.features.emotion!).dataSync()[0] < 0);
    m.model.dispose();
  });

  await t.step("cross-stitch starts as the identity (on/off give the same initial outputs)", () => {
    for (const backbone of BACKBONES) {
      const on = build(backbone, [E7, P, A]);
      const off = build(backbone, [E7, P, A], { crossStitch: false });
      const x = input(backbone, 2);
      const a = on.apply(x, false).logits;
      const b = off.apply(x, false).logits;
      for (const n of ["emotion", "pose", "age"] as const) {
        assert.ok(maxAbsDiff(a[n]!, b[n]!) < 1e-5, `${backbone} ${n}`);
      }
      assert.equal(on.model.layers.filter((l) => l instanceof CrossStitch).length, 1);
      assert.equal(off.model.layers.filter((l) => l instanceof CrossStitch).length, 0);
      on.model.dispose();
      off.model.dispose();
    }
  });

  await t.step("gradients reach the cross-stitch matrix", () => {
    const m = build("mini_xception", [E7, P]);
    const x = input("mini_xception", 4);
    const cs = m.model.getLayer("cross_stitch_emotion_pose").getWeights()[0] as tf.Variable;
    const poseFc = m.model.getLayer("pose_fc").getWeights()[0] as tf.Variable;
    // Emotion loss only. The block of W that feeds pose features into the emotion output gets a gradient,
    // while at the identity initialisation the pose branch itself gets none yet.
    const { value, grads } = tf.variableGrads(
      () => tf.sum(tf.square(m.apply(x, true).logits.emotion!)) as tf.Scalar,
      [cs, poseFc],
    );
    const poseToEmotion = tf.slice(grads[cs.name], [128, 0], [128, 128]);
    assert.ok(tf.sum(tf.abs(poseToEmotion)).dataSync()[0] > 0);
    assert.equal(tf.sum(tf.abs(grads[poseFc.name])).dataSync()[0], 0);
    tf.dispose([value, x, poseToEmotion, ...Object.values(grads)]);
    m.model.dispose();
  });

  await t.step("weightsByRole", () => {
    const v = build("vggFace", [E7, P, G]);
    const [shared] = v.weightsByRole("shared_fc");
    assert.deepEqual(shared.shape, [512, 1024]); // common_fc after pool5 (1x1x512 at 32x32)
    assert.deepEqual(v.weightsByRole("task_heads").map((w) => w.shape), [[128, 7], [128, 5], [128, 2]]);
    v.model.dispose();
    const m = build("mini_xception", [E7, P]);
    assert.deepEqual(m.weightsByRole("shared_fc")[0].shape, [1, 1, 128, 128]);
    const c = build("big_xception", [E7, P], { head: "conv" });
    assert.deepEqual(c.weightsByRole("task_heads").map((w) => w.shape), [[3, 3, 256, 7], [3, 3, 256, 5]]);
    m.model.dispose();
    c.model.dispose();
  });

  await t.step("task_fc kernels all read the one shared feature vector; logit kernels do not", () => {
    // The layer that owns a variable, and the layers its (single) call reads.
    const owner = (m: ReturnType<typeof build>, v: tf.Variable) =>
      m.model.layers.find((l) => l.weights.some((w) => w.read() === v))!;
    const reads = (m: ReturnType<typeof build>, v: tf.Variable) => {
      const layer = owner(m, v);
      assert.equal(layer.inboundNodes.length, 1, layer.name);
      return layer.inboundNodes[0].inboundLayers.map((l) => l.name);
    };
    const cases: [BackboneName, TaskSpec[], Partial<BuildOptions>, number][] = [
      ["mini_xception", [E7, P, G, A], {}, 128],
      ["mini_xception", [E7, P], { arch: "cross-stitch" }, 128],
      ["vggFace", [E7, P], {}, 1024],
      ["big_xception", [E7, P], { head: "conv" }, 3 * 3 * 256],
    ];
    for (const [backbone, tasks, extra, rows] of cases) {
      const m = build(backbone, tasks, extra);
      const fc = m.weightsByRole("task_fc");
      assert.equal(fc.length, tasks.length);
      for (const v of fc) {
        assert.deepEqual(reads(m, v), ["shared_rep"], `${backbone} ${owner(m, v).name}`);
        assert.equal(v.shape.slice(0, -1).reduce((a, b) => a * b, 1), rows);
      }
      if ((extra.head ?? "branch") === "branch") {
        assert.deepEqual(fc.map((v) => owner(m, v).name), tasks.map((t) => `${t.name}_fc`));
        // The logit kernels of emotion and pose read the two outputs of the cross-stitch unit: different features.
        const heads = m.weightsByRole("task_heads");
        const [e, p] = [heads[0], heads[1]].map((v) => owner(m, v).inboundNodes[0]);
        assert.equal(e.inboundLayers[0], p.inboundLayers[0]);
        assert.notEqual(e.tensorIndices[0], p.tensorIndices[0]);
        assert.match(e.inboundLayers[0].name, /^cross_stitch/);
      }
      m.model.dispose();
    }
    const mmoe = build("mini_xception", [E7, P], { arch: "mmoe" });
    assert.throws(() => mmoe.weightsByRole("task_fc"), /expert mixture/);
    mmoe.model.dispose();
  });

  await t.step("setTrunkTrainable(false) freezes exactly the trunk", () => {
    const m = build("vggFace", [E7, P]);
    const all = m.trainableWeights().length;
    m.setTrunkTrainable(false);
    const frozen = m.trainableWeights();
    assert.equal(all - frozen.length, 26); // 13 conv kernels + 13 biases
    const conv = m.model.getLayer("conv1_1").getWeights()[0] as tf.Variable;
    assert.ok(!frozen.includes(conv));
    const before = conv.clone();
    const head = m.weightsByRole("task_heads")[0];
    const headBefore = head.clone();
    const opt = tf.train.adam(1e-2);
    const x = input("vggFace", 2);
    opt.minimize(() => tf.sum(tf.square(m.apply(x, true).logits.emotion!)) as tf.Scalar, false, frozen);
    assert.equal(maxAbsDiff(before, conv), 0);
    assert.ok(maxAbsDiff(headBefore, head) > 0);
    m.setTrunkTrainable(true);
    assert.equal(m.trainableWeights().length, all);
    tf.dispose([before, headBefore, x]);
    opt.dispose();
    m.model.dispose();
  });

  await t.step("isBn and isDropout place layers as docs/original.md §4.7 / B3 say", () => {
    const m = build("vggFace", [E7, P, G, A], { isBn: true, isDropout: true });
    const of = (cls: string) =>
      m.model.layers.filter((l) => l.getClassName() === cls).map((l) => l.name).sort();
    assert.deepEqual(of("BatchNormalization"), ["age_bn", "common_bn", "emotion_bn", "pose_bn"]);
    assert.deepEqual(of("Dropout"), ["age_dropout", "common_dropout", "emotion_dropout", "pose_dropout"]);
    for (const l of m.model.layers.filter((l) => l.getClassName() === "BatchNormalization")) {
      assert.equal(l.getConfig().momentum, 0.9);
    }
    const plain = build("vggFace", [E7, P, G, A]);
    assert.equal(
      plain.model.layers.filter((l) => ["BatchNormalization", "Dropout"].includes(l.getClassName())).length,
      0,
    );
    const x = input("vggFace", 4);
    const a = m.apply(x, false).logits.emotion!;
    const b = m.apply(x, false).logits.emotion!;
    const c = m.apply(x, true).logits.emotion!;
    assert.equal(maxAbsDiff(a, b), 0);
    assert.ok(maxAbsDiff(a, c) > 1e-4);
    m.model.dispose();
    plain.model.dispose();
  });

  await t.step("weightsDecay adds wd * sum(W^2) over the Dense kernels", () => {
    const none = build("vggFace", [E7, P]);
    assert.equal(none.regularizationLoss!(), null);
    none.model.dispose();
    const wd = 1e-3;
    const m = build("vggFace", [E7, P], { weightsDecay: wd });
    const dense = m.model.layers.filter((l) => l.getClassName() === "Dense");
    assert.equal(dense.length, 5); // common_fc, emotion_fc, pose_fc, emotion, pose
    const expected = wd * dense.reduce((s, l) => s + tf.sum(tf.square(l.getWeights()[0])).dataSync()[0], 0);
    const got = m.regularizationLoss!()!.dataSync()[0];
    assert.ok(Math.abs(got - expected) / expected < 1e-5, `${got} vs ${expected}`);
    // It has a gradient (it is a loss term the optimiser can act on).
    const grads = tf.variableGrads(() => m.regularizationLoss!()!, m.weightsByRole("task_heads"));
    assert.ok(tf.sum(tf.abs(grads.grads[Object.keys(grads.grads)[0]])).dataSync()[0] > 0);
    m.model.dispose();
    // mini-Xception keeps the original fixed L2(0.01) on its two stem convolutions (docs/original.md §4.4, §5.1).
    const mini = build("mini_xception", [E7]);
    const stem = ["stem_conv1", "stem_conv2"].map((n) =>
      tf.sum(tf.square(mini.model.getLayer(n).getWeights()[0])).dataSync()[0]
    );
    assert.ok(Math.abs(mini.regularizationLoss!()!.dataSync()[0] - 0.01 * (stem[0] + stem[1])) < 1e-6);
    mini.model.dispose();
  });

  await t.step("same seed -> same weights; other seed -> different", () => {
    const a = build("mini_xception", [E7, P]);
    const b = build("mini_xception", [E7, P]);
    const c = build("mini_xception", [E7, P], { seed: 2 });
    const wa = a.model.getWeights();
    const wb = b.model.getWeights();
    const wc = c.model.getWeights();
    assert.ok(wa.every((w, i) => maxAbsDiff(w, wb[i]) === 0));
    assert.ok(maxAbsDiff(wa[0], wc[0]) > 0);
    [a, b, c].forEach((m) => m.model.dispose());
  });

  await t.step("extension hook: replacement logits and extra outputs", () => {
    const m = build("mini_xception", [E7, P], {
      extension: (ctx) => {
        const zero = tfl.layers.dense({
          units: 7,
          kernelInitializer: "zeros",
          biasInitializer: "zeros",
          name: "ext_emotion",
        });
        const emb = tfl.layers.dense({ units: 16, name: "ext_embed" });
        return {
          logits: { emotion: zero.apply(ctx.features.emotion!) as tfl.SymbolicTensor },
          extra: { embed: emb.apply(ctx.logits.pose!) as tfl.SymbolicTensor },
        };
      },
    });
    const out = m.apply(input("mini_xception", 2), false);
    assert.equal(tf.max(tf.abs(out.logits.emotion!)).dataSync()[0], 0);
    assert.deepEqual(out.extra.embed.shape, [2, 16]);
    assert.deepEqual(out.logits.pose!.shape, [2, 5]);
    m.model.dispose();
  });

  await t.step("manifold outputs only on request (docs/original.md B2)", () => {
    const off = build("vggFace", [E7, P]);
    assert.deepEqual(Object.keys(off.apply(input("vggFace", 1), false).extra), []);
    const on = build("vggFace", [E7, P], { manifold: true });
    const out = on.apply(input("vggFace", 2), false);
    assert.deepEqual(out.extra.manifold_emotion.shape, [2, 135]);
    assert.deepEqual(out.extra.manifold_pose.shape, [2, 133]);
    off.model.dispose();
    on.model.dispose();
    // Their content is the spec's: [emotion_relu (post-BN, post-ReLU, pre-cross-stitch) ‖ softmax(logits)].
    const bnm = build("mini_xception", [E7, P], { manifold: true, isBn: true });
    const x = input("mini_xception", 3);
    const relu = tfl.model({ inputs: bnm.model.inputs, outputs: bnm.model.getLayer("emotion_relu").output });
    const o = bnm.apply(x, false);
    const mf = o.extra.manifold_emotion as tf.Tensor2D;
    const r = relu.predict(x) as tf.Tensor;
    assert.equal(maxAbsDiff(tf.slice(mf, [0, 0], [3, 128]), r), 0);
    assert.ok(maxAbsDiff(tf.slice(mf, [0, 0], [3, 128]), o.features.emotion!) > 0, "not the pre-ReLU tap");
    assert.ok(maxAbsDiff(tf.slice(mf, [0, 128], [3, 7]), tf.softmax(o.logits.emotion!)) < 1e-6);
    tf.dispose([x, r]);
    bnm.model.dispose();
  });
});

Deno.test("CrossStitch layer: unequal widths, identity init, serialization", async () => {
  const a = tfl.input({ shape: [3] });
  const b = tfl.input({ shape: [5] });
  const cs = new CrossStitch({ name: "cs" });
  const outs = cs.apply([a, b]) as tfl.SymbolicTensor[];
  const model = tfl.model({ inputs: [a, b], outputs: outs });
  const W = tf.randomNormal([8, 8], 0, 1, "float32", 9);
  const initial = cs.getWeights()[0];
  assert.equal(maxAbsDiff(initial, tf.eye(8)), 0);
  cs.setWeights([W]);
  const xa = tf.randomNormal([4, 3], 0, 1, "float32", 1);
  const xb = tf.randomNormal([4, 5], 0, 1, "float32", 2);
  const [ya, yb] = model.predict([xa, xb]) as tf.Tensor[];
  const u = tf.matMul(tf.concat([xa, xb], 1), W);
  assert.deepEqual(ya.shape, [4, 3]);
  assert.deepEqual(yb.shape, [4, 5]);
  assert.ok(maxAbsDiff(ya, tf.slice(u, [0, 0], [-1, 3])) < 1e-5);
  assert.ok(maxAbsDiff(yb, tf.slice(u, [0, 3], [-1, 5])) < 1e-5); // second slice starts at the first width (docs/original.md B32)
  // Save to memory and load back through tfjs serialization.
  let saved: tf.io.ModelArtifacts | null = null;
  await model.save(tf.io.withSaveHandler((art) => {
    saved = art;
    return Promise.resolve({ modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } });
  }));
  const loaded = await tfl.loadLayersModel(tf.io.fromMemory(saved!));
  const [za, zb] = loaded.predict([xa, xb]) as tf.Tensor[];
  assert.equal(maxAbsDiff(za, ya), 0);
  assert.equal(maxAbsDiff(zb, yb), 0);
  // A full multi-task model with the layer survives the same round trip.
  const m = build("mini_xception", [E7, P]);
  let art: tf.io.ModelArtifacts | null = null;
  await m.model.save(tf.io.withSaveHandler((x) => {
    art = x;
    return Promise.resolve({ modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } });
  }));
  const back = await tfl.loadLayersModel(tf.io.fromMemory(art!));
  const x = input("mini_xception", 2);
  const p1 = m.model.predict(x) as tf.Tensor[];
  const p2 = back.predict(x) as tf.Tensor[];
  p1.forEach((p, i) => assert.equal(maxAbsDiff(p, p2[i]), 0));
  m.model.dispose();
  back.dispose();
});

Deno.test("recalibrateBatchNorm makes inference match training-mode statistics", () => {
  const m = build("mini_xception", [E7, P], { isBn: true, isDropout: true });
  const x = tf.tidy(() => tf.add(tf.mul(input("mini_xception", 32, 3), 3), 2)) as tf.Tensor4D;
  const noDrop = build("mini_xception", [E7, P], { isBn: true }); // same seed, same weights, no dropout
  const train = noDrop.apply(x, true).logits.emotion!; // batch statistics (also moves noDrop's stats a bit)
  const before = m.apply(x, false).logits.emotion!;
  assert.ok(maxAbsDiff(before, train) > 1e-2, "fresh moving statistics should be far from the batch");
  recalibrateBatchNorm(m, x);
  const after = m.apply(x, false).logits.emotion!;
  assert.ok(maxAbsDiff(after, train) < 1e-3, `after recalibration: ${maxAbsDiff(after, train)}`);
  for (const l of m.model.layers) {
    if (l.getClassName() === "BatchNormalization") assert.equal(l.getConfig().momentum, 0.9);
    if (l.getClassName() === "Dropout") assert.equal(l.getConfig().rate, 0.5);
  }
  // Chunked passes pool the statistics exactly: the first BN (its input does not depend on other BNs)
  // ends with the moments of its input over all rows.
  recalibrateBatchNorm(m, x, { batchSize: 7 });
  const bn1 = m.model.getLayer("stem_conv1_bn");
  const probe = tfl.model({ inputs: m.model.inputs, outputs: bn1.input as tfl.SymbolicTensor });
  const { mean, variance } = tf.moments(probe.predict(x) as tf.Tensor, [0, 1, 2]);
  const [, , movingMean, movingVar] = bn1.getWeights();
  assert.ok(maxAbsDiff(mean, movingMean) < 1e-4 * (1 + tf.max(tf.abs(mean)).dataSync()[0]));
  assert.ok(maxAbsDiff(variance, movingVar) < 1e-4 * (1 + tf.max(variance).dataSync()[0]));
  // Downstream layers see per-chunk normalised inputs, so the outputs stay close to the full-batch ones.
  const chunked = m.apply(x, false).logits.emotion!;
  assert.ok(maxAbsDiff(chunked, train) < 0.2 * tf.max(tf.abs(train)).dataSync()[0]);
  m.model.dispose();
  noDrop.model.dispose();
});

Deno.test("parameter counts match the spec's architectures", () => {
  // VGGFace at 224x224x3 with emotion (7) + pose (5), docs/original.md §4.2: trunk + common_fc + 2 branches + cross-stitch + logits.
  const trunk = [
    [3, 64],
    [64, 64],
    [64, 128],
    [128, 128],
    [128, 256],
    [256, 256],
    [256, 256],
    [256, 512],
    [512, 512],
    [
      512,
      512,
    ],
    [512, 512],
    [512, 512],
    [512, 512],
  ].reduce((s, [i, o]) => s + 9 * i * o + o, 0);
  assert.equal(trunk, 14_714_688); // the keras VGG16 notop count
  const expected = trunk + (25088 * 1024 + 1024) + 2 * (1024 * 128 + 128) + 256 * 256 + (128 * 7 + 7) +
    (128 * 5 + 5);
  const v = buildModel({ backbone: "vggFace", tasks: [E7, P], inputShape: [224, 224, 3], seed: 1 });
  assert.deepEqual(countParams(v), { total: expected, trainable: expected, nonTrainable: 0 });
  v.model.dispose();
  // mini-Xception with the original conv heads (7 | 5): 64,188, as the team's engine survey counted in tfjs (same layout).
  const mini = buildModel({
    backbone: "mini_xception",
    tasks: [E7, P],
    inputShape: [64, 64, 1],
    seed: 1,
    head: "conv",
  });
  assert.equal(countParams(mini).total, 64_188);
  mini.model.dispose();
});
