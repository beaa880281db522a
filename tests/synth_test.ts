import assert from "node:assert/strict";
import { join } from "node:path";
import {
  AGE_GROUP_YEARS,
  DEFAULT_DOMAIN_SHIFT,
  generateSynth,
  poseClass,
  SYNTH_NAMES,
  SYNTH_PRESETS,
  synthDifficulty,
  synthPreset,
} from "../datasets/synth/mod.ts";
import { generateDigits, loadMnistPool, rotationBin } from "../datasets/digits_rot.ts";
import { DATASET_NAMES, datasetTasks, loadDataset, loadHiddenTruth, truthTasks } from "../datasets/mod.ts";
import { cachePaths, configHash } from "../datasets/_embedded_cache.ts";
import type { TaskName } from "../core/types.ts";

const OWN: Record<string, TaskName[]> = {
  "synth-emotion": ["emotion"],
  "synth-pose": ["pose"],
  "synth-age-gender": ["gender", "age"],
  "digits-rot-a": ["digit"],
  "digits-rot-b": ["rotation"],
};

Deno.test("poseClass bins yaw exactly as docs/original.md §2.4", () => {
  const cases: [number, number][] = [
    [0, 0],
    [9.999, 0],
    [-9.999, 0],
    [10, 1],
    [59.999, 1],
    [60, 4],
    [89, 4],
    [-10, 2],
    [-59.999, 2],
    [-60, 3],
    [-89, 3],
    [NaN, 4],
  ];
  for (const [y, c] of cases) assert.equal(poseClass(y), c, `yaw ${y}`);
});

Deno.test("synthetic faces: determinism and hidden truth", async (t) => {
  const opts = { seed: 5, size: 24, n: 24 };

  await t.step("same seed gives the same bytes; another seed differs; rows do not depend on n", () => {
    for (const name of SYNTH_NAMES) {
      const a = generateSynth(name, opts), b = generateSynth(name, opts);
      assert.deepEqual(a.rows.rgb, b.rows.rgb);
      assert.deepEqual(a.truth, b.truth);
      const c = generateSynth(name, { ...opts, seed: 6 });
      assert.notDeepEqual(c.rows.rgb, a.rows.rgb);
      const short = generateSynth(name, { ...opts, n: 10 });
      assert.deepEqual(short.rows.rgb, a.rows.rgb.subarray(0, short.rows.rgb.length));
    }
  });

  await t.step("each dataset carries only its own labels; the truth covers every task and agrees", () => {
    for (const name of SYNTH_NAMES) {
      const d = generateSynth(name, opts);
      assert.deepEqual(Object.keys(d.rows.labels).sort(), [...OWN[name]].sort());
      assert.deepEqual(Object.keys(d.truth.labels).sort(), ["age", "emotion", "gender", "pose"]);
      for (const task of OWN[name]) assert.deepEqual(d.rows.labels[task], d.truth.labels[task]);
      // With an annotator's yaw error the pose label may differ near a bin edge (the next step).
      const exactPose = synthDifficulty(name).yawLabelNoise === 0;
      for (let i = 0; i < d.truth.n; i++) {
        if (exactPose) assert.equal(d.truth.labels.pose![i], poseClass(d.truth.attributes.yaw[i]));
        const [lo, hi] = AGE_GROUP_YEARS[d.truth.labels.age![i]];
        const years = d.truth.attributes.ageYears[i];
        assert.ok(years >= lo - 1e-3 && years <= hi + 1e-3, `age ${years} in group ${lo}-${hi}`);
      }
    }
  });

  await t.step(
    "the annotator's yaw error flips only pose labels near a bin edge and leaves the images alone",
    () => {
      const o = { seed: 2, size: 8, n: 600 };
      for (const name of ["synth-pose", "synth-emotion"] as const) {
        assert.ok(synthDifficulty(name).yawLabelNoise > 0, `${name} has label noise by default`);
        const noisy = generateSynth(name, o);
        const exact = generateSynth(name, { ...o, difficulty: { yawLabelNoise: 0 } });
        assert.deepEqual(noisy.rows.rgb, exact.rows.rgb);
        assert.deepEqual(noisy.truth.attributes, exact.truth.attributes);
        assert.deepEqual(noisy.truth.labels.emotion, exact.truth.labels.emotion);
        let flipped = 0;
        for (let i = 0; i < o.n; i++) {
          const yaw = exact.truth.attributes.yaw[i];
          assert.equal(exact.truth.labels.pose![i], poseClass(yaw));
          if (noisy.truth.labels.pose![i] === exact.truth.labels.pose![i]) continue;
          flipped++;
          const edge = Math.min(...[-60, -10, 10, 60].map((e) => Math.abs(yaw - e)));
          assert.ok(edge < 30, `row ${i}: yaw ${yaw} is ${edge} deg from an edge, 5 std of the error`);
        }
        // synth-pose draws yaw uniformly within bins, synth-emotion mostly near the ±10 deg edges.
        assert.ok(
          flipped > 0.03 * o.n && flipped < 0.35 * o.n,
          `${name}: ${flipped} of ${o.n} labels flipped`,
        );
      }
    },
  );

  await t.step("the datasets never share a person", () => {
    const ids = SYNTH_NAMES.map((name) => new Set(generateSynth(name, opts).truth.attributes.identity));
    for (let a = 0; a < ids.length; a++) {
      for (let b = a + 1; b < ids.length; b++) for (const id of ids[a]) assert.ok(!ids[b].has(id));
    }
  });

  await t.step("difficulty knobs change the images and are validated", () => {
    const base = generateSynth("synth-pose", { ...opts, n: 4 });
    const noisy = generateSynth("synth-pose", { ...opts, n: 4, difficulty: { noise: 0.2 } });
    assert.notDeepEqual(base.rows.rgb, noisy.rows.rgb);
    assert.throws(() => synthDifficulty("synth-pose", { noise: -1 }), /noise must be/);
    assert.throws(() => generateSynth("synth-nothing", opts), /unknown synthetic dataset/);
  });

  await t.step("the pose dataset spreads over all five bins; the emotion dataset leans frontal", () => {
    const pose = generateSynth("synth-pose", { seed: 1, size: 8, n: 400 }).truth.labels.pose!;
    const counts = [0, 0, 0, 0, 0];
    for (const c of pose) counts[c]++;
    assert.ok(counts.every((c) => c > 25), `pose bins ${counts}`);
    const frontal = (shift: number) =>
      generateSynth("synth-emotion", { seed: 1, size: 8, n: 400, domainShift: shift }).truth.labels.pose!
        .filter((c) => c === 0).length;
    assert.ok(frontal(0) < frontal(0.5) && frontal(0.5) < frontal(1));
    assert.equal(SYNTH_PRESETS["synth-emotion"].domain.tasks[0], "emotion");
  });
});

Deno.test("the emotion/pose pair is one face space shifted by --domain_shift", async (t) => {
  await t.step("at shift 0 both datasets have the same label distributions and nuisances", () => {
    const e = synthPreset("synth-emotion", 0), p = synthPreset("synth-pose", 0);
    assert.deepEqual(e.difficulty, p.difficulty);
    const { tasks: _t1, identities: _i1, identityBase: b1, ...de } = e.domain;
    const { tasks: _t2, identities: _i2, identityBase: b2, ...dp } = p.domain;
    assert.deepEqual(de, dp);
    assert.notEqual(b1, b2, "still different people");
  });
  await t.step("every number moves linearly with the shift; the default is in the presets", () => {
    const at = (s: number) => synthPreset("synth-emotion", s).difficulty.clutter;
    assert.ok(Math.abs(at(0.5) - (at(0) + at(1)) / 2) < 1e-12);
    assert.ok(at(1) > at(0));
    assert.deepEqual(SYNTH_PRESETS["synth-pose"], synthPreset("synth-pose", DEFAULT_DOMAIN_SHIFT));
    assert.throws(() => synthPreset("synth-pose", 1.5), /domain shift must be in \[0, 1\]/);
  });
  await t.step("the shift changes the rows, and shift 0 draws both datasets alike", () => {
    const opts = { seed: 3, size: 8, n: 300 };
    const a = generateSynth("synth-pose", { ...opts, domainShift: 0 });
    const b = generateSynth("synth-pose", { ...opts, domainShift: 1 });
    assert.notDeepEqual(a.rows.rgb, b.rows.rgb);
    const hist = (labels: Int32Array) => {
      const h = new Array(7).fill(0);
      for (const c of labels) h[c]++;
      return h.map((v) => v / labels.length);
    };
    const e0 = hist(generateSynth("synth-emotion", { ...opts, domainShift: 0 }).truth.labels.emotion!);
    const p0 = hist(a.truth.labels.emotion!);
    // Same distribution, independent draws: each class share within a few standard errors.
    for (let c = 0; c < 7; c++) {
      assert.ok(Math.abs(e0[c] - p0[c]) < 0.09, `emotion ${c}: ${e0[c]} vs ${p0[c]}`);
    }
  });
});

Deno.test("poses are learnable from pixels: a ridge classifier on 16x16 gray beats chance", () => {
  // Guards against a renderer that ignores yaw (labels would be noise). Not a difficulty target.
  const S = 16, N = 700, NT = 550, C = 5, F = S * S + 1;
  const clean = { clutter: 0, noise: 0, occlusion: 0, lighting: 0.2, colorCast: 0, blur: 0 };
  const d = generateSynth("synth-pose", { seed: 2, size: S, n: N, difficulty: clean });
  const lab = d.rows.labels.pose!;
  // Per-image standardised green channel plus a bias feature.
  const X = new Float64Array(N * F);
  for (let i = 0; i < N; i++) {
    let m = 0, v = 0;
    for (let p = 0; p < S * S; p++) m += X[i * F + p] = d.rows.rgb[(i * S * S + p) * 3 + 1];
    m /= S * S;
    for (let p = 0; p < S * S; p++) v += (X[i * F + p] -= m) ** 2;
    const sd = Math.sqrt(v / (S * S)) + 1e-6;
    for (let p = 0; p < S * S; p++) X[i * F + p] /= sd;
    X[i * F + S * S] = 1;
  }
  // Ridge one-vs-rest: (X'X + 50 I) W = X'Y, solved by Gauss-Jordan.
  const A = new Float64Array(F * F), B = new Float64Array(F * C);
  for (let i = 0; i < NT; i++) {
    for (let a = 0; a < F; a++) {
      const xa = X[i * F + a];
      for (let b = 0; b < F; b++) A[a * F + b] += xa * X[i * F + b];
      B[a * C + lab[i]] += xa;
    }
  }
  for (let a = 0; a < F; a++) A[a * F + a] += 50;
  for (let k = 0; k < F; k++) {
    const piv = A[k * F + k];
    for (let j = 0; j < F; j++) A[k * F + j] /= piv;
    for (let c = 0; c < C; c++) B[k * C + c] /= piv;
    for (let r = 0; r < F; r++) {
      const f = A[r * F + k];
      if (r === k || f === 0) continue;
      for (let j = k; j < F; j++) A[r * F + j] -= f * A[k * F + j];
      for (let c = 0; c < C; c++) B[r * C + c] -= f * B[k * C + c];
    }
  }
  let ok = 0;
  for (let i = NT; i < N; i++) {
    let best = 0, bv = -Infinity;
    for (let c = 0; c < C; c++) {
      let s = 0;
      for (let a = 0; a < F; a++) s += X[i * F + a] * B[a * C + c];
      if (s > bv) [bv, best] = [s, c];
    }
    if (best === lab[i]) ok++;
  }
  const acc = ok / (N - NT);
  assert.ok(acc > 0.28, `ridge pose accuracy ${acc.toFixed(3)} (chance 0.2)`);
});

Deno.test("digits-rot: disjoint images, own labels only, truth consistent", async () => {
  const pool = await loadMnistPool();
  assert.ok(pool.n >= 9000, `MNIST pool has ${pool.n} digits`);
  for (let d = 0; d < 10; d++) assert.ok(pool.labels.filter((l) => l === d).length > 800);
  const a = generateDigits(pool, "digits-rot-a", { seed: 3, size: 20, n: 300 });
  const b = generateDigits(pool, "digits-rot-b", { seed: 3, size: 20, n: 300 });
  assert.deepEqual(Object.keys(a.rows.labels), ["digit"]);
  assert.deepEqual(Object.keys(b.rows.labels), ["rotation"]);
  const ia = new Set(a.truth.attributes.mnistIndex), ib = new Set(b.truth.attributes.mnistIndex);
  for (const i of ia) assert.ok(!ib.has(i), `MNIST image ${i} in both datasets`);
  for (const d of [a, b]) {
    for (let i = 0; i < d.truth.n; i++) {
      assert.equal(d.truth.labels.digit![i], pool.labels[d.truth.attributes.mnistIndex[i]]);
      assert.equal(d.truth.labels.rotation![i], rotationBin(d.truth.attributes.angle[i]));
    }
  }
  assert.deepEqual(b.rows.labels.rotation, b.truth.labels.rotation);
  // B's angles are uniform over the bins; A's are mostly upright.
  const binsB = [0, 0, 0, 0, 0];
  for (const c of b.truth.labels.rotation!) binsB[c]++;
  assert.ok(binsB.every((c) => c > 30), `B bins ${binsB}`);
  assert.ok(a.truth.labels.rotation!.filter((c) => c === 2).length > 120);
  assert.deepEqual(generateDigits(pool, "digits-rot-b", { seed: 3, size: 20, n: 300 }).rows.rgb, b.rows.rgb);
  assert.throws(() => generateDigits(pool, "digits-rot-a", { seed: 3, size: 20, n: 6000 }), /n must be/);
});

Deno.test("registry: loading is identical without the hidden-truth file", async (t) => {
  const cacheDir = await Deno.makeTempDir({ prefix: "samtl-synth-test-" });
  try {
    const opts = { imageSize: 20, channels: 1 as const, seed: 4, size: 60, cacheDir };
    for (const name of ["synth-age-gender", "digits-rot-b"]) {
      await t.step(name, async () => {
        const first = await loadDataset(name, opts); // generates; writes the .bin and the truth file
        assert.deepEqual(Object.keys(first.labels).sort(), [...OWN[name]].sort());
        assert.deepEqual(first.tasks.map((x) => x.name), OWN[name]);
        assert.equal(first.images.length, 60 * 20 * 20);
        assert.ok(first.images.every((v) => v >= -1 && v < 1));
        const kind = name.startsWith("synth") ? "synth" : "digits";
        const files = [...Deno.readDirSync(join(cacheDir, kind))].map((e) => e.name);
        const truthFile = files.find((f) => f.endsWith(".truth.json"))!;
        assert.ok(truthFile, "truth file written next to the cache");
        const truth = await loadHiddenTruth(name, opts);
        assert.ok(truth);
        await Deno.remove(join(cacheDir, kind, truthFile));
        const second = await loadDataset(name, opts);
        assert.deepEqual(second, first, "training data identical with the truth file absent");
        const fresh = await loadDataset(name, { ...opts, cache: false });
        assert.deepEqual(fresh, first, "cache hit and fresh generation agree");
        assert.deepEqual(await loadHiddenTruth(name, opts), truth, "truth regenerates identically");
        for (const task of OWN[name]) assert.deepEqual(truth.labels[task], first.labels[task]);
        const rgb = await loadDataset(name, { ...opts, channels: 3 });
        assert.equal(rgb.channels, 3);
        assert.deepEqual(rgb.split, first.split);
      });
    }
    await t.step("a damaged cache file is reported by name", async () => {
      const paths = cachePaths("synth", { name: "synth-pose", seed: 4, size: 20, n: 5, hash: "x" }, cacheDir);
      assert.ok(paths.bin.startsWith(cacheDir) && paths.bin.endsWith("synth-pose-4-20-5-x.bin"));
      const set = await loadDataset("synth-pose", { ...opts, size: 5 });
      const bin = [...Deno.readDirSync(join(cacheDir, "synth"))].map((e) => e.name).find((f) =>
        f.startsWith("synth-pose-4-20-5-") && f.endsWith(".bin")
      )!;
      await Deno.writeFile(join(cacheDir, "synth", bin), new Uint8Array(10));
      await assert.rejects(() => loadDataset("synth-pose", { ...opts, size: 5 }), /damaged dataset cache/);
      assert.equal(set.n, 5);
    });
  } finally {
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test("registry: names, tasks and label spaces", () => {
  for (
    const name of [
      "synth-emotion",
      "synth-pose",
      "synth-age-gender",
      "digits-rot-a",
      "digits-rot-b",
      "fer2013",
      "aflw",
    ]
  ) {
    assert.ok(DATASET_NAMES.includes(name));
  }
  assert.deepEqual(datasetTasks("synth-emotion")[0].labels, [
    "angry",
    "disgust",
    "fear",
    "happy",
    "sad",
    "surprise",
    "neutral",
  ]);
  assert.deepEqual(datasetTasks("synth-pose")[0].labels, [
    "frontal",
    "right profile",
    "left profile",
    "left",
    "right",
  ]);
  assert.deepEqual(datasetTasks("synth-age-gender").map((x) => x.classes), [2, 8]);
  assert.equal(datasetTasks("ferplus")[0].classes, 8);
  assert.equal(datasetTasks("digits-rot-b")[0].classes, 5);
  assert.deepEqual(truthTasks("synth-pose").map((x) => x.name), ["emotion", "pose", "gender", "age"]);
  assert.deepEqual(truthTasks("adience"), []);
  assert.throws(() => datasetTasks("mnist"), /unknown dataset/);
  assert.notEqual(configHash({ a: 1 }), configHash({ a: 2 }));
});
