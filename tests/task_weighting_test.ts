/**
 * Task weighting (core/task_weighting/): each strategy against a hand-computed case, the
 * representation-gradient surgery against plain backprop, a batch where one task has no rows (the task
 * contributes nothing and its state does not move), the loss falling on a fixed batch for each strategy,
 * the flag on the command line and the compare sweep.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../runner/backend.ts";
import { buildModel } from "../models/mod.ts";
import { trainStep } from "../runner/train/step.ts";
import { Rng } from "../core/rng.ts";
import type { Options } from "../core/options.ts";
import type { TaskName, TaskSpec } from "../core/types.ts";
import {
  checkWeighting,
  discoverWeightings,
  findWeighting,
  type TaskWeighting,
} from "../core/task_weighting/mod.ts";
import { pcgradCoefficients, pcgradProject } from "../core/task_weighting/pcgrad.ts";
import { gram, minNormWeights, weightedSum } from "../core/task_weighting/_vec.ts";
import { dwaWeights } from "../core/task_weighting/dwa.ts";
import { imtlWeights } from "../core/task_weighting/imtl.ts";
import { cagradWeights } from "../core/task_weighting/cagrad.ts";
import { nashWeights } from "../core/task_weighting/nash_mtl.ts";
import { gradnormUpdate } from "../core/task_weighting/gradnorm.ts";
import { resolveRun } from "../runner/commands.ts";
import { planRuns, PROFILES } from "../runner/compare.ts";
import { discoverPlugins } from "../runner/registry.ts";

await initBackend({ backend: "wasm", quiet: true });

const v = (...x: number[]) => Float32Array.from(x);
const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-5, what = "") => {
  assert.equal(a.length, b.length, what);
  for (let i = 0; i < a.length; i++) {
    assert.ok(Math.abs(a[i] - b[i]) <= tol, `${what}[${i}]: ${a[i]} vs ${b[i]}`);
  }
};
const TASKS: TaskName[] = ["emotion", "pose"];
const LR = { lr: 1e-3 };
const create = async (name: string, options: Options = {}): Promise<TaskWeighting> =>
  (await findWeighting(name)).create({ tasks: TASKS, options, rng: new Rng(7) });

Deno.test("every strategy is discovered, cites its paper and says how it treats an absent task", async () => {
  const all = await discoverWeightings();
  assert.deepEqual(
    all.map((s) => s.name),
    ["cagrad", "dwa", "ew", "gradnorm", "imtl", "mgda", "nash-mtl", "pcgrad", "rlw", "uw"],
  );
  for (const s of all) {
    assert.ok(s.citation.length > 10 && s.absentTask.length > 10, s.name);
    const w = s.create({ tasks: TASKS, options: {}, rng: new Rng(1) });
    assert.equal(w.needsGradients, s.needsGradients, s.name);
    assert.ok(s.needsGradients ? w.combineGradients : w.combineLosses, s.name);
    w.dispose();
  }
  await assert.rejects(() => findWeighting("pcgard"), /unknown task weighting; known: cagrad/);
  await assert.rejects(
    () => checkWeighting({ task_weighting: "uw" }, { method: "stl", singleTask: true }),
    /stl is single-task .* only ew/,
  );
  await checkWeighting({ task_weighting: "ew" }, { method: "stl", singleTask: true });
});

Deno.test("PCGrad projects two conflicting gradients onto each other's normal plane", () => {
  // g1 . g2 = -1 < 0: p1 = g1 - (-1/2) g2 = (0.5, 0.5); p2 = g2 - (-1/1) g1 = (0, 1).
  const [p1, p2] = pcgradProject([v(1, 0), v(-1, 1)], (i) => [1 - i]);
  close(p1, [0.5, 0.5]);
  close(p2, [0, 1]);
  assert.ok(Math.abs(p1[0] * -1 + p1[1] * 1) < 1e-6, "p1 is orthogonal to g2");
  // The Gram-matrix form gives the same update, as coefficients over the task gradients.
  const gs = [v(1, 0, 2), v(-1, 1, -1), v(0.5, -2, 0.1)];
  const order = (i: number) => [0, 1, 2].filter((j) => j !== i).reverse();
  const want = weightedSum(pcgradProject(gs, order), [1, 1, 1]);
  close(weightedSum(gs, pcgradCoefficients(gram(gs), order).beta), want, 1e-5);
  // Agreeing gradients are left alone.
  const [q1, q2] = pcgradProject([v(1, 0), v(1, 1)], (i) => [1 - i]);
  close(q1, [1, 0]);
  close(q2, [1, 1]);
});

Deno.test("MGDA finds the min-norm point of the hull of two (and three) gradients", async () => {
  // g1 = (1, 0), g2 = (0, 2): alpha1 = (g2 - g1).g2 / |g1 - g2|^2 = 4/5; d = (0.8, 0.4), d.(g1 - g2) = 0.
  close(minNormWeights(gram([v(1, 0), v(0, 2)])), [0.8, 0.2]);
  // (1,0), (0,1), (1,1): the min-norm point (0.5, 0.5) needs no weight on (1,1).
  const w3 = minNormWeights(gram([v(1, 0), v(0, 1), v(1, 1)]));
  close(w3, [0.5, 0.5, 0], 1e-3);
  const m = await create("mgda");
  const c = m.combineGradients!([v(1, 0), v(0, 2)], TASKS, [1, 1]);
  close(weightedSum([v(1, 0), v(0, 2)], c.coefficients), [0.8, 0.4]);
});

Deno.test("DWA's weights from given loss ratios, and its history skips epochs without a task", async () => {
  // ratios 1.2 and 0.8, T = 2: w = 2 e^{0.6} / (e^{0.6} + e^{0.4}), 2 e^{0.4} / (...).
  const d = Math.exp(0.6) + Math.exp(0.4);
  close(dwaWeights([1.2, 0.8], 2), [2 * Math.exp(0.6) / d, 2 * Math.exp(0.4) / d]);
  const w = await create("dwa", { dwa_temperature: 2 });
  const weightsNow = () => {
    const c = w.combineLosses!([tf.scalar(1), tf.scalar(1)], TASKS);
    c.loss.dispose();
    return c.weights;
  };
  close(weightsNow(), [1, 1], 1e-6, "no history: equal");
  w.observe!(TASKS, [2, 1], LR);
  w.epochEnd!();
  w.observe!(TASKS, [2.4, 0.7], LR);
  w.observe!(TASKS, [2.4, 0.9], LR); // epoch means 2.4 and 0.8
  w.epochEnd!();
  close(weightsNow(), dwaWeights([1.2, 0.8], 2), 1e-6, "ratios 1.2, 0.8");
  // An epoch where pose never has rows: its history stays, emotion's moves on (mean 1.2, ratio 0.5).
  w.observe!(["emotion"], [1.2], LR);
  w.epochEnd!();
  close(weightsNow(), dwaWeights([0.5, 0.8], 2), 1e-6, "pose's ratio kept");
  assert.deepEqual((w.state() as Record<string, { means: number[] }>).pose.means, [1, 0.8]);
});

Deno.test("UW: the loss and the log-variance update follow exp(-s) L + s/2 by hand", async () => {
  const w = await create("uw");
  const losses = [tf.scalar(2), tf.scalar(0.3)];
  const c = w.combineLosses!(losses, TASKS);
  close([c.loss.dataSync()[0]], [2.3]);
  close(c.weights, [1, 1]);
  // d/ds_k = 1/2 - exp(-s_k) L_k = (-1.5, 0.2); Adam's first step moves each by -lr * sign(gradient).
  w.observe!(TASKS, [2, 0.3], { lr: 0.1 });
  const s1 = w.state() as Record<string, { s: number }>;
  close([s1.emotion.s, s1.pose.s], [0.1, -0.1], 1e-6);
  // Second step: gradients 1/2 - e^{-0.1} 2 and 1/2 - e^{0.1} 0.3, through Adam's moments by hand.
  const g1 = [-1.5, 0.2], g2 = [0.5 - Math.exp(-0.1) * 2, 0.5 - Math.exp(0.1) * 0.3];
  const want = [0.1, -0.1].map((s0, i) => {
    const m = 0.9 * (0.1 * g1[i]) + 0.1 * g2[i];
    const v = 0.999 * (0.001 * g1[i] ** 2) + 0.001 * g2[i] ** 2;
    return s0 - (0.1 * (m / (1 - 0.81))) / (Math.sqrt(v / (1 - 0.999 ** 2)) + 1e-7);
  });
  w.observe!(TASKS, [2, 0.3], { lr: 0.1 });
  const s2 = w.state() as Record<string, { s: number }>;
  close([s2.emotion.s, s2.pose.s], want, 1e-7);
  // The loss now weighs emotion by exp(-s).
  const c2 = w.combineLosses!(losses, TASKS);
  close(c2.weights, [Math.exp(-want[0]), Math.exp(-want[1])], 1e-7);
  tf.dispose([...losses, c.loss, c2.loss]);
});

Deno.test("IMTL-G gives equal projections on every task direction", () => {
  // g1 = (1,0), g2 = (0,2): alpha2 = g1.(u1-u2) / ((g1-g2).(u1-u2)) = 1/3; d = (2/3, 2/3).
  close(imtlWeights([v(1, 0), v(0, 2)]), [2 / 3, 1 / 3]);
  const gs = [v(1, 0, 0.5), v(0, 2, 0), v(-0.5, 1, 3)];
  const a = imtlWeights(gs);
  close([a.reduce((s, x) => s + x, 0)], [1], 1e-6);
  const d = gs[0].map((_, e) => gs.reduce((s, g, i) => s + a[i] * g[e], 0));
  const proj = gs.map((g) => g.reduce((s, x, e) => s + x * d[e], 0) / Math.hypot(...g));
  close(proj, [proj[0], proj[0], proj[0]], 1e-4);
});

Deno.test("CAGrad on two small cases solved by hand", () => {
  // Orthogonal unit gradients, c = 0.5: w = (1/2, 1/2), lambda = c, d = (1 + c) g0 / (1 + c^2) = (0.6, 0.6).
  const m1 = gram([v(1, 0), v(0, 1)]);
  close(cagradWeights(m1, 0.5), [0.6, 0.6], 1e-5);
  // g1 = (1,0), g2 = (0,2): F(w) = 2 - 1.5 w1 + sqrt(phi) |g_w| is least at w = (1, 0), so
  // d = (g0 + sqrt(phi) g1) / 1.25 with sqrt(phi) = 0.5 sqrt(1.25): weights on g1, g2 below.
  const sp = 0.5 * Math.sqrt(1.25);
  close(cagradWeights(gram([v(1, 0), v(0, 2)]), 0.5), [(0.5 + sp) / 1.25, 0.5 / 1.25], 1e-5);
  // c = 0 is the mean gradient.
  close(cagradWeights(gram([v(1, 0), v(0, 2), v(3, 1)]), 0), [1 / 3, 1 / 3, 1 / 3], 1e-6);
});

Deno.test("Nash-MTL solves G^T G alpha = 1/alpha; GradNorm's weight update by hand", () => {
  // diag(1, 4) alpha = 1/alpha: alpha = (1, 1/2), d = (1, 1).
  close(nashWeights(gram([v(1, 0), v(0, 2)])), [1, 0.5], 1e-6);
  const gs = [v(1, 0.2, 0), v(-0.3, 1, 0.5), v(0.1, -0.4, 2)];
  const m = gram(gs);
  const a = nashWeights(m);
  const ma = m.map((r) => r.reduce((s, x, j) => s + x * a[j], 0));
  close(ma, a.map((x) => 1 / x), 1e-5);
  // G = (1, 3), mean 2, equal loss ratios: targets 2; w1 += 0.1*1, w2 -= 0.1*3 -> (1.1, 0.7), renormalised.
  close(
    gradnormUpdate({ weights: [1, 1], gradNorms: [1, 3], lossRatios: [1, 1], alpha: 1.5, lr: 0.1 }),
    [1.1 * 2 / 1.8, 0.7 * 2 / 1.8],
  );
});

// ---- the step: representation gradients, absent tasks, the loss falling ----

const SPECS: TaskSpec[] = [
  { name: "emotion", classes: 7, labels: ["a", "b", "c", "d", "e", "f", "g"] },
  { name: "pose", classes: 5, labels: ["a", "b", "c", "d", "e"] },
];
const B = 4;

function fixedBatch(poseRows = true) {
  const x = tf.randomNormal([B, 32, 32, 1], 0, 1, "float32", 1) as tf.Tensor4D;
  const ye = tf.cast(tf.oneHot(tf.tensor1d([0, 3, 5, 1], "int32"), 7), "float32") as tf.Tensor2D;
  const yp = tf.cast(tf.oneHot(tf.tensor1d([4, 1, 0, 2], "int32"), 5), "float32") as tf.Tensor2D;
  const me = tf.tensor1d([1, 1, 1, 0]);
  const mp = poseRows ? tf.tensor1d([0, 1, 1, 1]) : tf.zeros([B]) as tf.Tensor1D;
  return { x, targets: { emotion: ye, pose: yp }, masks: { emotion: me, pose: mp } };
}

/** An optimiser stand-in that records the gradients it is given. */
function recorder() {
  const seen: Record<string, Float32Array> = {};
  const opt = {
    applyGradients(g: tf.NamedTensorMap) {
      for (const [k, t] of Object.entries(g)) seen[k] = t.dataSync() as Float32Array;
    },
  } as unknown as tf.Optimizer;
  return { seen, opt };
}

/** A gradient strategy returning `scale` times the sum of the task gradients. */
function scaled(scale: number): TaskWeighting {
  return {
    name: `scaled-${scale}`,
    needsGradients: true,
    combineGradients: (gs) => ({ coefficients: gs.map(() => scale), weights: gs.map(() => scale) }),
    state: () => null,
    restore() {},
    dispose() {},
  };
}

Deno.test("representation-gradient surgery: trunk gets the combined gradient, heads their own", async () => {
  const runs: Record<string, { grads: Float32Array[]; trunk: boolean[] }> = {};
  for (const [name, tw] of [["plain", undefined], ["x1", scaled(1)], ["x2", scaled(2)]] as const) {
    const model = buildModel({ backbone: "mini_xception", tasks: SPECS, inputShape: [32, 32, 1], seed: 5 });
    const trunkVars = new Set<string>();
    for (const l of model.trunkLayers) {
      for (const w of model.model.getLayer(l).trainableWeights) trunkVars.add((w.read() as tf.Variable).name);
    }
    const names = model.trainableWeights().map((x) => x.name);
    const batch = fixedBatch();
    const { seen, opt } = recorder();
    const r = await trainStep(batch, {
      model,
      optimizer: opt,
      lossWeights: { emotion: 1, pose: 1 },
      terms: [],
      options: {},
      weighting: tw,
    });
    assert.equal(r.fault, undefined);
    runs[name] = { grads: names.map((n) => seen[n]), trunk: names.map((n) => trunkVars.has(n)) };
    tf.dispose([batch.x, ...Object.values(batch.targets), ...Object.values(batch.masks)]);
    model.model.dispose();
  }
  const { grads: plain, trunk } = runs.plain;
  assert.ok(trunk.includes(true) && trunk.includes(false));
  plain.forEach((g, i) => {
    assert.ok(g, `gradient ${i}`);
    const k = trunk[i] ? 2 : 1;
    const scale = Math.max(1e-6, ...g.map(Math.abs));
    close(runs.x1.grads[i], g, 1e-4 * scale, `identity ${i}`);
    close(runs.x2.grads[i], g.map((x) => k * x), 2e-4 * scale, `x2 ${i} (trunk ${trunk[i]})`);
  });
});

Deno.test("a batch where pose has no rows: pose contributes nothing and its state stays", async () => {
  for (const s of await discoverWeightings()) {
    const model = buildModel({ backbone: "mini_xception", tasks: SPECS, inputShape: [32, 32, 1], seed: 2 });
    const tw = s.create({ tasks: TASKS, options: {}, rng: new Rng(3) });
    const optimizer = tf.train.adam(1e-2);
    const step = (poseRows: boolean) => {
      const batch = fixedBatch(poseRows);
      return trainStep(batch, {
        model,
        optimizer,
        lossWeights: { emotion: 1, pose: 1 },
        terms: [],
        options: {},
        weighting: tw,
      }).finally(() => tf.dispose([batch.x, ...Object.values(batch.targets), ...Object.values(batch.masks)]));
    };
    const first = await step(true);
    assert.deepEqual(Object.keys(first.weights).sort(), ["emotion", "pose"], s.name);
    tw.epochEnd?.();
    const before = JSON.stringify(tw.state(), (k, x) => (k === "emotion" ? undefined : x));
    const r = await step(false);
    assert.equal(r.fault, undefined, s.name);
    assert.deepEqual(Object.keys(r.weights), ["emotion"], `${s.name}: only emotion is weighted`);
    assert.equal(r.heads.pose, 0, s.name);
    tw.epochEnd?.();
    const after = JSON.stringify(tw.state(), (k, x) => (k === "emotion" ? undefined : x));
    // RLW and PCGrad keep only a generator state, which moves with every draw.
    if (!["rlw", "pcgrad"].includes(s.name)) assert.equal(after, before, `${s.name}: pose state kept`);
    tw.dispose();
    optimizer.dispose();
    model.model.dispose();
  }
});

Deno.test("the loss falls on a fixed batch under every task weighting", async () => {
  for (const s of await discoverWeightings()) {
    const model = buildModel({ backbone: "mini_xception", tasks: SPECS, inputShape: [32, 32, 1], seed: 3 });
    const tw = s.create({ tasks: TASKS, options: {}, rng: new Rng(4) });
    const optimizer = tf.train.adam(3e-3);
    const batch = fixedBatch();
    const sums: number[] = [];
    let tensors = 0;
    for (let i = 0; i < 8; i++) {
      const r = await trainStep(batch, {
        model,
        optimizer,
        lossWeights: { emotion: 1, pose: 1 },
        terms: [],
        options: {},
        weighting: tw,
      });
      assert.equal(r.fault, undefined, s.name);
      sums.push(r.heads.emotion! + r.heads.pose!);
      if (i === 1) tensors = tf.memory().numTensors;
    }
    assert.equal(tf.memory().numTensors, tensors, `${s.name}: no tensor leaks per step`);
    assert.ok(sums[7] < sums[0] * 0.9, `${s.name}: ${sums.map((x) => x.toFixed(3)).join(" ")}`);
    tf.dispose([batch.x, ...Object.values(batch.targets), ...Object.values(batch.masks)]);
    tw.dispose();
    optimizer.dispose();
    model.model.dispose();
  }
});

Deno.test("--task_weighting: read by every multi-task method, refused by STL, swept by compare", async () => {
  const quiet = { print: () => {} };
  const r = await resolveRun("sa-mtl", ["--task_weighting=pcgrad", "--cagrad_c=0.3"], quiet);
  assert.equal(r?.options.task_weighting, "pcgrad");
  assert.equal(r?.options.cagrad_c, 0.3);
  const d = await resolveRun("all-in-one", [], quiet);
  assert.equal(d?.options.task_weighting, "ew", "recorded in config.json even when not given");
  await assert.rejects(() => resolveRun("stl", ["--task_weighting=uw"], quiet), /stl is single-task/);
  await assert.rejects(() => resolveRun("all-in-one", ["--task_weighting=nope"], quiet), /known: cagrad/);
  const runs = planRuns(await discoverPlugins(), {
    profile: PROFILES.quick,
    outDir: "/tmp/x",
    methods: ["stl", "all-in-one", "sa-mtl"],
    extra: [],
    weightings: ["ew", "uw", "pcgrad"],
  });
  assert.deepEqual(runs.map((x) => x.method), [
    "stl",
    "stl",
    "all-in-one",
    "all-in-one+uw",
    "all-in-one+pcgrad",
    "sa-mtl",
    "sa-mtl+uw",
    "sa-mtl+pcgrad",
  ]);
  const swept = planRuns(await discoverPlugins(), {
    profile: PROFILES.quick,
    outDir: "/tmp/x",
    methods: ["stl", "sa-mtl"],
    extra: [],
    weightings: ["ew", "mgda"],
    archs: ["hps", "mmoe"],
  });
  assert.deepEqual(swept.map((x) => x.method), [
    "stl",
    "stl",
    "sa-mtl",
    "sa-mtl+mgda",
    "sa-mtl@mmoe",
    "sa-mtl+mgda@mmoe",
  ]);
  assert.ok(swept[5].args.includes("--arch=mmoe") && swept[5].args.includes("--task_weighting=mgda"));
  const pc = runs.find((x) => x.method === "sa-mtl+pcgrad")!;
  assert.ok(pc.args.includes("--task_weighting=pcgrad") && pc.args[1] === "sa-mtl");
  assert.ok(!runs.find((x) => x.method === "sa-mtl")!.args.some((a) => a.startsWith("--task_weighting")));
});

Deno.test("--task_grad_space: rows labelled for one task each never conflict per row, but do summed", async () => {
  // Emotion on rows 0-1, pose on rows 2-3: their per-row representation gradients are orthogonal, so PCGrad
  // keeps both whole in the rep space; summed over rows they are compared as one shared bias's gradients.
  const kept: Record<string, number[]> = {};
  for (const space of ["rep", "rep_sum"]) {
    const model = buildModel({ backbone: "mini_xception", tasks: SPECS, inputShape: [32, 32, 1], seed: 9 });
    const batch = fixedBatch();
    tf.dispose(Object.values(batch.masks));
    batch.masks = { emotion: tf.tensor1d([1, 1, 0, 0]), pose: tf.tensor1d([0, 0, 1, 1]) };
    const options = { task_grad_space: space };
    const tw = (await findWeighting("mgda")).create({ tasks: TASKS, options, rng: new Rng(1) });
    const { opt } = recorder();
    const r = await trainStep(batch, {
      model,
      optimizer: opt,
      lossWeights: {},
      terms: [],
      options,
      weighting: tw,
    });
    kept[space] = [r.weights.emotion!, r.weights.pose!];
    tf.dispose([batch.x, ...Object.values(batch.targets), ...Object.values(batch.masks)]);
    model.model.dispose();
  }
  for (const w of Object.values(kept)) close([w[0] + w[1]], [1], 1e-6, "MGDA's alpha sums to 1");
  assert.ok(Math.abs(kept.rep[0] - kept.rep_sum[0]) > 1e-4, JSON.stringify(kept));
  await assert.rejects(
    () => resolveRun("sa-mtl", ["--task_grad_space=params"], { print: () => {} }),
    /task_grad_space/,
  );
});
