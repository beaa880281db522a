/**
 * The report's statistics against references computed by hand, by closed forms or by brute force:
 * Student's t CDF and quantiles, the paired-t interval, Holm's correction, the minimum detectable
 * difference, the paired bootstrap over test rows, the last-quarter convergence check and the per-row
 * test predictions file.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Rng } from "../core/rng.ts";
import {
  chiSquareCdf,
  chiSquareQuantile,
  holm,
  minDetectableDiff,
  noncentralityForPower,
  noncentralTCdf,
  normalCdf,
  pairedTInterval,
  sdUpperBound,
  seedsForHalfWidth,
  studentTCdf,
  studentTQuantile,
} from "../runner/report/inference.ts";
import { correctnessBytes, pairedBootstrap, quantileSorted } from "../runner/report/bootstrap.ts";
import {
  columnConvergence,
  cycleMeans,
  lastQuarterGain,
  runConvergence,
} from "../runner/report/convergence.ts";
import type { RunResult } from "../runner/report/results.ts";
import {
  correctnessString,
  readTestPredictions,
  rowsFingerprint,
  testPredictionsPath,
  testRowFields,
  writeTestPredictions,
} from "../runner/train/test_predictions.ts";

const close = (a: number, b: number, tol: number, what = "") =>
  assert.ok(Math.abs(a - b) <= tol, `${what} ${a} != ${b} (tol ${tol})`);

Deno.test("Student t: CDF and quantiles match closed forms and published tables", async (t) => {
  await t.step("closed forms for 1 and 2 degrees of freedom, over a grid", () => {
    for (const x of [-30, -4.3, -1, -0.2, 0, 0.5, 1.7, 6, 60]) {
      close(studentTCdf(x, 1), 0.5 + Math.atan(x) / Math.PI, 1e-12, `cdf(${x}, 1)`);
      close(studentTCdf(x, 2), 0.5 + x / (2 * Math.sqrt(2 + x * x)), 1e-12, `cdf(${x}, 2)`);
    }
    for (const p of [0.001, 0.025, 0.1, 0.3, 0.5, 0.8, 0.9, 0.975, 0.999]) {
      const t1 = Math.tan(Math.PI * (p - 0.5));
      close(studentTQuantile(p, 1), t1, 1e-9 * Math.max(1, Math.abs(t1)), `q(${p}, 1)`);
      close(studentTQuantile(p, 2), (2 * p - 1) / Math.sqrt(2 * p * (1 - p)), 1e-9, `q(${p}, 2)`);
    }
  });
  await t.step("published quantiles (R qt)", () => {
    const table: [number, number, number][] = [
      [0.975, 1, 12.706205],
      [0.975, 2, 4.302653],
      [0.975, 4, 2.776445],
      [0.975, 10, 2.228139],
      [0.975, 30, 2.042272],
      [0.8, 2, 1.06066],
      [0.8, 9, 0.8834039],
      [0.95, 5, 2.015048],
      [0.025, 3, -3.182446],
    ];
    for (const [p, df, q] of table) close(studentTQuantile(p, df), q, 2e-6, `qt(${p}, ${df})`);
    // Quantile and CDF invert each other.
    for (const df of [1, 3, 7.5, 50]) {
      for (const p of [0.05, 0.6, 0.99]) close(studentTCdf(studentTQuantile(p, df), df), p, 1e-10);
    }
    assert.throws(() => studentTQuantile(1, 3), /p must be in \(0, 1\)/);
    assert.throws(() => studentTQuantile(0.5, 0), /df must be > 0/);
  });
});

Deno.test("paired-t interval and minimum detectable difference on hand-computed numbers", () => {
  // diffs 3, 4, 2 pp: mean 3, sd 1, se 1/√3; t_{0.975,2} = 4.302653 -> half-width 2.484138 pp.
  const ci = pairedTInterval([0.03, 0.04, 0.02])!;
  close(ci.mean, 0.03, 1e-12);
  close(ci.sd, 0.01, 1e-12);
  close(ci.tCrit, 4.302653, 1e-6);
  close(ci.halfWidth, 0.02484138, 1e-8);
  close(ci.low, 0.03 - 0.02484138, 1e-8);
  close(ci.high, 0.03 + 0.02484138, 1e-8);
  // t = 0.03 / (0.01 / √3) = 5.196, df 2 -> p = 0.0351 (as tests/report_test.ts)
  close(ci.p, 0.0351, 5e-4);
  assert.equal(pairedTInterval([0.02]), null);
  // A zero spread: a point interval.
  const flat = pairedTInterval([0.01, 0.01, 0.01])!;
  assert.equal(flat.halfWidth, 0);
  assert.equal(flat.p, 0);
  assert.equal(pairedTInterval([0, 0])!.p, 1);
  // MDD = nc · sd / √n, nc the noncentrality at which the two-sided t-test (df 2) has power 0.8: 5.6534893
  // (scipy: brentq over 1 − nct.cdf(c) + nct.cdf(−c), the CDF by quad); the shortcut t_{0.975} + t_{0.8} gives 5.3633.
  close(minDetectableDiff(0.01, 3)!, 5.6534893 * 0.01 / Math.sqrt(3), 1e-8);
  assert.equal(minDetectableDiff(0.01, 1), null);
});

Deno.test("seeds for a half-width goal: the smallest n whose t interval at the given spread is narrow enough", () => {
  // sd 1 pp, goal 2 pp: n 3 gives 4.303 / √3 = 2.48 pp, n 4 gives 3.182 / 2 = 1.59 pp.
  assert.equal(seedsForHalfWidth(0.01, 0.02), 4);
  // sd 4.29 pp (the thorough report's widest contrast at 6 seeds): t_{0.975,20} · 4.29 / √21 = 1.95 pp,
  // t_{0.975,19} · 4.29 / √20 = 2.01 pp.
  assert.equal(seedsForHalfWidth(0.0429, 0.02), 21);
  // At n - 1 the half-width is above the goal, at n within it (the definition, on a spread of values).
  for (const sd of [0.001, 0.013, 0.05, 0.2]) {
    const n = seedsForHalfWidth(sd, 0.02)!;
    assert.ok(n === 2 || pairedHalfWidth(sd, n - 1) > 0.02, `sd ${sd}: n ${n}`);
    assert.ok(pairedHalfWidth(sd, n) <= 0.02, `sd ${sd}: n ${n}`);
  }
  // The cap is inclusive: an answer at the cap is found, one seed beyond it is not.
  const far = seedsForHalfWidth(0.5, 0.02)!;
  assert.ok(far > 2000, `${far}`);
  assert.ok(pairedHalfWidth(0.5, far - 1) > 0.02 && pairedHalfWidth(0.5, far) <= 0.02);
  assert.equal(seedsForHalfWidth(0.5, 0.02, { maxSeeds: far }), far);
  assert.equal(seedsForHalfWidth(0.5, 0.02, { maxSeeds: far - 1 }), null);
  assert.equal(seedsForHalfWidth(0, 0.02), 2);
  assert.equal(seedsForHalfWidth(1, 0.0001, { maxSeeds: 50 }), null);
  assert.equal(seedsForHalfWidth(Number.NaN, 0.02), null);
});

function pairedHalfWidth(sd: number, n: number): number {
  return studentTQuantile(0.975, n - 1) * sd / Math.sqrt(n);
}

Deno.test("minimum detectable difference: a simulated paired t-test at that difference has power 0.8, at few seeds too", () => {
  // Brute force: 6,000 experiments of n normal differences whose true mean is the MDD (standard error of the
  // rate 0.005). At n = 2 and 3 the t shortcut's difference has power 0.73 and 0.77.
  for (const n of [2, 3, 12]) {
    const rng = new Rng(`mdd-power-${n}`);
    const sd = 1;
    const mdd = minDetectableDiff(sd, n)!;
    let rejected = 0;
    const sims = 6000;
    for (let s = 0; s < sims; s++) {
      const d = Array.from({ length: n }, () => rng.normal(mdd, sd));
      if (pairedTInterval(d)!.p < 0.05) rejected++;
    }
    close(rejected / sims, 0.8, 0.015, `power at n ${n}`);
  }
});

Deno.test("noncentral t CDF and the noncentrality for a power match scipy", () => {
  // scipy.stats.nct.cdf(t, df, nc)
  const ref: [number, number, number, number][] = [
    [1.5, 4, 0.7, 0.7350601233028798],
    [-2.0, 9, -0.5, 0.09457113617674168],
    [3.0, 2, 2.5, 0.5125949711221227],
    [0.3, 30, 1.0, 0.2413495697277328],
    [2.2, 1, 1.0, 0.6498609650889893],
  ];
  for (const [t, df, nc, p] of ref) close(noncentralTCdf(t, df, nc), p, 1e-7, `nct(${t}, ${df}, ${nc})`);
  // nc at power 0.8, α 0.05, n = 2, 4, 13 (scipy brentq as above)
  close(noncentralityForPower(1, 0.05, 0.8), 16.334008870, 1e-6);
  close(noncentralityForPower(3, 0.05, 0.8), 4.255898687, 1e-7);
  close(noncentralityForPower(12, 0.05, 0.8), 3.052657467, 1e-7);
  // Φ at a few points (erfc's fit: relative error below 1.2e-7)
  close(normalCdf(0), 0.5, 1e-7);
  close(normalCdf(1.959963985), 0.975, 1e-7);
  close(normalCdf(-3), 0.0013498980316301, 1e-9);
});

Deno.test("Holm: a textbook example and the step-down definition by brute force", () => {
  // R: p.adjust(c(0.01, 0.04, 0.03, 0.005), "holm") = 0.03 0.06 0.06 0.02
  const adj = holm([0.01, 0.04, 0.03, 0.005]);
  [0.03, 0.06, 0.06, 0.02].forEach((v, i) => close(adj[i]!, v, 1e-12));
  // Nulls are outside the family.
  assert.deepEqual(holm([null, 0.02, null, 0.04]), [null, 0.04, null, 0.04]);
  assert.deepEqual(holm([0.9, 0.8]), [1, 1]);
  // Step-down: reject the i-th smallest iff p_(j) <= α / (m − j + 1) for every j <= i; adjusted <= α iff rejected.
  const rng = new Rng("holm");
  for (let trial = 0; trial < 200; trial++) {
    const m = 1 + rng.int(12);
    const ps = Array.from({ length: m }, () => (rng.next() < 0.3 ? rng.next() * 0.01 : rng.next()));
    const a = holm(ps);
    const order = ps.map((p, i) => ({ p, i })).sort((x, y) => x.p - y.p);
    for (const alpha of [0.01, 0.05, 0.1]) {
      let still = true;
      order.forEach(({ p, i }, k) => {
        still = still && p <= alpha / (m - k);
        assert.equal(a[i]! <= alpha, still, `trial ${trial} alpha ${alpha} p ${p}`);
      });
    }
  }
});

Deno.test("paired bootstrap over test rows: reproducible, exact moments, shared rows", async (t) => {
  const a = correctnessBytes("1101101110");
  const b = correctnessBytes("1001100111");
  await t.step("the same seed gives the same interval; the observed difference is exact", () => {
    const r1 = pairedBootstrap([{ a, b, rows: "10:x" }], { rng: new Rng("b"), resamples: 500 })!;
    const r2 = pairedBootstrap([{ a, b, rows: "10:x" }], { rng: new Rng("b"), resamples: 500 })!;
    assert.deepEqual(r1, r2);
    close(r1.observed, 0.7 - 0.6, 1e-12);
    assert.ok(r1.low <= r1.observed && r1.observed <= r1.high);
  });
  await t.step("resampled mean and variance match the exact bootstrap distribution", () => {
    // d = a − b per row; the mean of n draws with replacement has mean(d) and variance popvar(d) / n.
    const d = Array.from(a, (x, i) => x - b[i]);
    const m = d.reduce((s, x) => s + x, 0) / d.length;
    const v = d.reduce((s, x) => s + (x - m) ** 2, 0) / d.length / d.length;
    // A 40,000-resample run estimates these moments to about 1 % of v.
    const rng = new Rng("moments");
    const n = d.length;
    const vals: number[] = [];
    for (let r = 0; r < 40000; r++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += d[Math.floor(rng.nextU32() * n / 4294967296)];
      vals.push(s / n);
    }
    const em = vals.reduce((s, x) => s + x, 0) / vals.length;
    const ev = vals.reduce((s, x) => s + (x - em) ** 2, 0) / vals.length;
    close(em, m, 0.003, "mean");
    close(ev, v, 0.03 * v, "variance");
    // pairedBootstrap draws the same way: with the same stream, its interval is those values' quantiles.
    const res = pairedBootstrap([{ a, b, rows: "k" }], { rng: new Rng("moments"), resamples: 40000 })!;
    const sorted = [...vals].sort((x, y) => x - y);
    close(res.low, quantileSorted(sorted, 0.025), 1e-12);
    close(res.high, quantileSorted(sorted, 0.975), 1e-12);
  });
  await t.step("seeds on the same rows share the row draws; seeds on other rows are drawn apart", () => {
    const one = pairedBootstrap([{ a, b, rows: "k" }], { rng: new Rng("s"), resamples: 300 })!;
    const twoShared = pairedBootstrap([{ a, b, rows: "k" }, { a, b, rows: "k" }], {
      rng: new Rng("s"),
      resamples: 300,
    })!;
    assert.equal(twoShared.sharedRows, true);
    assert.equal(twoShared.low, one.low);
    assert.equal(twoShared.high, one.high);
    const apart = pairedBootstrap([{ a, b, rows: "k" }, { a, b, rows: "other" }], {
      rng: new Rng("s"),
      resamples: 4000,
    })!;
    assert.equal(apart.sharedRows, false);
    const wide = pairedBootstrap([{ a, b, rows: "k" }], { rng: new Rng("s"), resamples: 4000 })!;
    // Averaging two independent resamples narrows the interval by about √2.
    const ratio = (wide.high - wide.low) / (apart.high - apart.low);
    assert.ok(ratio > 1.2 && ratio < 1.7, `width ratio ${ratio}`);
  });
  await t.step("identical predictions give a point interval at zero; bad input is refused", () => {
    const same = pairedBootstrap([{ a, b: a, rows: "k" }], { rng: new Rng(1), resamples: 100 })!;
    assert.deepEqual([same.low, same.high, same.observed], [0, 0, 0]);
    assert.equal(pairedBootstrap([], { rng: new Rng(1) }), null);
    assert.throws(
      () => pairedBootstrap([{ a, b: b.subarray(1), rows: "k" }], { rng: new Rng(1) }),
      /10 rows for A but 9 for B/,
    );
  });
});

Deno.test("convergence: last quarter against the one before, on the images-seen axis", () => {
  // 8 evaluations over 800 images: quarters (0,200], (200,400], (400,600], (600,800].
  const pts = [0.3, 0.4, 0.5, 0.55, 0.6, 0.62, 0.64, 0.66].map((v, i) => ({ x: 100 * (i + 1), value: v }));
  const g = lastQuarterGain(pts);
  close(g.q3!, (0.6 + 0.62) / 2, 1e-12);
  close(g.q4!, (0.64 + 0.66) / 2, 1e-12);
  close(g.gain!, 0.04, 1e-12);
  assert.deepEqual([g.n3, g.n4, g.budget], [2, 2, 800]);
  // 2 evaluations (at 1/2 and all of the budget): the third quarter is empty, so the gain is unknown.
  const few = lastQuarterGain([{ x: 50, value: 0.5 }, { x: 100, value: 0.6 }]);
  assert.deepEqual([few.q3, few.gain, few.n4], [null, null, 1]);
  // 4 evaluations: one point per quarter.
  close(
    lastQuarterGain([0.1, 0.2, 0.3, 0.305].map((v, i) => ({ x: 3 * (i + 1), value: v }))).gain!,
    0.005,
    1e-12,
  );

  const run = (imagesSeen: boolean): RunResult => ({
    method: "stl",
    seed: 1,
    datasets: ["a", "b"],
    tasks: ["emotion", "pose"],
    results: [
      { task: "emotion", dataset: "a", testAcc: 0, testMeanClassAcc: 0, classNames: ["x"], confusion: [[0]] },
      { task: "pose", dataset: "b", testAcc: 0, testMeanClassAcc: 0, classNames: ["x"], confusion: [[0]] },
    ],
    curves: [
      ...[0.5, 0.6, 0.7, 0.75].map((v, i) => ({
        epoch: i + 1,
        split: "val",
        metric: "emotion/a/val/acc",
        value: v,
        ...(imagesSeen ? { imagesSeen: 10 * (i + 1) } : {}),
      })),
      // STL's pose run: its own budget (5 epochs of 20 images), quarters of 100 images.
      ...[0.5, 0.6, 0.7, 0.705, 0.71].map((v, i) => ({
        epoch: i + 1,
        split: "val",
        metric: "pose/b/val/acc",
        value: v,
        ...(imagesSeen ? { imagesSeen: 20 * (i + 1) } : {}),
      })),
    ],
    trainSeconds: 1,
    imagesSeen: 140,
    runDir: "x",
    command: "x",
    backend: { name: "cpu" },
    versions: {},
  });
  const c = runConvergence(run(true));
  assert.equal(c.columns[0].axis, "images");
  close(c.columns[0].gain!, 0.05, 1e-12);
  assert.equal(c.columns[0].stillImproving, true);
  // pose: Q3 = (50, 75] holds 60; Q4 = (75, 100] holds 80 and 100.
  close(c.columns[1].gain!, (0.705 + 0.71) / 2 - 0.7, 1e-12);
  assert.equal(c.columns[1].stillImproving, false);
  assert.equal(c.stillImproving, true);
  assert.equal(runConvergence(run(false)).columns[0].axis, "epoch");
});

Deno.test("convergence: an alternating run's sawtooth is averaged per cycle, not read as a trend", () => {
  // A flat run whose column is high after its own epoch (even evaluations) and low after the other dataset's:
  // the quarters (5, 7.5] and (7.5, 10] hold 1:1 and 2:1 highs, a 1.67 pp "gain" with no learning at all.
  const sawtooth = Array.from({ length: 10 }, (_, i) => ({ x: i + 1, value: (i + 1) % 2 ? 0.75 : 0.85 }));
  close(lastQuarterGain(sawtooth).gain!, 0.85 * 2 / 3 + 0.75 / 3 - 0.8, 1e-12);
  assert.deepEqual(cycleMeans(sawtooth, 2).map((p) => p.x), [2, 4, 6, 8, 10]);
  const curves = sawtooth.map((p) => ({
    epoch: p.x,
    split: "val" as const,
    metric: "emotion/a/val/acc",
    value: p.value,
    imagesSeen: p.x * 100,
  }));
  assert.equal(columnConvergence(curves, "emotion", "a").stillImproving, true);
  const c = columnConvergence(curves, "emotion", "a", 2);
  close(c.gain!, 0, 1e-12);
  assert.equal(c.stillImproving, false);
  assert.deepEqual([c.n3, c.n4, c.budget], [1, 2, 1000]);
  // A run stopped early after an odd evaluation: cycles are counted back from the last point.
  const early = cycleMeans(sawtooth.slice(0, 9), 2);
  assert.deepEqual(early.map((p) => p.x), [3, 5, 7, 9]);
  for (const p of early) close(p.value, 0.8, 1e-12);
  assert.equal(cycleMeans(sawtooth, 1), sawtooth);
});

Deno.test("test predictions: written atomically, read back, same accuracy as the predictions", async () => {
  const dir = await Deno.makeTempDir({ prefix: "preds_" });
  try {
    const p = {
      row: Int32Array.from([7, 3, 9, 12]),
      truth: Int32Array.from([0, 2, 1, 1]),
      pred: Int32Array.from([0, 1, 1, 1]),
    };
    const path = testPredictionsPath(dir, 3, "emotion", "synth-emotion");
    await writeTestPredictions(path, p);
    assert.equal(path, join(dir, "predictions", "epoch_3_emotion_synth-emotion_test.csv"));
    assert.deepEqual(await readTestPredictions(path), p);
    assert.equal(correctnessString(p), "1011");
    const fields = await testRowFields(dir, 3, "emotion", "synth-emotion");
    assert.deepEqual(fields, { testCorrect: "1011", testRows: rowsFingerprint(p), nTest: 4 });
    assert.match(fields.testRows!, /^4:[0-9a-f]{8}$/);
    // Other order, or the same indices with other labels (other data): another fingerprint.
    assert.notEqual(
      rowsFingerprint({ row: Int32Array.from([3, 7, 9, 12]), truth: p.truth }),
      fields.testRows,
    );
    assert.notEqual(rowsFingerprint({ row: p.row, truth: Int32Array.from([0, 2, 1, 0]) }), fields.testRows);
    // A run without the file (an older version) gives no fields rather than an error.
    assert.deepEqual(await testRowFields(dir, 2, "emotion", "synth-emotion"), {});
    await Deno.writeTextFile(path, "row,true,pred\n1,2,x\n");
    await assert.rejects(() => readTestPredictions(path), /line 2: expected three class\/row ids/);
    assert.ok(![...Deno.readDirSync(join(dir, "predictions"))].some((e) => e.name.endsWith(".tmp")));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("chi-square quantiles and the spread's upper confidence bound match scipy", () => {
  // scipy.stats.chi2.ppf(0.2, df) and chi2.cdf(5, df).
  const ppf: [number, number][] = [
    [1, 0.0641847546673016],
    [2, 0.4462871026284195],
    [3, 1.0051740130523492],
    [
      9,
      5.380053211773292,
    ],
    [20, 14.578439217070523],
  ];
  for (const [df, q] of ppf) close(chiSquareQuantile(0.2, df), q, 1e-10 * Math.max(1, q));
  close(chiSquareCdf(5, 3), 0.8282028557032665, 1e-12);
  close(chiSquareCdf(5, 20), 0.0002773520946208362, 1e-15);
  // sqrt(df / chi2.ppf(0.2, df)): the 80 % bound of an sd of 1 on 1 and 2 df.
  close(sdUpperBound(1, 1), 3.9471538755427455, 1e-9);
  close(sdUpperBound(1.5, 2), 1.5 * 2.1169364935501847, 1e-9);
});
