import assert from "node:assert/strict";
import { oneHot, pseudoLabels, softmaxGlobal, softmaxRows } from "../core/labels/mod.ts";

const close = (a: number, b: number, tol = 1e-6) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

Deno.test("softmaxRows", async (t) => {
  await t.step("hand-computed rows at T = 1 and T = 2", () => {
    const z = Float32Array.from([0, Math.log(3), 1, 1]);
    const p = softmaxRows(z, 2);
    close(p[0], 0.25);
    close(p[1], 0.75);
    close(p[2], 0.5);
    const q = softmaxRows(z, 2, { temperature: 2 });
    // softmax(z / 2): exp(0) : exp(ln3 / 2) = 1 : sqrt(3)
    close(q[0], 1 / (1 + Math.sqrt(3)));
    close(q[1], Math.sqrt(3) / (1 + Math.sqrt(3)));
  });
  await t.step("every row sums to 1, large logits stay finite", () => {
    const z = Float32Array.from([1000, 999, -1000, 5, 5, 5]);
    const p = softmaxRows(z, 3, { temperature: 0.5 });
    for (let i = 0; i < 2; i++) close(p[i * 3] + p[i * 3 + 1] + p[i * 3 + 2], 1);
    assert.ok(p.every(Number.isFinite));
  });
  await t.step("bad temperature and shape are refused", () => {
    assert.throws(() => softmaxRows(new Float32Array(4), 2, { temperature: 0 }), /distill_t/);
    assert.throws(() => softmaxRows(new Float32Array(5), 2), /softmaxRows/);
  });
});

Deno.test("softmaxGlobal reproduces docs/original.md B6: the whole array sums to 1, rows to about 1/n", () => {
  const n = 50, C = 3;
  const z = Float32Array.from({ length: n * C }, (_, i) => (i % 7) * 0.3);
  const g = softmaxGlobal(z, { temperature: 2 });
  let total = 0;
  for (const v of g) total += v;
  close(total, 1, 1e-5);
  // exp(z_ic / T) / sum over all entries, checked entry by entry
  let denom = 0;
  for (const v of z) denom += Math.exp(v / 2);
  for (let i = 0; i < z.length; i++) close(g[i], Math.exp(z[i] / 2) / denom, 1e-7);
  const row0 = g[0] + g[1] + g[2];
  assert.ok(row0 < 3 / n && row0 > 0.1 / n, `row sum ${row0}`);
  assert.ok(softmaxGlobal(Float32Array.from([5000, 0])).every(Number.isFinite));
});

Deno.test("pseudoLabels: argmax (first on ties) and max probability", () => {
  const p = Float32Array.from([0.1, 0.7, 0.2, 0.4, 0.4, 0.2, 0, 0, 1]);
  const { labels, confidence } = pseudoLabels(p, 3);
  assert.deepEqual(Array.from(labels), [1, 0, 2]);
  assert.deepEqual(Array.from(confidence), [Math.fround(0.7), Math.fround(0.4), 1]);
  assert.throws(() => pseudoLabels(Float32Array.from([NaN, NaN]), 2), /row 0/);
  assert.deepEqual(Array.from(oneHot(labels, 3, confidence)), [
    0,
    Math.fround(0.7),
    0,
    Math.fround(0.4),
    0,
    0,
    0,
    0,
    1,
  ]);
  assert.throws(() => oneHot(Int32Array.from([3]), 3), /label 3 at row 0/);
});
