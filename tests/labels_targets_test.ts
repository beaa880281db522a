import assert from "node:assert/strict";
import {
  combineFactors,
  distilledTargets,
  hardTargets,
  maxNormalise,
  pureTargets,
  selectionThreshold,
  softTargets,
} from "../core/labels/mod.ts";

const f = (...v: number[]) => Float32Array.from(v);
const near = (a: ArrayLike<number>, b: number[]) => {
  assert.equal(a.length, b.length);
  b.forEach((v, i) => assert.ok(Math.abs(a[i] - v) < 1e-6, `index ${i}: ${a[i]} vs ${v}`));
};

Deno.test("combineFactors: product of the enabled factors, max-normalised", () => {
  const r = combineFactors([f(0.5, 1, 0.8), f(1, 0.25, 0.5)], 3);
  near(r.raw, [0.5, 0.25, 0.4]);
  near(r.weights, [1, 0.5, 0.8]);
  near(combineFactors([], 2).weights, [1, 1]);
  near(combineFactors([f(0, 0)], 2).weights, [0, 0]); // 0/0 -> 0, not NaN
  assert.throws(() => combineFactors([f(1)], 2), /factor 0 has 1 rows/);
  assert.throws(() => combineFactors([f(1, -1)], 2), /row 1/);
  near(maxNormalise(f(2, 4)), [0.5, 1]);
});

Deno.test("selectionThreshold: quantile = sort(w)[floor(s*n)], absolute = s", () => {
  const w = f(0.9, 0.1, 0.5, 0.3, 0.7); // sorted .1 .3 .5 .7 .9
  assert.equal(selectionThreshold(w, 0.4), Math.fround(0.5)); // floor(2.0) = 2
  assert.equal(selectionThreshold(w, 0.39), Math.fround(0.3)); // floor(1.95) = 1
  assert.equal(selectionThreshold(w, 0), Math.fround(0.1));
  assert.equal(selectionThreshold(w, 0.6, "absolute"), 0.6);
  assert.throws(() => selectionThreshold(w, 1), /selection_threshold.*\[0, 1\)/);
  assert.throws(() => selectionThreshold(w, -0.1), /selection_threshold/);
  assert.throws(() => selectionThreshold(w, 1.5, "absolute"), /absolute/);
  assert.equal(selectionThreshold(f(), 0.5), Infinity);
});

// 3 rows, 2 classes
const labels = Int32Array.from([0, 1, 1]);
const distilled = f(0.6, 0.4, 0.3, 0.7, 0.5, 0.5);
const weights = f(1, 0.2, 0.6);

Deno.test("hardTargets: kept rows w*onehot, rejected rows distilled or zero", async (t) => {
  await t.step("quantile, reject distill (default)", () => {
    // tau = sorted[floor(0.34 * 3)] = sorted[1] = 0.6: keep only w > 0.6
    const r = hardTargets(weights, labels, { classes: 2, distilled, threshold: 0.34 });
    near(r.targets, [1, 0, 0.3, 0.7, 0.5, 0.5]);
    assert.deepEqual(Array.from(r.kept!), [1, 0, 0]);
    near([r.stats!.kept_fraction, r.stats!.mean_weight, r.stats!.hist_0, r.stats!.hist_1], [
      1 / 3,
      0.6,
      1,
      0,
    ]);
  });
  await t.step("quantile, reject zero (EP code)", () => {
    const r = hardTargets(weights, labels, { classes: 2, distilled, threshold: 0, reject: "zero" });
    // tau = min = 0.2: the minimum row is masked
    near(r.targets, [1, 0, 0, 0, 0, 0.6]);
    near([r.stats!.hist_0, r.stats!.hist_1], [1, 1]);
  });
  await t.step("absolute (EA bytecode)", () => {
    const r = hardTargets(weights, labels, { classes: 2, distilled, threshold: 0.5, mode: "absolute" });
    near(r.targets, [1, 0, 0.3, 0.7, 0, 0.6]);
  });
  await t.step("bad input", () => {
    assert.throws(
      () => hardTargets(weights, Int32Array.from([0, 2, 1]), { classes: 2, distilled, threshold: 0.5 }),
      /row 1/,
    );
    assert.throws(
      () => hardTargets(f(1, 2, 0), labels, { classes: 2, distilled, threshold: 0.5 }),
      /weight 2 at row 1/,
    );
    assert.throws(
      () => hardTargets(weights, labels, { classes: 2, distilled: f(1), threshold: 0.5 }),
      /distilled/,
    );
  });
});

Deno.test("softTargets: ep and lambda interpolation", () => {
  const ep = softTargets(weights, labels, { classes: 2, distilled });
  // w*onehot + (1-w)*d
  near(ep.targets, [1, 0, 0.8 * 0.3, 0.2 + 0.8 * 0.7, 0.4 * 0.5, 0.6 + 0.4 * 0.5]);
  const lam = softTargets(weights, labels, { classes: 2, distilled, mode: "lambda", lambda: 0.25 });
  // 0.25*(w*onehot) + 0.75*d
  near(lam.targets, [0.25 + 0.45, 0.3, 0.225, 0.05 + 0.525, 0.375, 0.15 + 0.375]);
  assert.throws(
    () => softTargets(weights, labels, { classes: 2, distilled, mode: "lambda", lambda: 2 }),
    /interpolation_weights/,
  );
});

Deno.test("pure and distill-only targets", () => {
  const p = pureTargets(labels, { classes: 2, distilled });
  near(p.targets, [0.8, 0.2, 0.15, 0.85, 0.25, 0.75]);
  assert.equal(p.stats!.kept_fraction, 1);
  const d = distilledTargets(distilled, 2);
  near(d.targets, Array.from(distilled));
  assert.notEqual(d.targets, distilled);
  near([d.stats!.mean_max_prob], [(0.6 + 0.7 + 0.5) / 3]);
});
