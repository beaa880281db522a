import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../runner/backend.ts";
import {
  expectedPottsEnergy,
  knnGraph,
  meanFieldPotts,
  mrfRefine,
  pottsEnergy,
  symmetricAffinity,
} from "../core/mrf.ts";
import { Rng } from "../core/rng.ts";
import { passesPerRefresh, pseudoTargets } from "../core/labels/pseudo_targets.ts";
import dcnAp, { dcnApStrategy } from "../methods/dcn_ap.ts";
import lelLtn from "../methods/lel_ltn.ts";
import sfsmr from "../methods/sfsmr.ts";
import slrm from "../methods/slrm.ts";
import type { TeacherView } from "../core/plugin.ts";

await initBackend({ backend: "cpu" });

/** Clustered toy set: `per` rows around each of `c` centres in d dims; teacher probs 0.7 on a class, with
 * `flip` of the rows pointing at a wrong class. */
function toy(rng: Rng, opts: { c: number; per: number; d: number; flip: number }) {
  const { c, per, d } = opts;
  const n = c * per;
  const centres = Array.from({ length: c }, () => Array.from({ length: d }, () => rng.normal(0, 4)));
  const features = new Float32Array(n * d);
  const truth = new Int32Array(n);
  const probs = new Float32Array(n * c);
  const noisy = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const y = i % c;
    truth[i] = y;
    for (let j = 0; j < d; j++) features[i * d + j] = centres[y][j] + rng.normal(0, 1);
    const shown = rng.next() < opts.flip ? (y + 1 + rng.int(c - 1)) % c : y;
    noisy[i] = shown;
    for (let a = 0; a < c; a++) probs[i * c + a] = a === shown ? 0.7 : 0.3 / (c - 1);
  }
  return { n, features, truth, probs, noisy };
}

function argmax(q: Float32Array, n: number, c: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let a = 1; a < c; a++) if (q[i * c + a] > q[i * c + best]) best = a;
    out[i] = best;
  }
  return out;
}

const accuracy = (a: Int32Array, b: Int32Array) => a.filter((v, i) => v === b[i]).length / a.length;

Deno.test("knn graph", async (t) => {
  await t.step("matches brute force across tile boundaries", async () => {
    const rng = new Rng(11);
    const n = 37, d = 5, k = 4;
    const f = Float32Array.from({ length: n * d }, () => rng.normal());
    const knn = await knnGraph(f, { d, k, tileRows: 8 });
    for (let i = 0; i < n; i++) {
      const all: [number, number][] = [];
      for (let j = 0; j < n; j++) {
        if (j === i) continue;
        let s = 0;
        for (let c = 0; c < d; c++) s += (f[i * d + c] - f[j * d + c]) ** 2;
        all.push([s, j]);
      }
      all.sort((a, b) => a[0] - b[0]);
      for (let m = 0; m < k; m++) {
        assert.equal(knn.indices[i * k + m], all[m][1], `row ${i} neighbour ${m}`);
        assert.ok(Math.abs(knn.dist2[i * k + m] - all[m][0]) < 1e-4 * (1 + all[m][0]));
      }
    }
    assert.equal(tf.memory().numTensors, 0);
  });
  await t.step("small n clamps k; bad shapes throw", async () => {
    const knn = await knnGraph(Float32Array.from([0, 0, 1, 1]), { d: 2, k: 10 });
    assert.equal(knn.k, 1);
    assert.deepEqual(Array.from(knn.indices), [1, 0]);
    await assert.rejects(knnGraph(new Float32Array(5), { d: 2, k: 1 }), /multiple of d/);
  });
  await t.step("symmetrised affinity is symmetric with exp(-d²/σ²) weights", async () => {
    const rng = new Rng(12);
    const f = Float32Array.from({ length: 20 * 3 }, () => rng.normal());
    const g = symmetricAffinity(await knnGraph(f, { d: 3, k: 3 }), { sigma2: 2 });
    const w = new Map<string, number>();
    for (let i = 0; i < g.n; i++) {
      for (let e = g.rowPtr[i]; e < g.rowPtr[i + 1]; e++) w.set(`${i},${g.cols[e]}`, g.weights[e]);
    }
    for (const [key, v] of w) {
      const [i, j] = key.split(",").map(Number);
      assert.notEqual(i, j);
      assert.equal(w.get(`${j},${i}`), v);
      let s = 0;
      for (let c = 0; c < 3; c++) s += (f[i * 3 + c] - f[j * 3 + c]) ** 2;
      assert.ok(Math.abs(v - Math.exp(-s / 2)) < 1e-5);
    }
    for (let i = 0; i < g.n; i++) assert.ok(g.rowPtr[i + 1] - g.rowPtr[i] >= 3);
  });
});

Deno.test("mean-field Potts refinement", async (t) => {
  const rng = new Rng(13);
  const c = 3;
  const data = toy(rng, { c, per: 40, d: 8, flip: 0.2 });
  const res = await mrfRefine(data.probs, data.features, { classes: c, d: 8, k: 8, weight: 1, iters: 30 });

  await t.step("converges: the change per sweep shrinks", () => {
    const { deltas } = res;
    assert.ok(deltas.length >= 2);
    assert.ok(deltas[deltas.length - 1] < 1e-3, `last change ${deltas[deltas.length - 1]}`);
    assert.ok(deltas[deltas.length - 1] < 0.01 * deltas[0]);
  });
  await t.step("lowers the expected and the MAP Potts energy below the unary-only solution", () => {
    const opts = { classes: c, weight: 1, graph: res.graph };
    const eUnary = expectedPottsEnergy(data.probs, data.probs, opts);
    const eMf = expectedPottsEnergy(res.q, data.probs, opts);
    assert.ok(eMf < eUnary, `${eMf} vs ${eUnary}`);
    const mapUnary = pottsEnergy(data.noisy, data.probs, opts);
    const mapMf = pottsEnergy(argmax(res.q, data.n, c), data.probs, opts);
    assert.ok(mapMf < mapUnary, `${mapMf} vs ${mapUnary}`);
  });
  await t.step("fixes flipped labels on clustered data", () => {
    const before = accuracy(data.noisy, data.truth);
    const after = accuracy(argmax(res.q, data.n, c), data.truth);
    assert.ok(before < 0.9, `noise too small: ${before}`);
    assert.ok(after >= 0.97, `accuracy after MRF ${after} (before ${before})`);
    for (let i = 0; i < data.n; i++) {
      let s = 0;
      for (let a = 0; a < c; a++) s += res.q[i * c + a];
      assert.ok(Math.abs(s - 1) < 1e-5);
    }
  });
  await t.step("weight 0 keeps the teacher's probabilities", () => {
    const q0 = meanFieldPotts(data.probs, res.graph, { classes: c, weight: 0, iters: 3 });
    for (let i = 0; i < data.probs.length; i++) assert.ok(Math.abs(q0.q[i] - data.probs[i]) < 1e-6);
  });
  await t.step("row-count mismatch is a clear error", async () => {
    await assert.rejects(
      mrfRefine(new Float32Array(6), new Float32Array(8), { classes: 3, d: 2, k: 1, weight: 1, iters: 1 }),
      /disagree on the row count/,
    );
  });
});

Deno.test("DCN-AP strategy", async (t) => {
  const rng = new Rng(14);
  const c = 3;
  const data = toy(rng, { c, per: 30, d: 6, flip: 0.25 });
  const view: TeacherView = {
    task: { name: "pose", classes: c, labels: ["l", "f", "r"] },
    n: data.n,
    logits: new Float32Array(data.n * c),
    probs: data.probs,
    features: data.features,
    d: 6,
    labelled: { n: 0, features: new Float32Array(0), labels: new Int32Array(0), probs: new Float32Array(0) },
    otherProbs: {},
    otherLabels: {},
  };
  const ctx = (options: Record<string, boolean | number | string>) => ({
    options,
    rng: new Rng(1),
    compat: false,
  });
  const labelsOf = (targets: Float32Array) => {
    const y = new Int32Array(data.n);
    for (let i = 0; i < data.n; i++) y[i] = targets.subarray(i * c, i * c + c).findIndex((v) => v > 0);
    return y;
  };

  await t.step("without --is_MRF the targets are the teacher's p_max·onehot", async () => {
    const out = await dcnApStrategy.build!(view, ctx({}));
    assert.deepEqual(Array.from(labelsOf(out.targets)), Array.from(data.noisy));
    assert.ok(Math.abs(out.weights![0] - 0.7) < 1e-6);
    assert.ok(Math.abs(out.targets[data.noisy[0]] - 0.7) < 1e-6);
  });
  await t.step("with --is_MRF the refined targets fix most flipped labels", async () => {
    const out = await dcnApStrategy.build!(view, ctx({ is_MRF: true, mrf_k: 6, pseudo_target: "onehot" }));
    const acc = accuracy(labelsOf(out.targets), data.truth);
    assert.ok(acc >= 0.95, `accuracy ${acc} vs teacher ${accuracy(data.noisy, data.truth)}`);
    assert.ok(out.stats!.mrf_changed > 0.1);
    assert.ok(Array.from(out.targets).every((v) => v === 0 || v === 1));
  });
  await t.step(
    "labelled rows clamped in the graph propagate their labels to an ignorant teacher's rows",
    async () => {
      // Half the rows are labelled (clamped to their truth); the teacher is uniform on the other half.
      const half = data.n / 2;
      const d = 6;
      const uninformed: TeacherView = {
        ...view,
        n: half,
        probs: new Float32Array(half * c).fill(1 / c),
        features: data.features.slice(half * d),
        labelled: {
          n: half,
          features: data.features.slice(0, half * d),
          labels: data.truth.slice(0, half),
          probs: new Float32Array(half * c),
        },
      };
      const truth = data.truth.slice(half);
      const labelsOfHalf = (targets: Float32Array) =>
        Int32Array.from(
          { length: half },
          (_, i) => targets.subarray(i * c, i * c + c).findIndex((v) => v > 0),
        );
      const clamped = await dcnApStrategy.build!(
        uninformed,
        ctx({ is_MRF: true, mrf_k: 6, pseudo_target: "onehot" }),
      );
      const acc = accuracy(labelsOfHalf(clamped.targets), truth);
      assert.ok(acc >= 0.9, `propagated accuracy ${acc}`);
      assert.equal(clamped.stats!.mrf_labelled_rows, half);
      const alone = await dcnApStrategy.build!(
        uninformed,
        ctx({ is_MRF: true, mrf_k: 6, pseudo_target: "onehot", mrf_labelled: false }),
      );
      assert.ok(
        accuracy(labelsOfHalf(alone.targets), truth) < 0.5,
        "without labelled rows the MRF has nothing to go on",
      );
      assert.ok(
        dcnApStrategy.needsLabelled!({ is_MRF: true }) && !dcnApStrategy.needsLabelled!({ is_MRF: false }),
      );
    },
  );
  await t.step("rows of another dataset that misses the task join the graph (free nodes)", async () => {
    // Dataset A's rows: the teacher knows nothing. Dataset B misses the task too, but the teacher is right
    // on its rows. No labelled rows: only the graph across A and B can fix A's targets.
    const half = data.n / 2;
    const d = 6;
    const truthA = data.truth.slice(half);
    const truthB = data.truth.slice(0, half);
    const sure = new Float32Array(half * c);
    for (let i = 0; i < half; i++) for (let a = 0; a < c; a++) sure[i * c + a] = a === truthB[i] ? 0.9 : 0.05;
    const a: TeacherView = {
      ...view,
      n: half,
      probs: new Float32Array(half * c).fill(1 / c),
      features: data.features.slice(half * d),
      peers: { n: half, features: data.features.slice(0, half * d), probs: sure },
    };
    const labelsOfHalf = (targets: Float32Array) =>
      Int32Array.from({ length: half }, (_, i) => targets.subarray(i * c, i * c + c).findIndex((v) => v > 0));
    const opts = { is_MRF: true, mrf_k: 6, pseudo_target: "onehot", mrf_labelled: false };
    const joint = await dcnApStrategy.build!(a, ctx(opts));
    assert.equal(joint.targets.length, half * c, "targets for A's rows only");
    assert.equal(joint.stats!.mrf_peer_rows, half);
    assert.ok(accuracy(labelsOfHalf(joint.targets), truthA) >= 0.9, "propagated from the other dataset");
    const alone = await dcnApStrategy.build!({ ...a, peers: undefined }, ctx(opts));
    assert.ok(accuracy(labelsOfHalf(alone.targets), truthA) < 0.5, "one dataset alone has nothing to go on");
    assert.ok(dcnApStrategy.needsPeers!({ is_MRF: true }) && !dcnApStrategy.needsPeers!({ is_MRF: false }));
    await assert.rejects(
      async () => await dcnApStrategy.build!({ ...a, peers: { ...a.peers!, n: half + 1 } }, ctx(opts)),
      /peer rows/,
    );
  });
  await t.step("bad option values are one-line option errors", async () => {
    await assert.rejects(
      async () => await dcnApStrategy.build!(view, ctx({ is_MRF: true, mrf_k: 0 })),
      /--mrf_k/,
    );
    await assert.rejects(
      async () => await dcnApStrategy.build!(view, ctx({ pseudo_target: "x" })),
      /--pseudo_target/,
    );
  });
});

Deno.test("each baseline plugin declares the flags it reads, and only those", () => {
  const names = (p: { options: { name: string }[] }) => p.options.map((o) => o.name).sort();
  assert.deepEqual(names(dcnAp), [
    "is_MRF",
    "mrf_iters",
    "mrf_k",
    "mrf_labelled",
    "mrf_weight",
    "passes_per_refresh",
    "pseudo_target",
  ]);
  assert.deepEqual(names(lelLtn), [
    "label_embedding_dim",
    "ltn_epochs",
    "ltn_hidden",
    "ltn_inputs",
    "ltn_training",
    "ltn_weight",
    "passes_per_refresh",
    "pseudo_target",
  ]);
  assert.deepEqual(names(sfsmr), [
    "is_lnorm",
    "is_manifold",
    "is_trace_norm",
    "laplacian_weight",
    "lnorm_weight",
    "trace_weight",
  ]);
  assert.deepEqual(names(slrm), [
    "is_lnorm",
    "is_manifold",
    "is_nuclear_norm",
    "is_trace_norm",
    "laplacian_weight",
    "lnorm_weight",
    "nuclear_weight",
    "trace_weight",
  ]);
  for (const o of [dcnAp, lelLtn, sfsmr, slrm].flatMap((p) => p.options)) {
    assert.ok(o.help.length > 0, o.name);
    if (typeof o.default === "number") {
      assert.ok(o.default >= (o.min ?? -Infinity) && o.default <= (o.max ?? Infinity));
    }
  }
  assert.equal(passesPerRefresh({}), 4);
  assert.equal(passesPerRefresh({ passes_per_refresh: 1 }), 1);
  const pt = pseudoTargets(Float32Array.from([0.2, 0.8, 0, 0, 0.5, 0.5]), { classes: 2, mode: "scaled" });
  assert.deepEqual(Array.from(pt.targets), [0, 0.800000011920929, 0, 0, 0.5, 0]);
  assert.deepEqual(Array.from(pt.weights!), [0.800000011920929, 0, 0.5]);
});
