import assert from "node:assert/strict";
import {
  DISTILL_OPTIONS,
  distilledStrategy,
  PSEUDO_OPTIONS,
  pseudoStrategy,
  softmaxRows,
} from "../core/labels/mod.ts";
import { readSaMtlSettings, SA_MTL_OPTIONS, weightedPseudoStrategy } from "../methods/sa_mtl.ts";
import { OptionError, type Options } from "../core/options.ts";
import type { TargetSet } from "../core/plugin.ts";
import { Rng } from "../core/rng.ts";
import { makeView } from "./_labels_asserts.ts";

const view = makeView({ n: 60, classes: 3, d: 4, labelled: 40 });
const C = 3;
const build = (o: Options, compat = false) =>
  weightedPseudoStrategy.build!(view, { options: o, rng: new Rng(1), compat }) as TargetSet;
const argmax = (i: number) => {
  let b = 0;
  for (let c = 1; c < C; c++) if (view.probs[i * C + c] > view.probs[i * C + b]) b = c;
  return b;
};

Deno.test("option schemas: every option read is declared once, defaults from docs/original.md §1.3", () => {
  const names = SA_MTL_OPTIONS.map((s) => s.name);
  assert.equal(new Set(names).size, names.length);
  const d = Object.fromEntries(SA_MTL_OPTIONS.map((s) => [s.name, s.default]));
  assert.deepEqual(
    [d.density_t, d.distill_t, d.selection_threshold, d.interpolation_weights, d.cluster_k],
    [0.6, 2, 0.9, 0.9, 4],
  );
  assert.deepEqual([d.reject, d.selection_mode, d.interpolation_mode, d.distribution_metric], [
    "distill",
    "quantile",
    "ep",
    "emd",
  ]);
  for (const s of [...SA_MTL_OPTIONS, ...DISTILL_OPTIONS, ...PSEUDO_OPTIONS]) {
    assert.ok(s.help.length > 10, s.name);
  }
});

Deno.test("readSaMtlSettings: validation and compat", () => {
  assert.throws(() => readSaMtlSettings({ selection_threshold: 1 }, false), OptionError);
  assert.throws(() => readSaMtlSettings({ density_t: 1 }, false), /density_t/);
  assert.throws(
    () => readSaMtlSettings({ reject: "drop" }, false),
    /--reject: expected one of distill\|zero/,
  );
  assert.throws(() => readSaMtlSettings({ cluster_k: 2.5 }, false), /cluster_k.*integer/);
  assert.throws(() => readSaMtlSettings({ is_interpolation: "yes" }, false), /is_interpolation/);
  assert.equal(
    readSaMtlSettings({ selection_threshold: 1, selection_mode: "absolute" }, false).selectionThreshold,
    1,
  );
  const c = readSaMtlSettings(
    { reject: "distill", selection_mode: "absolute", interpolation_mode: "lambda" },
    true,
  );
  assert.deepEqual([c.globalSoftmax, c.reject, c.selectionMode, c.interpolationMode], [
    true,
    "zero",
    "quantile",
    "ep",
  ]);
});

Deno.test("weighted-pseudo follows the decision table (6.8.9, fixed per 6.8.11)", async (t) => {
  const d2 = softmaxRows(view.logits, C, { temperature: 2 });
  await t.step("is_distilled returns d", () => {
    const r = build({ is_distilled: true, is_pesudo_confidence: true });
    r.targets.forEach((v, i) => assert.ok(Math.abs(v - d2[i]) < 1e-6));
  });
  await t.step("no factor flag: pure 0.5*onehot + 0.5*d", () => {
    const r = build({ selection_threshold: 0.5 });
    for (let i = 0; i < 60; i++) {
      for (let c = 0; c < C; c++) {
        const want = 0.5 * (c === argmax(i) ? 1 : 0) + 0.5 * d2[i * C + c];
        assert.ok(Math.abs(r.targets[i * C + c] - want) < 1e-6);
      }
    }
  });
  await t.step("confidence, hard: w = conf / max conf, quantile selection, rejects distilled", () => {
    const r = build({ is_pesudo_confidence: true, selection_threshold: 0.5 });
    let maxConf = 0;
    for (let i = 0; i < 60; i++) maxConf = Math.max(maxConf, view.probs[i * C + argmax(i)]);
    const w = Array.from({ length: 60 }, (_, i) => view.probs[i * C + argmax(i)] / maxConf);
    const tau = [...w].sort((a, b) => a - b)[30];
    let kept = 0;
    for (let i = 0; i < 60; i++) {
      assert.ok(Math.abs(r.weights![i] - w[i]) < 1e-6);
      const keep = w[i] > tau + 1e-7;
      kept += keep ? 1 : 0;
      for (let c = 0; c < C; c++) {
        const want = keep ? (c === argmax(i) ? w[i] : 0) : d2[i * C + c];
        assert.ok(Math.abs(r.targets[i * C + c] - want) < 1e-5, `row ${i}`);
      }
    }
    assert.equal(r.stats!.kept_fraction, kept / 60);
    assert.equal(kept, 29); // the 30 smallest plus the one at tau are dropped
  });
  await t.step("compat: global softmax and zero rejects", () => {
    const r = build({ is_pesudo_confidence: true, selection_threshold: 0.5, reject: "distill" }, true);
    const rejected = [...Array(60).keys()].filter((i) => !r.kept![i]);
    assert.ok(rejected.length > 0);
    for (const i of rejected) for (let c = 0; c < C; c++) assert.equal(r.targets[i * C + c], 0);
    const soft = build({ is_pesudo_confidence: true, is_interpolation: true }, true);
    // (1-w)*globalSoftmax is about 1/n of a row: targets ~ w*onehot
    for (let i = 0; i < 60; i++) {
      assert.ok(Math.abs(soft.targets[i * C + argmax(i)] - soft.weights![i]) < 0.05);
    }
  });
  await t.step("all factors: stats and reproducibility", () => {
    const o = {
      is_pesudo_confidence: true,
      is_pesudo_density: true,
      is_pesudo_distribution: true,
      cluster_k: 2,
    };
    const a = build(o), b = build(o);
    assert.deepEqual(Array.from(a.targets), Array.from(b.targets));
    for (
      const k of [
        "mean_weight",
        "kept_fraction",
        "hist_0",
        "hist_1",
        "hist_2",
        "mean_density",
        "mean_distribution",
      ]
    ) {
      assert.ok(Number.isFinite(a.stats![k]), k);
    }
    assert.ok(Math.max(...a.weights!) === 1);
  });
  await t.step("labelled features of the wrong size are refused", () => {
    const bad = { ...view, labelled: { ...view.labelled, n: 41 } };
    assert.throws(
      () => weightedPseudoStrategy.build!(bad, { options: {}, rng: new Rng(1), compat: false }),
      /labelled features hold 160 values, expected 41x4/,
    );
  });
});

Deno.test("distilled and pseudo strategies", () => {
  const ctx = (options: Options, compat = false) => ({ options, rng: new Rng(1), compat });
  const d = distilledStrategy.build!(view, ctx({ distill_t: 1 })) as TargetSet;
  d.targets.forEach((v, i) => assert.ok(Math.abs(v - view.probs[i]) < 1e-6));
  const g = distilledStrategy.build!(view, ctx({ distill_t: 1 }, true)) as TargetSet;
  assert.ok(Math.abs(g.targets.reduce((a, b) => a + b, 0) - 1) < 1e-4);
  const s = pseudoStrategy.build!(view, ctx({})) as TargetSet;
  const o = pseudoStrategy.build!(view, ctx({ pseudo_target: "onehot" })) as TargetSet;
  for (let i = 0; i < 60; i++) {
    const k = argmax(i);
    assert.equal(s.targets[i * C + k], view.probs[i * C + k]);
    assert.equal(o.targets[i * C + k], 1);
  }
  assert.throws(() => pseudoStrategy.build!(view, ctx({ pseudo_target: "soft" })), /pseudo_target/);
  assert.throws(() => distilledStrategy.build!(view, ctx({ distill_t: 0 })), /distill_t/);
});
