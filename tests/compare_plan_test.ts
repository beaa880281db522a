import assert from "node:assert/strict";
import { ablationVariants, planRuns, PROFILES, seedList } from "../runner/compare.ts";
import { discoverPlugins } from "../runner/registry.ts";

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
