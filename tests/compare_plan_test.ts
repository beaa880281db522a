import assert from "node:assert/strict";
import {
  ablationVariants,
  optionDrift,
  planRuns,
  PROFILES,
  resumedWith,
  seedList,
  turnsOnCompat,
} from "../runner/compare.ts";
import { trainingSchema } from "../runner/commands.ts";
import { discoverPlugins, evalsPerCycle, runEvalsPerCycle, scheduleOf } from "../runner/registry.ts";
import { scheduleCycle } from "../datasets/schedules.ts";
import type { MethodPlugin } from "../core/plugin.ts";
import type { ImageSet } from "../core/types.ts";
import { datasetLoadOptions } from "../runner/run_config.ts";
import { OptionError } from "../core/options.ts";

Deno.test("the ablation profile plans the reference per task and each SA-MTL variant under its own name", async () => {
  const plugins = await discoverPlugins();
  const ABLATION_VARIANTS = ablationVariants(plugins);
  assert.equal(ABLATION_VARIANTS[0].name, "sa-mtl:full");
  const runs = planRuns(plugins, { profile: PROFILES.ablation, outDir: "/tmp/x", methods: "all", extra: [] });
  const seeds = seedList(PROFILES.ablation).length;
  assert.equal(runs.length, seeds * (2 + ABLATION_VARIANTS.length));
  const names = [...new Set(runs.map((r) => r.method))];
  assert.deepEqual(names, ["stl", ...ABLATION_VARIANTS.map((v) => v.name)]);
  const noConf = runs.find((r) => r.method === "sa-mtl:no-confidence")!;
  assert.equal(noConf.args[1], "sa-mtl", "a variant runs its plugin");
  assert.ok(noConf.args.includes("--is_pesudo_confidence=False") && noConf.args.includes("--preset=hard"));
  // Alternating: every dataset gets `passes` passes, so twice the outer epochs with two datasets.
  assert.ok(noConf.args.includes(`--epoch=${PROFILES.ablation.passes * 2}`));
  // --methods picks variants by name.
  const only = planRuns(plugins, {
    profile: PROFILES.ablation,
    outDir: "/tmp/x",
    methods: ["sa-mtl:mmd"],
    extra: [],
  });
  assert.deepEqual([...new Set(only.map((r) => r.method))], ["sa-mtl:mmd"]);
  // The as-coded variant keeps the comparison's rows: without --compat_split=False its preset's --compat would
  // train on 4/5 of the rows and test on the validation fold (twice the images, other test rows).
  for (const r of runs) {
    assert.equal(r.args.includes("--compat_split=False"), r.method === "sa-mtl:compat", r.args.join(" "));
  }
});

Deno.test("a row turns on --compat by flag, by its named preset or by the method's default preset; a flag wins", async () => {
  const plugins = await discoverPlugins();
  const schema = trainingSchema(plugins);
  const sa = plugins.find((p) => p.name === "sa-mtl")!;
  assert.equal(turnsOnCompat(sa, [], schema), false);
  assert.equal(turnsOnCompat(sa, ["--compat=1"], schema), true);
  assert.equal(turnsOnCompat(sa, ["--preset=compat"], schema), true);
  assert.equal(turnsOnCompat(sa, ["--preset=compat", "--compat=False"], schema), false);
  const asCoded = { ...sa, presets: { ...sa.presets, default: { compat: true } } };
  assert.equal(turnsOnCompat(asCoded, [], schema), true);
  assert.equal(turnsOnCompat(asCoded, ["--preset=hard"], schema), true, "a preset that is silent on compat");
  assert.equal(turnsOnCompat(asCoded, ["--compat=no"], schema), false);
});

Deno.test("--compat takes the original's split unless --compat_split=False; held-out rows need the latter", () => {
  const base = { image_size: 32, model: "mini_xception", seed: 1 };
  assert.equal(datasetLoadOptions({ ...base, compat: true }).compatSplit, true);
  assert.equal(datasetLoadOptions({ ...base, compat: true, compat_split: false }).compatSplit, false);
  assert.equal(datasetLoadOptions({ ...base, compat_split: true }).compatSplit, true);
  const heldOut = { ...base, val_rows: 100, test_rows: 200 };
  assert.throws(
    () => datasetLoadOptions({ ...heldOut, compat: true }),
    (e: Error) => e instanceof OptionError && /--val_rows: .*add --compat_split=False/.test(e.message),
  );
  const kept = datasetLoadOptions({ ...heldOut, compat: true, compat_split: false });
  assert.deepEqual([kept.compatSplit, kept.heldOutRows], [false, { val: 100, test: 200 }]);
});

Deno.test("a profile's batch size and LR schedule reach every planned run", async () => {
  const plugins = await discoverPlugins();
  const profile = { ...PROFILES.quick, batchSize: 16, lrSchedule: "cosine" as const, lrWarmup: 0.05 };
  const runs = planRuns(plugins, { profile, outDir: "/tmp/x", methods: "all", extra: [] });
  assert.ok(runs.length > 2);
  for (const r of runs) {
    assert.ok(r.args.includes("--batch_size=16"), r.args.join(" "));
    assert.ok(
      r.args.includes("--lr_schedule=cosine") && r.args.includes("--lr_warmup=0.05"),
      r.args.join(" "),
    );
  }
  // The default (constant, no warm-up) adds no flags, so earlier plans and commands stay as they were.
  const plain = planRuns(plugins, { profile: PROFILES.quick, outDir: "/tmp/x", methods: "all", extra: [] });
  assert.ok(
    plain.every((r) => !r.args.some((a) => a.startsWith("--lr_schedule") || a.startsWith("--lr_warmup"))),
  );
});

Deno.test("a schedule's cycle: one evaluation per dataset when alternating, one when joint; 1 when it cannot be probed", async () => {
  const plugins = await discoverPlugins();
  const by = (name: string) => plugins.find((p) => p.name === name)!;
  assert.deepEqual([evalsPerCycle(by("naive-alternating"), 2), evalsPerCycle(by("naive-alternating"), 3)], [
    2,
    3,
  ]);
  assert.equal(evalsPerCycle(by("all-in-one"), 2), 1);
  assert.equal(evalsPerCycle(by("stl"), 1), 1);
  // A schedule of its own that trains a pair of datasets per epoch, and one that reads the sets' rows.
  const alt = by("naive-alternating");
  const pairs = {
    ...alt,
    schedule: {
      ...scheduleOf(alt),
      active: (sets: readonly ImageSet[], e: number) => [sets[e % 2], sets[2 + (e % 2)]],
    },
  };
  assert.equal(evalsPerCycle(pairs as MethodPlugin, 4), 2);
  const reads = {
    ...alt,
    schedule: {
      ...scheduleOf(alt),
      active: (sets: readonly ImageSet[]) => sets.filter((s) => s.images.length > 0),
    },
  };
  assert.equal(evalsPerCycle(reads as MethodPlugin, 2), 1);
  // The trainer has the real sets: there the same schedule's cycle is exact, and the run records it.
  const real = [0, 1].map((i) => ({ name: `set ${i}`, images: [1] }) as unknown as ImageSet);
  const alternatingReads = {
    ...reads.schedule,
    active: (sets: readonly ImageSet[], e: number) => [sets.filter((s) => s.images.length > 0)[e % 2]],
  };
  assert.equal(scheduleCycle(alternatingReads, real), 2);
  assert.equal(scheduleCycle(scheduleOf(by("all-in-one")), real), 1);
  assert.equal(await runEvalsPerCycle({ method: "sa-mtl", datasets: ["a", "b"] }), 2);
  assert.equal(await runEvalsPerCycle({ method: "my-own-plugin", datasets: ["a", "b"] }), 1);
  // A run's recorded cycle wins, also for a plugin loaded with --plugin; a summary without one falls back.
  assert.equal(
    await runEvalsPerCycle({ method: "my-own-plugin", datasets: ["a", "b"] }, { evalsPerCycle: 2 }),
    2,
  );
  assert.equal(await runEvalsPerCycle({ method: "sa-mtl", datasets: ["a", "b"] }, { evalsPerCycle: 0 }), 2);
});

Deno.test("a run continued by other code than started it says so in its versions", () => {
  const cfg = (commits: string[]) => ({
    versions: { commit: "aaa" },
    resumes: commits.map((commit) => ({ versions: { commit } })),
  });
  assert.deepEqual(resumedWith(cfg([])), {});
  assert.deepEqual(resumedWith(cfg(["aaa"])), {});
  assert.deepEqual(resumedWith(cfg(["aaa", "bbb", "ccc", "bbb"])), { "resumed with commit": "bbb ccc" });
});

Deno.test("option drift: a later seed's run with another default than its row's first run is named", () => {
  const first = { seed: 1, options: { seed: 1, lr: 0.003, threads: 1, out: "a", momentum: 0.9 } };
  assert.deepEqual(optionDrift({ seed: 2, lr: 0.003, threads: 2, out: "b", momentum: 0.9 }, first), []);
  assert.deepEqual(optionDrift({ seed: 2, lr: 0.003, momentum: 0.99, compat_split: false }, first), [
    "--momentum=0.99 (seed 1's run: 0.9)",
  ]);
});
