import assert from "node:assert/strict";
import {
  densityCutoff,
  dkwEpsilon,
  hoeffdingEpsilon,
  localDensity,
  neighbourCounts,
  normaliseDensity,
} from "../core/labels/mod.ts";
import { selectKth } from "../core/labels/_select.ts";
import { Rng } from "../core/rng.ts";

/** The spec's literal definition: full n x n matrix, sort all n^2 entries, count, min-max normalise. */
function bruteDensity(x: number[][], t: number): { cutoff: number; rho: number[]; norm: number[] } {
  const n = x.length;
  const D = x.map((a) => x.map((b) => Math.sqrt(a.reduce((s, v, c) => s + (v - b[c]) ** 2, 0))));
  const sorted = D.flat().sort((a, b) => a - b);
  const cutoff = sorted[Math.floor(n * n * t)];
  const rho = D.map((row) => row.filter((v) => v < cutoff).length - 1);
  const lo = Math.min(...rho), hi = Math.max(...rho);
  const norm = rho.map((r) => (hi > lo ? ((r - lo) / (hi - lo) <= 1e-5 ? 0 : (r - lo) / (hi - lo)) : 0));
  return { cutoff, rho, norm };
}

Deno.test("density: hand-computed 1-d case", async (t) => {
  // points 0, 1, 3: sorted D entries 0,0,0,1,1,2,2,3,3
  const x = Float32Array.from([0, 1, 3]);
  const labels = new Int32Array(3);
  const cases: [number, number, number[], number[]][] = [
    [0.6, 2, [1, 1, 0], [1, 1, 0]], // index 5 -> cutoff 2
    [0.8, 3, [1, 2, 1], [0, 1, 0]], // index 7 -> cutoff 3
    [0.3, 0, [-1, -1, -1], [0, 0, 0]], // index 2 -> cutoff 0: constant class
  ];
  for (const [q, cutoff, rho, norm] of cases) {
    await t.step(`density_t = ${q}`, () => {
      const r = localDensity(x, labels, { d: 1, classes: 1, quantile: q });
      assert.equal(r.perClass[0].cutoff, cutoff);
      assert.deepEqual(Array.from(r.raw), rho);
      assert.deepEqual(Array.from(r.density), norm);
    });
  }
});

Deno.test("density: exact path equals the literal definition, per class", () => {
  const rng = new Rng(5);
  const n = 90, d = 3, C = 3;
  // small integers: every distance is computed exactly, so ties behave as in the definition
  const rows = Array.from({ length: n }, () => Array.from({ length: d }, () => rng.int(5)));
  const labels = Int32Array.from({ length: n }, () => rng.int(C));
  const x = Float32Array.from(rows.flat());
  for (const q of [0, 0.25, 0.6, 0.95]) {
    const r = localDensity(x, labels, { d, classes: C, quantile: q });
    for (let c = 0; c < C; c++) {
      const idx = [...labels.keys()].filter((i) => labels[i] === c);
      const b = bruteDensity(idx.map((i) => rows[i]), q);
      assert.ok(Math.abs(r.perClass.find((p) => p.label === c)!.cutoff - b.cutoff) < 1e-9);
      idx.forEach((i, j) => {
        assert.equal(r.raw[i], b.rho[j], `class ${c} row ${i} q ${q}`);
        assert.ok(Math.abs(r.density[i] - b.norm[j]) < 1e-6);
      });
    }
  }
});

Deno.test("density: degenerate classes and bad input", () => {
  const x = Float32Array.from([1, 2, 5, 5, 5, 5, 5, 5]);
  // class 0: singleton; class 1: three identical points; class 2: empty
  const r = localDensity(x, Int32Array.from([0, 1, 1, 1]), { d: 2, classes: 3, quantile: 0.6 });
  assert.deepEqual(Array.from(r.density), [0, 0, 0, 0]);
  assert.equal(r.perClass.length, 2);
  assert.throws(
    () => localDensity(x, Int32Array.from([0, 1, 1, 1]), { d: 2, classes: 3, quantile: 1 }),
    /density_t/,
  );
  assert.throws(
    () => localDensity(x, Int32Array.from([0, 1, 3, 1]), { d: 2, classes: 3, quantile: 0.5 }),
    /row 2/,
  );
  assert.throws(
    () =>
      localDensity(Float32Array.from([1, NaN]), Int32Array.from([0, 0]), { d: 1, classes: 1, quantile: 0.5 }),
    /row 1/,
  );
  assert.deepEqual(Array.from(normaliseDensity(Float64Array.from([2, 4, 2.00001]))), [0, 1, 0]);
});

Deno.test("selectKth agrees with sorting", () => {
  const rng = new Rng(9);
  for (let rep = 0; rep < 30; rep++) {
    const n = 1 + rng.int(300);
    const a = Float64Array.from({ length: n }, () => rng.int(20)); // many duplicates
    const sorted = Float64Array.from(a).sort();
    const k = rng.int(n);
    assert.equal(selectKth(Float64Array.from(a), k), sorted[k]);
  }
});

Deno.test("density: the sampled path stays within its DKW and Hoeffding bounds", () => {
  const rng = new Rng(21);
  const n = 2500, d = 8, q = 0.6;
  const x = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const shift = i % 3 === 0 ? 3 : 0; // two blobs: densities vary
    for (let c = 0; c < d; c++) x[i * d + c] = rng.normal() + shift;
  }
  const m = 1 << 16, s = 400, alpha = 1e-4;
  const { cutoffSq, exact } = densityCutoff(x, d, {
    quantile: q,
    rng: new Rng(1),
    exactMax: 500,
    pairSamples: m,
  });
  assert.equal(exact, false);
  // exact distribution of all n^2 squared distances at the sampled cutoff
  let below = 0, atOrBelow = n; // the n self-distances are 0
  const hits = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      let s2 = 0;
      for (let c = 0; c < d; c++) s2 += (x[i * d + c] - x[j * d + c]) ** 2;
      if (s2 < cutoffSq) {
        below += 2;
        hits[i]++;
        hits[j]++;
      }
      if (s2 <= cutoffSq) atOrBelow += 2;
    }
  }
  below += cutoffSq > 0 ? n : 0;
  const eps = dkwEpsilon(m, alpha);
  assert.ok(atOrBelow / (n * n) > q - eps, `F(c) = ${atOrBelow / (n * n)} vs ${q} - ${eps}`);
  assert.ok(below / (n * n) <= q + eps, `F(c-) = ${below / (n * n)} vs ${q} + ${eps}`);
  // neighbour fractions q_i at that cutoff: estimated vs exact, union bound over the n rows
  const rho = neighbourCounts(x, d, cutoffSq, { rng: new Rng(2), exactMax: 500, neighbourSamples: s });
  const epsH = hoeffdingEpsilon(s - 1, alpha / n);
  let worst = 0;
  for (let i = 0; i < n; i++) {
    const est = (rho[i] + 1 - 1) / (n - 1); // cutoff > 0, so rho_i = q_i (n - 1)
    worst = Math.max(worst, Math.abs(est - hits[i] / (n - 1)));
  }
  assert.ok(worst <= epsH, `max |q^ - q| = ${worst} > ${epsH}`);
  assert.ok(worst > 0, "the sampled counts are estimates");
});
