import assert from "node:assert/strict";
import { cholesky, fitGmm, gmmPredict, gmmResponsibilities, invertLower } from "../core/labels/mod.ts";
import { Rng } from "../core/rng.ts";

function blobs(
  n: number,
  centres: number[][],
  std: number,
  seed: number,
): { x: Float32Array; y: Int32Array } {
  const rng = new Rng(seed);
  const d = centres[0].length;
  const x = new Float32Array(n * d);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % centres.length;
    for (let c = 0; c < d; c++) x[i * d + c] = centres[y[i]][c] + rng.normal(0, std);
  }
  return { x, y };
}

Deno.test("cholesky and triangular inverse", () => {
  const a = Float64Array.from([4, 2, 0, 2, 5, 1, 0, 1, 3]);
  const l = cholesky(a, 3)!;
  // L L^T = A
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      let s = 0;
      for (let c = 0; c < 3; c++) s += l[i * 3 + c] * l[j * 3 + c];
      assert.ok(Math.abs(s - a[i * 3 + j]) < 1e-12);
    }
  }
  const p = invertLower(l, 3);
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      let s = 0;
      for (let c = 0; c < 3; c++) s += p[i * 3 + c] * l[c * 3 + j];
      assert.ok(Math.abs(s - (i === j ? 1 : 0)) < 1e-12);
    }
  }
  assert.equal(cholesky(Float64Array.from([1, 2, 2, 1]), 2), null);
});

Deno.test("GMM: one component gives the Gaussian maximum-likelihood fit", () => {
  const { x } = blobs(400, [[1, -2, 0.5]], 1.3, 3);
  const g = fitGmm(x, 3, { k: 1, rng: new Rng(1) });
  const n = 400, d = 3;
  const mu = [0, 1, 2].map((c) => [...Array(n).keys()].reduce((s, i) => s + x[i * d + c], 0) / n);
  mu.forEach((m, c) => assert.ok(Math.abs(g.means[c] - m) < 1e-9));
  // mean log-likelihood of the MLE = -(d log 2 pi + log|S| + d) / 2 (S = biased sample covariance)
  const S = [0, 1, 2].map((r) =>
    [0, 1, 2].map((c) =>
      [...Array(n).keys()].reduce((s, i) => s + (x[i * d + r] - mu[r]) * (x[i * d + c] - mu[c]), 0) / n
    )
  );
  const det = S[0][0] * (S[1][1] * S[2][2] - S[1][2] * S[2][1]) -
    S[0][1] * (S[1][0] * S[2][2] - S[1][2] * S[2][0]) +
    S[0][2] * (S[1][0] * S[2][1] - S[1][1] * S[2][0]);
  const expected = -(d * Math.log(2 * Math.PI) + Math.log(det) + d) / 2;
  assert.ok(Math.abs(gmmResponsibilities(g, x).meanLogLik - expected) < 1e-5);
  assert.equal(g.weights[0], 1);
});

Deno.test("GMM: log-likelihood never decreases over EM iterations", () => {
  for (const seed of [1, 2, 3]) {
    const { x } = blobs(600, [[0, 0], [2.5, 0.5], [1, 3]], 1, 10 + seed);
    const g = fitGmm(x, 2, { k: 3, rng: new Rng(seed), tol: 0, maxIter: 40 });
    assert.equal(g.iterations, 40);
    for (let i = 1; i < g.trace.length; i++) {
      assert.ok(
        g.trace[i] >= g.trace[i - 1] - 1e-9,
        `seed ${seed} iteration ${i}: ${g.trace[i]} < ${g.trace[i - 1]}`,
      );
    }
    assert.ok(g.trace.at(-1)! > g.trace[0] || Math.abs(g.trace.at(-1)! - g.trace[0]) < 1e-9);
  }
});

Deno.test("GMM: recovers separated clusters, seeded and reproducible", () => {
  const centres = [[0, 0, 0, 0], [8, 0, 0, 8], [0, 8, 8, 0]];
  const { x, y } = blobs(900, centres, 1, 4);
  const a = fitGmm(x, 4, { k: 3, rng: new Rng(7) });
  const b = fitGmm(x, 4, { k: 3, rng: new Rng(7) });
  assert.deepEqual(Array.from(a.means), Array.from(b.means));
  assert.ok(a.converged && a.iterations < 100);
  for (const w of a.weights) assert.ok(Math.abs(w - 1 / 3) < 0.02, `weight ${w}`);
  const pred = gmmPredict(a, x);
  // each true cluster maps to one component
  for (let c = 0; c < 3; c++) {
    const comps = new Set([...y.keys()].filter((i) => y[i] === c).map((i) => pred[i]));
    assert.equal(comps.size, 1);
  }
  // subsampled fit uses maxFit rows
  assert.equal(fitGmm(x, 4, { k: 3, rng: new Rng(7), maxFit: 100 }).fitted, 100);
});

Deno.test("GMM: degenerate input and bad arguments", () => {
  const same = new Float32Array(40).fill(2); // 20 identical 2-d rows
  const g = fitGmm(same, 2, { k: 3, rng: new Rng(1) });
  assert.ok(g.means.every((v) => Math.abs(v - 2) < 1e-9));
  assert.ok(gmmPredict(g, same).every((v) => v >= 0 && v < 3));
  assert.equal(fitGmm(Float32Array.from([1, 2]), 2, { k: 4, rng: new Rng(1) }).k, 1);
  assert.throws(() => fitGmm(new Float32Array(0), 2, { k: 2, rng: new Rng(1) }), /no rows/);
  assert.throws(() => fitGmm(new Float32Array(4), 2, { k: 0, rng: new Rng(1) }), /cluster_k/);
});

Deno.test("n_init keeps the best of several initialisations; restarts average the distribution factor", async () => {
  const { distributionFactor } = await import("../core/labels/distribution.ts");
  const { spearman } = await import("../bench/gmm_stability.ts");
  const gen = new Rng("nInit");
  const d = 8;
  const centres = Array.from({ length: 5 * d }, () => gen.normal(0, 2));
  const draw = (n: number, shift: number) =>
    Float32Array.from(
      { length: n * d },
      (_, i) => centres[(Math.floor(i / d) % 5) * d + (i % d)] + shift + gen.normal(),
    );
  const x = draw(400, 0);
  const ll = (g: ReturnType<typeof fitGmm>) => g.trace[g.trace.length - 1];
  const one = fitGmm(x, d, { k: 4, rng: new Rng(3) });
  const best = fitGmm(x, d, { k: 4, rng: new Rng(3), nInit: 6 });
  assert.ok(ll(best) >= ll(one), `best of 6 (${ll(best)}) >= the first alone (${ll(one)})`);
  // nInit 1 and restarts 1 are the single fit, bit for bit.
  const pseudo = draw(300, 0.3), lab = draw(250, 0);
  const base = distributionFactor(pseudo, lab, { d, k: 4, rng: new Rng(5) });
  assert.deepEqual(
    distributionFactor(pseudo, lab, { d, k: 4, rng: new Rng(5), nInit: 1, restarts: 1 }).delta,
    base.delta,
  );
  // Averaging over restarts is the mean of the individual fits' factors, each row within [0, 1].
  const avg = distributionFactor(pseudo, lab, { d, k: 4, rng: new Rng(5), restarts: 3 }).delta;
  assert.ok(avg.every((v) => v >= 0 && v <= 1));
  assert.ok(spearman(avg, base.delta) > 0, "the average keeps the first fit's ordering in part");
  assert.equal(spearman([1, 2, 3], [10, 20, 30]), 1);
  assert.equal(spearman([1, 2, 3], [3, 2, 1]), -1);
});
