/** The learning-rate schedules: warm-up, constant and cosine factors over a run's steps. */
import assert from "node:assert/strict";
import { lrFactor } from "../runner/train/lr_schedule.ts";

Deno.test("constant keeps the LR; warm-up rises linearly to it", () => {
  const o = { name: "constant" as const, warmup: 0, totalSteps: 100 };
  for (const step of [0, 1, 50, 99]) assert.equal(lrFactor(o, step), 1);
  const w = { name: "constant" as const, warmup: 0.1, totalSteps: 100 };
  assert.equal(lrFactor(w, 0), 0.1);
  assert.equal(lrFactor(w, 4), 0.5);
  assert.equal(lrFactor(w, 9), 1);
  assert.equal(lrFactor(w, 10), 1);
});

Deno.test("cosine decays from the full LR after warm-up to zero after the last step", () => {
  const o = { name: "cosine" as const, warmup: 0, totalSteps: 100 };
  assert.equal(lrFactor(o, 0), 1);
  assert.ok(Math.abs(lrFactor(o, 50) - 0.5) < 1e-12, "half way: half the LR");
  assert.ok(lrFactor(o, 99) > 0 && lrFactor(o, 99) < 0.001, "the last step still moves, barely");
  for (let s = 1; s < 100; s++) assert.ok(lrFactor(o, s) < lrFactor(o, s - 1), `decreasing at ${s}`);
  const w = { name: "cosine" as const, warmup: 0.2, totalSteps: 100 };
  assert.equal(lrFactor(w, 19), 1, "warm-up ends at the full LR");
  assert.equal(lrFactor(w, 20), 1, "decay starts after warm-up");
  assert.ok(Math.abs(lrFactor(w, 60) - 0.5) < 1e-12, "half way through the decay");
});
