import assert from "node:assert/strict";
import { kfoldSplit, numpyLegacyPermutation, strataKey, stratifiedSplit } from "../datasets/splits.ts";
import { Rng } from "../core/rng.ts";
import { generatedRows, heldOutSplit } from "../datasets/_embedded_cache.ts";

function assertPartition(parts: Int32Array[], n: number): void {
  const seen = new Uint8Array(n);
  for (const p of parts) {
    for (let i = 1; i < p.length; i++) {
      assert.ok(p[i - 1] < p[i], "each part is sorted ascending without repeats");
    }
    for (const r of p) {
      assert.equal(seen[r], 0, `row ${r} appears in two parts`);
      seen[r] = 1;
    }
  }
  assert.equal(seen.reduce((a, b) => a + b, 0), n, "every row is in some part");
}

Deno.test("stratifiedSplit", async (t) => {
  // Imbalanced classes: 0 x 500, 1 x 120, 2 x 31, 3 x 7, plus 5 unlabelled rows (-1).
  const counts = [500, 120, 31, 7];
  const labels: number[] = [];
  counts.forEach((c, k) => {
    for (let i = 0; i < c; i++) labels.push(k);
  });
  for (let i = 0; i < 5; i++) labels.push(-1);
  const strata = new Rng(3).shuffle(Int32Array.from(labels));
  const n = strata.length;

  await t.step("disjoint parts covering every row, exact sizes", () => {
    const s = stratifiedSplit(strata, { seed: 1, valFraction: 0.1, testFraction: 0.2 });
    assertPartition([s.train, s.val, s.test], n);
    assert.equal(s.test.length, Math.round(n * 0.2));
    assert.equal(s.val.length, Math.round(n * 0.1));
  });

  await t.step("every class keeps its share (floor or ceil) in each part", () => {
    const s = stratifiedSplit(strata, { seed: 1, valFraction: 0.1, testFraction: 0.2 });
    for (const [k, c] of [...counts.entries(), [-1, 5] as [number, number]]) {
      const inTest = [...s.test].filter((r) => strata[r] === k).length;
      const inVal = [...s.val].filter((r) => strata[r] === k).length;
      assert.ok(Math.abs(inTest - c * 0.2) < 1 + 1e-9, `class ${k}: ${inTest} test rows for ${c} rows`);
      assert.ok(Math.abs(inVal - c * 0.1) <= 1.5, `class ${k}: ${inVal} val rows for ${c} rows`);
    }
  });

  await t.step("deterministic in the seed", () => {
    const a = stratifiedSplit(strata, { seed: 7 });
    const b = stratifiedSplit(strata, { seed: 7 });
    const c = stratifiedSplit(strata, { seed: 8 });
    assert.deepEqual(a, b);
    assert.notDeepEqual(a.test, c.test);
  });

  await t.step("default fractions and bad fractions", () => {
    const s = stratifiedSplit(strata, { seed: 0 });
    assert.equal(s.val.length, Math.round(n * 0.1));
    assert.equal(s.test.length, Math.round(n * 0.2));
    assert.throws(
      () => stratifiedSplit(strata, { seed: 0, valFraction: 0.6, testFraction: 0.5 }),
      /must be < 1/,
    );
    assert.throws(() => stratifiedSplit(strata, { seed: 0, testFraction: -0.1 }), /testFraction/);
  });

  await t.step("strataKey combines label columns", () => {
    const g = Int32Array.from([0, 1, 0, 1, -1]);
    const a = Int32Array.from([3, 3, 7, 7, 0]);
    const key = strataKey([g, a], [2, 8]);
    assert.equal(new Set(key).size, 5);
    assert.equal(key[0], strataKey([Int32Array.from([0])], [2])[0] * 9 + 4);
  });
});

Deno.test("kfoldSplit reproduces scikit-learn KFold(shuffle=True, random_state) fold 0", async (t) => {
  await t.step("numpy legacy RandomState(seed).shuffle(arange(n))", () => {
    // Reference values from numpy 2.4.6: a = np.arange(n); np.random.RandomState(seed).shuffle(a).
    assert.deepEqual([...numpyLegacyPermutation(10, 1)], [2, 9, 6, 4, 0, 3, 1, 7, 8, 5]);
    assert.deepEqual(
      [...numpyLegacyPermutation(23, 1)],
      [20, 17, 3, 13, 19, 16, 10, 4, 2, 18, 6, 7, 1, 14, 0, 15, 22, 21, 9, 8, 12, 11, 5],
    );
    assert.deepEqual([...numpyLegacyPermutation(7, 42)], [0, 1, 5, 2, 4, 3, 6]);
    const p = numpyLegacyPermutation(1000, 1);
    let dot = 0;
    for (let i = 0; i < 1000; i++) dot += p[i] * i;
    assert.equal(dot, 249995299); // sum(a * arange(1000)) in numpy
  });

  await t.step("fold 0 = first fold of the permutation, sorted; val and test are the same rows", () => {
    const s = kfoldSplit(23, { k: 5 });
    // Fold sizes 5,5,5,4,4: fold 0 holds the first 5 permuted rows.
    assert.deepEqual([...s.val], [3, 13, 17, 19, 20]);
    assert.deepEqual([...s.test], [...s.val]);
    assertPartition([s.train, s.val], 23);
  });

  await t.step("K = 100 leaves 1 % out; bad k throws", () => {
    const s = kfoldSplit(1000, { k: 100 });
    assert.equal(s.val.length, 10);
    assert.equal(s.train.length, 990);
    assert.throws(() => kfoldSplit(3, { k: 5 }), /at least 5 rows/);
    assert.throws(() => kfoldSplit(10, { k: 1 }), /k must be/);
  });

  await t.step("later folds follow the scikit-learn fold sizes", () => {
    const perm = numpyLegacyPermutation(23, 1);
    const s = kfoldSplit(23, { k: 5, fold: 3 });
    assert.deepEqual([...s.val], [...perm.slice(15, 19)].sort((a, b) => a - b));
  });
});

Deno.test("heldOutSplit: training rows first, then validation, then test, generated beyond", () => {
  const s = heldOutSplit(10, { val: 3, test: 2 });
  assert.deepEqual([...s.train], [0, 1, 2, 3, 4]);
  assert.deepEqual([...s.val], [5, 6, 7]);
  assert.deepEqual([...s.test], [8, 9]);
  assert.equal(generatedRows(5, { heldOutRows: { val: 3, test: 2 } }), 10);
  assert.equal(generatedRows(5, {}), 5);
  assert.throws(() => heldOutSplit(4, { val: 3, test: 2 }), /leave no training rows/);
});
