/**
 * The typed API of mod.ts: the module doc's example runs as written (copied out of mod.ts) and its run
 * evaluates to the numbers training reported; typed options are checked like the command line's flags
 * (same messages, nothing written); the command line and the typed path resolve to the same run; and the
 * typed request interfaces name exactly the flags their commands read.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { compare, discoverPlugins, evaluate, OptionError, train } from "../mod.ts";
import { resolveRun, resolveTyped, trainingSchema } from "../runner/commands.ts";
import { COMPARE_OPTIONS } from "../runner/compare.ts";
import { EVAL_OPTIONS } from "../runner/eval_command.ts";
import type { OptionSpec } from "../core/options.ts";
import { stdoutOf } from "./_stdout.ts";

const MOD = new URL("../mod.ts", import.meta.url);

/** The first ```ts block of mod.ts's module doc, without the comment's ` * ` prefixes. */
export function moduleDocExample(source: string): string {
  const doc = /\/\*\*([\s\S]*?)\*\//.exec(source);
  if (!doc) throw new Error("mod.ts: no module doc");
  const text = doc[1].split("\n").map((l) => l.replace(/^\s*\* ?/, "")).join("\n");
  const m = /```ts\n([\s\S]*?)```/.exec(text);
  if (!m) throw new Error("mod.ts: no ts example in the module doc");
  return m[1];
}

Deno.test("the module doc's example trains through mod.ts, and evaluate() reproduces its test numbers", async () => {
  const code = moduleDocExample(await Deno.readTextFile(MOD));
  assert.match(code, /from "\.\/mod\.ts"/, "the example imports through mod.ts");
  assert.doesNotMatch(code.replace(/from "\.\/mod\.ts"/g, ""), /from "/, "no other import");
  const dir = await Deno.makeTempDir({ prefix: "api_example_" });
  let runDir: string | undefined;
  try {
    const file = join(dir, "example.ts");
    await Deno.writeTextFile(file, code.replaceAll('"./mod.ts"', JSON.stringify(MOD.href)));
    const lines = (await stdoutOf(() => import(new URL(`file://${file}`).href))).out.split("\n");
    const head = /^run (\S+): best epoch (\d+)$/.exec(lines[0] ?? "");
    assert.ok(head, `the example's first line: ${lines[0]}`);
    runDir = head[1];
    const summary = JSON.parse(await Deno.readTextFile(join(runDir, "summary.json")));
    assert.equal(summary.method, "sa-mtl");
    assert.equal(summary.epochs, 2);
    assert.equal(summary.bestEpoch, Number(head[2]));
    assert.ok(summary.bestEpoch >= 1 && summary.bestEpoch <= 2, "epochs are 1-based");

    // The example printed one accuracy per (task, dataset) test split; evaluate() gives the same.
    const metrics = await evaluate({ run: runDir, quiet: true });
    assert.deepEqual(
      metrics.map((m) => m.metric).sort(),
      [
        "emotion/synth-emotion/test",
        "emotion/synth-pose/test",
        "pose/synth-emotion/test",
        "pose/synth-pose/test",
      ]
        .filter((k) => `${k}/acc` in summary.test).sort(),
    );
    // ...and that list is not empty by accident: both labelled test splits are in it.
    for (const k of ["emotion/synth-emotion/test", "pose/synth-pose/test"]) {
      assert.ok(metrics.some((m) => m.metric === k), `evaluate() scores ${k}`);
    }
    for (const m of metrics) {
      assert.ok(Math.abs(m.acc - summary.test[`${m.metric}/acc`]) < 1e-9, `${m.metric}: ${m.acc}`);
      assert.ok(lines.includes(`${m.metric}: accuracy ${(m.acc * 100).toFixed(1)}%`), lines.join("\n"));
      assert.equal(m.confusion.flat().reduce((a, b) => a + b, 0), m.n);
    }
    // Other splits and the last checkpoint through the same typed request.
    const val = await evaluate({ run: runDir, split: "val", checkpoint: "last", quiet: true });
    assert.ok(val.every((m) => m.metric.endsWith("/val")) && val.length === metrics.length);
    // With `out`, the metrics land in eval.json too.
    const out = join(dir, "eval");
    const written = await evaluate({ run: runDir, datasets: ["synth-pose"], out, quiet: true });
    assert.deepEqual(JSON.parse(await Deno.readTextFile(join(out, "eval.json"))), written);
    assert.ok(written.every((m) => m.metric.includes("/synth-pose/")));
  } finally {
    await Deno.remove(dir, { recursive: true });
    if (runDir) await Deno.remove(runDir, { recursive: true });
  }
});

Deno.test("typed options are checked against the flags' declarations; errors name the flag, nothing is written", async (t) => {
  const root = await Deno.makeTempDir({ prefix: "api_errors_" });
  const out = join(root, "run");
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ["out of range", { epoch: 0 }, /^--epoch: got 0, expected an integer in \[1, 100000\]$/],
    ["not an integer", { epoch: 1.5 }, /^--epoch: got 1\.5, expected an integer/],
    ["wrong type", { epoch: "2" }, /^--epoch: got "2", expected an integer/],
    ["wrong type (boolean)", { quiet: "yes" }, /^--quiet: got "yes", expected True or False$/],
    [
      "not a choice",
      { model: "vggface" },
      /^--model: got "vggface", expected one of .* \(did you mean vggFace\?\)$/,
    ],
    ["a list item not a choice", { datasets: ["synth-emotion", "fer"] }, /^--datasets: got "fer"/],
    ["an empty list", { datasets: [] }, /^--datasets: got \[\], expected a comma-separated list/],
    ["an empty string", { data_dir: "" }, /^--data_dir: got "", expected a non-empty string$/],
    ["unknown", { epoc: 2 }, /^unknown flag --epoc \(did you mean --epoch\?\)$/],
    [
      "not read by the method",
      { mrf_k: 3 },
      /^--mrf_k: deno task sa-mtl does not read this flag \(read by dcn-ap\)$/,
    ],
    [
      "a method flag out of range",
      { selection_threshold: 2 },
      /^--selection_threshold: got 2, expected a number in \[0, 1\]$/,
    ],
    ["help", { help: true }, /^--help: a command-line flag/],
  ];
  try {
    for (const [name, options, message] of cases) {
      await t.step(name, async () => {
        await assert.rejects(
          () => train({ method: "sa-mtl", options: { ...options, out } as never, log: () => {} }),
          (e: unknown) => e instanceof OptionError && message.test(e.message),
        );
      });
    }
    await t.step("unknown method", async () => {
      await assert.rejects(
        () => train({ method: "sa-mlt" }),
        /unknown method "sa-mlt" \(did you mean sa-mtl\?\)/,
      );
    });
    await t.step("evaluate and compare check theirs", async () => {
      await assert.rejects(
        () => evaluate({ run: out, split: "train" as never }),
        /^OptionError: --split: got "train"/,
      );
      await assert.rejects(() => evaluate({ run: out, quiet: true }), /--run=.*run/);
      await assert.rejects(
        () => compare({ seeds: 0, out }),
        /^OptionError: --seeds: a count must be in \[1, 100\], got 0/,
      );
      await assert.rejects(() => compare({ methods: ["nope"], out }), /--methods: unknown method "nope"/);
    });
    assert.deepEqual([...Deno.readDirSync(root)], [], "nothing written");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("the command line and the typed options resolve to the same run", async () => {
  const args = ["--epoch=2", "--datasets=synth-emotion,synth-pose", "--lr=0.003", "--quiet", "--cluster_k=3"];
  const fromCli = await resolveRun("sa-mtl", args, { print: () => {} });
  const fromCode = await resolveTyped({
    task: "sa-mtl",
    options: { epoch: 2, datasets: ["synth-emotion", "synth-pose"], lr: 0.003, quiet: true, cluster_k: 3 },
  });
  assert.ok(fromCli && fromCode);
  assert.equal(fromCode.plugin, fromCli.plugin);
  assert.deepEqual(fromCode.options, fromCli.options);
  assert.deepEqual(fromCode.sources, fromCli.sources);
  assert.deepEqual(fromCode.datasets, fromCli.datasets);
  assert.deepEqual([...fromCode.explicit].sort(), [...fromCli.explicit].sort());
  // From code, config.json records the equivalent command line.
  assert.equal(fromCode.command, `deno task sa-mtl ${args.join(" ")}`);
  // An original script's entry task through train(): the script's defaults and method selection apply.
  const script = await resolveTyped({ task: "alternative-ep", options: { is_pesudo: true } });
  assert.equal(script?.plugin.name, "sa-mtl");
});

Deno.test("train({ dry_run }) and compare({ dry_run }) validate and plan without writing", async () => {
  const root = await Deno.makeTempDir({ prefix: "api_dry_" });
  try {
    const out = join(root, "run");
    const dry = await train({
      method: "stl",
      options: {
        dataset: "synth-pose",
        task: "pose",
        train_size: 64,
        image_size: 32,
        dry_run: true,
        quiet: true,
        out,
      },
      log: () => {},
    });
    assert.equal(dry.dir, null);
    assert.equal(dry.summary, null);
    assert.equal(dry.method, "stl");
    assert.equal(dry.dryRun?.settings.task.source, "flag");
    assert.equal(dry.dryRun?.settings.model.value, "mini_xception");
    assert.deepEqual(dry.dryRun?.heads, [{ task: "pose", classes: 5 }]);

    // A plugin object (not in methods/) trains through `plugin`; the method defaults to its name.
    const stl = (await discoverPlugins()).find((p) => p.name === "stl")!;
    const mine = await train({
      plugin: { ...stl, name: "my-stl", aliases: [] },
      options: { dataset: "synth-emotion", task: "emotion", image_size: 32, dry_run: true, quiet: true, out },
      log: () => {},
    });
    assert.equal(mine.method, "my-stl");
    assert.deepEqual(mine.dryRun?.heads.map((h) => h.task), ["emotion"]);

    const plan = await compare({
      profile: "quick",
      methods: ["stl", "sa-mtl"],
      seeds: 2,
      dry_run: true,
      out,
    });
    assert.equal(plan.status, "planned");
    assert.equal(plan.results, null);
    assert.equal(plan.profile.seeds, 2);
    assert.equal(plan.settings.seeds.source, "flag");
    assert.equal(plan.settings.jobs.source, "default");
    // STL once per task of each dataset, SA-MTL once, per seed.
    assert.deepEqual(plan.runs.map((r) => `${r.method}${r.task ? `/${r.task}` : ""}:${r.seed}`), [
      "stl/emotion:1",
      "stl/pose:1",
      "sa-mtl:1",
      "stl/emotion:2",
      "stl/pose:2",
      "sa-mtl:2",
    ]);
    assert.deepEqual([...Deno.readDirSync(root)], [], "nothing written");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

/** Property names and value kinds of an interface in runner/api.ts's docs (`deno doc --json`). */
async function interfaceProps(name: string): Promise<Map<string, string>> {
  const file = new URL("../runner/api.ts", import.meta.url);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--json", file.pathname],
    stderr: "null",
  })
    .output();
  assert.ok(out.success, "deno doc --json runner/api.ts");
  const doc = JSON.parse(new TextDecoder().decode(out.stdout));
  type TsType = { kind: string; repr?: string; value?: unknown };
  const nodes = Object.values(doc.nodes) as {
    symbols: {
      name: string;
      declarations: { kind: string; def: { properties: { name: string; tsType: TsType }[] } }[];
    }[];
  }[];
  const sym = nodes.flatMap((n) => n.symbols).find((s) => s.name === name);
  assert.ok(sym, `${name} is documented`);
  const kindOf = (t: TsType): string => {
    if (t.kind === "array") return "list";
    if (t.kind === "keyword") {
      return t.repr === "number" ? "number" : t.repr === "boolean" ? "boolean" : "string";
    }
    if (t.kind === "union") {
      const kinds = new Set((t.value as { value: { kind: string } }[]).map((v) => v.value.kind));
      return kinds.has("number") ? "number" : "string";
    }
    return t.kind === "fnOrConstructor" ? "function" : "string"; // named string unions (ModelName, ...)
  };
  const decl = sym.declarations.find((d) => d.kind === "interface")!;
  return new Map(decl.def.properties.map((p) => [p.name, kindOf(p.tsType)]));
}

/** The value kind a flag's type takes in a typed request. */
function specKind(s: OptionSpec): string {
  return s.type === "boolean"
    ? "boolean"
    : s.type === "int" || s.type === "float"
    ? "number"
    : s.type === "list"
    ? "list"
    : "string";
}

function expectedProps(
  specs: OptionSpec[],
  omit: string[],
  rename: Record<string, string> = {},
): Map<string, string> {
  return new Map(
    specs.filter((s) => !omit.includes(s.name)).map((s) => [rename[s.name] ?? s.name, specKind(s)]),
  );
}

Deno.test("the typed requests name every flag their commands read, with the flag's type", async () => {
  const sorted = (m: Map<string, string>) => [...m].sort(([a], [b]) => a.localeCompare(b));
  // train: every runner flag of a training run (a method's own flags go in through the index signature).
  assert.deepEqual(
    sorted(await interfaceProps("TrainOptions")),
    sorted(expectedProps(trainingSchema([]), ["help"])),
  );
  // evaluate and compare: their flags, less the printing-only and unused common ones.
  const notRead = ["help", "json", "seed", "threads"];
  assert.deepEqual(
    sorted(await interfaceProps("EvaluateRequest")),
    sorted(expectedProps(EVAL_OPTIONS, notRead, { dataset: "datasets" })),
  );
  const cmp = await interfaceProps("CompareRequest");
  assert.equal(cmp.get("log"), "function");
  cmp.delete("log");
  cmp.delete("command");
  // --seeds is a list flag whose typed form is a count or the seeds (`number | number[]`).
  assert.equal(cmp.get("seeds"), "string", "seeds: a union");
  cmp.set("seeds", "list");
  // compare passes --threads to every run; --seed is not read (the training seeds are --seeds).
  assert.deepEqual(sorted(cmp), sorted(expectedProps(COMPARE_OPTIONS, ["help", "json", "seed"])));
});

Deno.test("deno doc --lint mod.ts is clean (every public symbol documented, every referenced type exported)", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--lint", "-q", MOD.pathname],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const text = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
  const problems = text.split("\n").filter((l) => l.startsWith("error"));
  assert.ok(out.success, `deno doc --lint mod.ts:\n${problems.slice(0, 20).join("\n")}`);
});
