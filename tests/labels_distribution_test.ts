import assert from "node:assert/strict";
import { distributionFactor, emdOneToMany, medianBandwidth, mmdRbf } from "../core/labels/mod.ts";
import { Rng } from "../core/rng.ts";

/** Exact LP for 1 source x k targets by vertex enumeration: each flow at 0, at its bound, or the one free. */
function lpEmd(dist: number[], cap: number[], supply: number): number {
  const k = dist.length;
  const F = Math.min(supply, cap.reduce((a, b) => a + b, 0));
  let best = Infinity;
  for (let code = 0; code < 3 ** k; code++) {
    const state = Array.from({ length: k }, (_, m) => Math.floor(code / 3 ** m) % 3); // 0: zero, 1: full, 2: free
    const free = state.filter((s) => s === 2).length;
    if (free > 1) continue;
    const fixed = state.reduce((s, st, m) => s + (st === 1 ? cap[m] : 0), 0);
    const flows = state.map((st, m) => (st === 1 ? cap[m] : 0));
    if (free === 1) {
      const m = state.indexOf(2);
      const f = F - fixed;
      if (f < -1e-12 || f > cap[m] + 1e-12) continue;
      flows[m] = f;
    } else if (Math.abs(fixed - F) > 1e-12) continue;
    best = Math.min(best, flows.reduce((s, f, m) => s + f * dist[m], 0));
  }
  return F > 0 ? best / F : 0;
}

Deno.test("EMD closed form equals the exact transport LP (1 source x up to 4 targets)", () => {
  const rng = new Rng(31);
  for (let rep = 0; rep < 300; rep++) {
    const k = 1 + rng.int(4), d = 1 + rng.int(3);
    const src = Array.from({ length: d }, () => rng.normal());
    const tgt = Array.from({ length: k * d }, () => rng.normal());
    const cap = Array.from({ length: k }, () => rng.next());
    const supply = rep % 3 === 0 ? 2 : rng.next(); // sometimes more than all targets hold
    const r = emdOneToMany(src, tgt, { d, sourceMass: supply, targetMass: cap });
    const dist = Array.from(r.distances);
    assert.ok(Math.abs(r.emd - lpEmd(dist, cap, supply)) < 1e-9, `case ${rep}`);
    const moved = r.flows.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(moved - Math.min(supply, cap.reduce((a, b) => a + b, 0))) < 1e-12);
  }
});

Deno.test("EMD: hand case", () => {
  // source at 0 with mass 0.5; targets at 1 (mass 0.3) and 3 (mass 0.7): 0.3 * 1 + 0.2 * 3 over 0.5
  const r = emdOneToMany([0], [1, 3], { d: 1, sourceMass: 0.5, targetMass: [0.3, 0.7] });
  assert.ok(Math.abs(r.emd - 1.8) < 1e-12);
  assert.deepEqual(Array.from(r.flows).map((f) => +f.toFixed(12)), [0.3, 0.2]);
  assert.equal(emdOneToMany([0], [1], { d: 1, sourceMass: 0, targetMass: [1] }).emd, 0);
});

Deno.test("MMD and the median bandwidth: hand cases", () => {
  // x = {0}, y = {1}, sigma = 1: MMD^2 = 1 + 1 - 2 exp(-1/2)
  const v = mmdRbf(Float32Array.from([0]), Float32Array.from([1]), { d: 1, bandwidth: 1 });
  assert.ok(Math.abs(v - Math.sqrt(2 - 2 * Math.exp(-0.5))) < 1e-12);
  // x = {0, 2}, y = {0}: mean Kxx = (2 + 2e^-2) / 4, Kyy = 1, Kxy = (1 + e^-2) / 2
  const e = Math.exp(-2);
  const w = mmdRbf(Float32Array.from([0, 2]), Float32Array.from([0]), { d: 1, bandwidth: 1 });
  assert.ok(Math.abs(w - Math.sqrt((2 + 2 * e) / 4 + 1 - (1 + e))) < 1e-12);
  const same = Float32Array.from([1, 2, 3, 4, 5, 6]);
  assert.ok(mmdRbf(same, same, { d: 2, bandwidth: 0.7 }) < 1e-7);
  assert.equal(medianBandwidth(Float32Array.from([0, 1, 3]), 1), 2); // distances 1, 2, 3
  assert.equal(medianBandwidth(Float32Array.from([4, 4]), 1), 1); // all zero: fallback
  assert.throws(() => mmdRbf(same, same, { d: 2, bandwidth: 0 }), /bandwidth/);
});

Deno.test("distribution factor: far pseudo clusters get low delta; best cluster gets 1", async (t) => {
  const rng = new Rng(41);
  const d = 3;
  const mk = (n: number, centre: number[]) =>
    Array.from({ length: n }, () => centre.map((c) => c + 0.3 * rng.normal()));
  const labelled = Float32Array.from([...mk(200, [0, 0, 0]), ...mk(200, [4, 0, 0])].flat());
  // pseudo: one cluster on the labelled data, one far away
  const pseudo = Float32Array.from([...mk(150, [0, 0, 0]), ...mk(150, [0, 12, 0])].flat());
  for (const metric of ["emd", "mmd"] as const) {
    await t.step(metric, () => {
      const r = distributionFactor(pseudo, labelled, { d, k: 2, rng: new Rng(1), metric });
      assert.equal(r.delta.length, 300);
      const near = r.delta[0], far = r.delta[299];
      assert.equal(near, 1);
      assert.ok(far < 0.8 && far > 0, `${metric}: far delta ${far}`);
      for (let i = 0; i < 150; i++) assert.equal(r.delta[i], near);
      for (let i = 150; i < 300; i++) assert.equal(r.delta[i], far);
      // delta = min_j dist_j / dist_g(i)
      const best = Math.min(...r.distances);
      assert.ok(Math.abs(far - best / r.distances[r.assignment[299]]) < 1e-6);
    });
  }
  await t.step("bad input", () => {
    assert.throws(
      () => distributionFactor(pseudo, new Float32Array(0), { d, k: 2, rng: new Rng(1) }),
      /labelled/,
    );
    assert.throws(
      () =>
        distributionFactor(pseudo, labelled, { d, k: 2, rng: new Rng(1), metric: "kl" as unknown as "emd" }),
      /distribution_metric/,
    );
  });
});
