/**
 * Every command line of the seed README (copied verbatim into a fixture) parses into the intended
 * method and options once `python X.py` becomes `deno task x`.
 */
import assert from "node:assert/strict";
import { resolveRun } from "../runner/commands.ts";
import { main } from "../runner/main.ts";
import { outputOf } from "./_stdout.ts";
import { withFlags } from "./_args.ts";
import { OptionError } from "../core/options.ts";
import { discoverPlugins, findPlugin } from "../runner/registry.ts";

const fixture = await Deno.readTextFile(new URL("./fixtures/seed_readme_commands.txt", import.meta.url));
const lines = fixture.trim().split("\n");

/** `python ALTERNATIVE_EP.py ...` -> ["alternative-ep", [...args]]. */
function translate(line: string): [string, string[]] {
  const [, script, ...args] = line.trim().split(/\s+/);
  const task = script.replace(/\.py$/, "").toLowerCase().replaceAll("_", "-");
  return [task, args];
}

const denoJson = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));

Deno.test("every seed README script has a deno task of its kebab-case name", () => {
  assert.equal(lines.length, 13);
  for (const line of lines) {
    const [task] = translate(line);
    assert.ok(denoJson.tasks[task], `deno.json has no task "${task}" for: ${line.slice(0, 60)}`);
  }
});

interface Expect {
  method: string;
  datasets: string[];
  options: Record<string, unknown>;
  warnings?: RegExp[];
}

const EXPECTED: Expect[] = [
  {
    method: "sa-mtl",
    datasets: ["expw", "aflw"],
    options: {
      model: "vggFace",
      epoch: 64,
      batch_size: 32,
      is_interpolation: false,
      selection_threshold: 0.8,
      cluster_k: 3,
      density_t: 0.6,
      distill_t: 2,
      E_loss_weights: 1,
      P_loss_weights: 1,
      is_pesudo_confidence: true,
    },
    warnings: [/"distill_t=2" has no leading dashes/],
  },
  {
    method: "dml-lwf",
    datasets: ["expw", "aflw"],
    options: { distill_t: 1, is_distilled: undefined, is_pesudo: undefined, cluster_k: undefined },
    warnings: [
      /no leading dashes/,
      /read as two flags "--is_pesudo=False" and "--is_interpolation=False"/,
      /dml-lwf ignores --interpolation_weights, --selection_threshold, .*--cluster_k \(flags of ALTERNATIVE_EP.py/,
    ],
  },
  {
    method: "distilling",
    datasets: ["expw", "aflw"],
    options: { distill_t: 2, is_distilled: undefined, is_pesudo: undefined },
    warnings: [/no leading dashes/, /read as two flags/],
  },
  {
    method: "sa-mtl",
    datasets: ["expw", "aflw"],
    options: { is_interpolation: true, selection_threshold: 0, interpolation_weights: 0, cluster_k: 4 },
  },
  // Selector flags (--is_naive, --is_pesudo) pick the method; a run's options keep only what it reads.
  { method: "all-in-one", datasets: ["sfew", "aflw"], options: { batch_size: 64, is_naive: undefined } },
  { method: "lel-ltn", datasets: ["sfew", "aflw"], options: { is_pesudo: undefined, batch_size: 64 } },
  { method: "dcn-ap", datasets: ["sfew", "aflw"], options: { is_pesudo: undefined, is_MRF: true } },
  { method: "sfsmr", datasets: ["sfew", "aflw"], options: { is_lnorm: true, is_trace_norm: true } },
  {
    method: "slrm",
    datasets: ["sfew", "aflw"],
    options: { is_lnorm: true, is_nuclear_norm: true, is_trace_norm: true },
  },
  {
    method: "stl",
    datasets: ["sfew"],
    options: { task_type: 0, model: "vggFace" },
    warnings: [/--dataset=SFEW\[expw,ferplus\]: read "SFEW"/],
  },
  {
    method: "stl",
    datasets: ["aflw"],
    options: { task_type: 10 },
    warnings: [/read as --task_type=5 \(pose\)/],
  },
];

Deno.test("each seed README training command resolves to its method and options", async (t) => {
  for (let i = 0; i < EXPECTED.length; i++) {
    const [task, args] = translate(lines[i]);
    const want = EXPECTED[i];
    await t.step(`${task}: ${want.method}`, async () => {
      const run = await resolveRun(task, args, { print: () => {} });
      assert.ok(run);
      assert.equal(run.plugin.name, want.method);
      assert.deepEqual(run.datasets, want.datasets);
      for (const [k, v] of Object.entries(want.options)) assert.equal(run.options[k], v, `--${k}`);
      for (const w of want.warnings ?? []) {
        assert.ok(
          run.warnings.some((x) => w.test(x)),
          `expected a warning ${w}; got ${run.warnings.join(" | ")}`,
        );
      }
      if (want.method === "stl") {
        assert.equal(run.stlTask, want.datasets[0] === "aflw" ? "pose" : "emotion");
      }
    });
  }
});

Deno.test("per-method tasks default to the embedded synthetic data and mini-Xception", async () => {
  for (const p of await discoverPlugins()) {
    if (p.dataMode === "single") continue;
    const run = await resolveRun(p.name, [], { print: () => {} });
    assert.ok(run);
    assert.deepEqual(run.datasets, ["synth-emotion", "synth-pose"], p.name);
    assert.equal(run.options.model, "mini_xception", p.name);
  }
  const stl = await resolveRun("stl", ["--dataset=synth-pose", "--task=pose"], { print: () => {} });
  assert.equal(stl?.stlTask, "pose");
});

Deno.test("seed entries default as the original scripts did", async () => {
  const ep = await resolveRun("alternative-ep", ["--is_pesudo=True"], { print: () => {} });
  assert.equal(ep?.options.model, "vggFace");
  assert.deepEqual(ep?.datasets, ["expw", "aflw"]);
  assert.equal(ep?.options.E_loss_weights, 5);
  assert.equal(ep?.options.epoch, 64);
  const stl = await resolveRun("stl-general", [], { print: () => {} });
  assert.equal(stl?.datasets[0], "imdb");
  assert.equal(stl?.stlTask, "gender");
  const epga = await resolveRun("alternative-ep", ["--is_pesudo=True", "--dataset_gender_age=adience"], {
    print: () => {},
  });
  assert.deepEqual(epga?.datasets, ["expw", "aflw", "adience"]);
});

Deno.test("unknown method names list the known ones; plugins come from methods/", async () => {
  const plugins = await discoverPlugins();
  for (
    const m of ["stl", "all-in-one", "lel-ltn", "dcn-ap", "sfsmr", "slrm", "dml-lwf", "distilling", "sa-mtl"]
  ) {
    assert.ok(plugins.some((p) => p.name === m), `plugin ${m} discovered`);
  }
  assert.equal(findPlugin(plugins, "SA-MTL").name, "sa-mtl");
  assert.throws(() => findPlugin(plugins, "sa-mtll"), (e: Error) => {
    assert.ok(e instanceof OptionError);
    assert.match(
      e.message,
      /unknown method "sa-mtll" \(did you mean sa-mtl\?\); known methods: all-in-one, /,
    );
    return true;
  });
  await assert.rejects(() => resolveRun("run", ["nope"], { print: () => {} }), /unknown method "nope"/);
});

Deno.test("a plugin file outside methods/ runs through --plugin", async () => {
  const dir = await Deno.makeTempDir();
  const core = new URL("../core/plugin.ts", import.meta.url).href;
  await Deno.writeTextFile(
    `${dir}/my_method.ts`,
    `import type { MethodPlugin } from "${core}";
const p: MethodPlugin = { name: "my-method", aliases: [], summary: "test plugin", reference: "none",
  dataMode: "joint", labels: { name: "none", needsTeacher: false }, loss: { terms: [] },
  options: [{ name: "my_flag", type: "int", default: 3, min: 0, max: 9, help: "a plugin flag" }] };
export default p;`,
  );
  const run = await resolveRun("run", [`--plugin=${dir}/my_method.ts`, "--my_flag=5"], { print: () => {} });
  assert.equal(run?.plugin.name, "my-method");
  assert.equal(run?.options.my_flag, 5);
  await assert.rejects(
    () => resolveRun("run", [`--plugin=${dir}/my_method.ts`, "--my_flag=50"], { print: () => {} }),
    /--my_flag: got "50", expected an integer in \[0, 9\]/,
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("every seed README training line runs end to end when pointed at the synthetic data", async (t) => {
  const { executeRun } = await import("../runner/run_command.ts");
  const { parseCsv } = await import("../core/csv.ts");
  const root = await Deno.makeTempDir({ prefix: "seed_lines_" });
  const small = [
    "--model=mini_xception",
    "--epoch=2",
    "--image_size=32",
    "--train_size=100",
    "--batch_size=16",
    "--quiet",
  ];
  for (let i = 0; i < EXPECTED.length; i++) {
    const [task, args] = translate(lines[i]);
    const want = EXPECTED[i];
    const data = want.method === "stl"
      ? [`--dataset=${want.datasets[0] === "aflw" ? "synth-pose" : "synth-emotion"}`]
      : ["--dataset_emotion=synth-emotion", "--dataset_pose=synth-pose"];
    await t.step(`${task}: ${want.method}`, async () => {
      const out = `${root}/${i}`;
      const run = await resolveRun(task, withFlags(args, [...data, ...small, `--out=${out}`]), {
        print: () => {},
      });
      assert.equal(run?.plugin.name, want.method);
      const res = await executeRun(run!, () => {});
      assert.equal(res.summary?.epochs, 2);
      const rows = parseCsv(await Deno.readTextFile(`${out}/log.csv`)).rows;
      assert.equal(rows.length, 2);
      if (want.method === "sa-mtl") {
        // The pseudo-label statistics of every outer epoch: histogram, mean weight, kept fraction, accuracy.
        const pre = "pose/synth-emotion/train/";
        // A number in the cell: a missing column (undefined) or an empty cell fails.
        const filled = (v: string | undefined) => v !== undefined && v !== "" && Number.isFinite(Number(v));
        for (const k of ["mean_weight", "kept_fraction", "pseudo_acc", "hist_0"]) {
          assert.ok(filled(rows[0][pre + k]), `${pre + k} logged: ${rows[0][pre + k]}`);
        }
        assert.ok(filled(rows[1]["emotion/synth-pose/train/pseudo_acc"]));
      }
    });
  }
  await Deno.remove(root, { recursive: true });
});

Deno.test("ALTERNATIVE_EA and ALTERNATIVE_EGA run end to end on the synthetic emotion and age/gender data", async (t) => {
  const { executeRun } = await import("../runner/run_command.ts");
  const root = await Deno.makeTempDir({ prefix: "seed_ea_" });
  const small = ["--epoch=2", "--image_size=32", "--train_size=100", "--batch_size=16", "--quiet"];
  const cases = [
    { task: "alternative-ea", slot: "--dataset_age=synth-age-gender", heads: ["age", "emotion"] },
    {
      task: "alternative-ega",
      slot: "--dataset_gender_age=synth-age-gender",
      heads: ["age", "emotion", "gender"],
    },
  ];
  try {
    for (const c of cases) {
      await t.step(c.task, async () => {
        const out = `${root}/${c.task}`;
        const args = [
          "--is_pesudo=True",
          "--dataset_emotion=synth-emotion",
          c.slot,
          ...small,
          `--out=${out}`,
        ];
        const run = await resolveRun(c.task, args, { print: () => {} });
        // The scripts' own defaults (mini-Xception, emotion weighted 5:1) with SA-MTL selected by --is_pesudo.
        assert.equal(run?.plugin.name, "sa-mtl");
        assert.deepEqual(run?.datasets, ["synth-emotion", "synth-age-gender"]);
        assert.equal(run?.options.model, "mini_xception");
        assert.deepEqual([run?.options.E_loss_weights, run?.options.A_loss_weights], [5, 1]);
        const res = await executeRun(run!, () => {});
        assert.equal(res.summary?.epochs, 2);
        // Each head is tested on the dataset that labels it: emotion on synth-emotion, the rest on age/gender.
        const tested = Object.keys(res.summary!.test).filter((k) => k.endsWith("/acc")).sort();
        assert.deepEqual(
          tested,
          c.heads.map((h) => `${h}/${h === "emotion" ? "synth-emotion" : "synth-age-gender"}/test/acc`)
            .sort(),
          "EA trains emotion and age only (the age dataset's gender labels unused, as in the script); EGA all three",
        );
      });
    }
    // A run recorded before --tasks existed trained every task of its datasets: a rerun through --config
    // keeps its heads instead of taking alternative-ea's default.
    const egaConfig = `${root}/alternative-ega/config.json`;
    const recorded = JSON.parse(await Deno.readTextFile(egaConfig));
    delete recorded.options.tasks;
    await Deno.writeTextFile(egaConfig, JSON.stringify(recorded));
    const rerun = await resolveRun("alternative-ea", [`--config=${egaConfig}`, "--dry_run"], {
      print: () => {},
    });
    assert.deepEqual(rerun?.options.tasks, recorded.tasks.map((t: { name: string }) => t.name));
    assert.equal((rerun?.options.tasks as string[]).length, 3);
    // --tasks leaving a dataset without labels, or naming a task no dataset labels, is refused before
    // training through the command line: one error line naming the flag, exit 2, nothing written.
    const ega = [
      "alternative-ega",
      "--dataset_emotion=synth-emotion",
      "--dataset_gender_age=synth-age-gender",
    ];
    for (
      const [tasks, message] of [
        [
          "age,gender",
          /^error: --tasks=age,gender: dataset synth-emotion labels none of them \(it labels emotion\)/,
        ],
        ["emotion,age,gender,pose", /^error: --tasks=emotion,age,gender,pose: no dataset labels pose/],
      ] as const
    ) {
      const out = `${root}/refused`;
      const { code, stderr } = await outputOf(() =>
        main([...ega, `--tasks=${tasks}`, `--out=${out}`, "--quiet"])
      );
      assert.equal(code, 2, stderr.join(" | "));
      const lines = stderr.filter((l) => l.startsWith("error:"));
      assert.equal(lines.length, 1, stderr.join(" | "));
      assert.match(lines[0], message);
      await assert.rejects(() => Deno.stat(out), Deno.errors.NotFound);
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
