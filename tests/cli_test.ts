import assert from "node:assert/strict";
import { coerceValue, didYouMean, parseArgs } from "../runner/cli.ts";
import { OptionError } from "../core/options.ts";
import { SA_MTL_OPTIONS } from "../methods/sa_mtl.ts";
import { ENTRY_TASKS } from "../runner/entries.ts";
import { resolveRun, selectMethod, trainingSchema } from "../runner/commands.ts";
import { main } from "../runner/main.ts";
import { outputOf } from "./_stdout.ts";
import { discoverPlugins } from "../runner/registry.ts";
import type { Options } from "../core/options.ts";
import { stlTask } from "../runner/entries.ts";

const schema = trainingSchema(await discoverPlugins());

Deno.test("parseArgs reads --flag=value, --flag value, bare booleans and Python booleans", () => {
  const r = parseArgs(
    [
      "--epoch=3",
      "--batch_size",
      "16",
      "--quiet",
      "--is_bn=True",
      "--is_dropout",
      "false",
      "--is_naive=TRUE",
    ],
    schema,
  );
  assert.equal(r.options.epoch, 3);
  assert.equal(r.options.batch_size, 16);
  assert.equal(r.options.quiet, true);
  assert.equal(r.options.is_bn, true);
  assert.equal(r.options.is_dropout, false);
  assert.equal(r.options.is_naive, true);
  assert.deepEqual(r.warnings, []);
  assert.ok(r.explicit.has("epoch") && !r.explicit.has("model"));
});

Deno.test("parseArgs repairs the seed README's bare and fused flags with warnings", () => {
  const r = parseArgs(["distill_t=2", "--is_pesudo=False--is_interpolation=False", "--cluster_k=0"], schema);
  assert.equal(r.options.distill_t, 2);
  assert.equal(r.options.is_pesudo, false);
  assert.equal(r.options.is_interpolation, false);
  assert.equal(r.options.cluster_k, 0);
  assert.equal(r.warnings.length, 2);
  assert.match(r.warnings[0], /no leading dashes: read as "--distill_t=2"/);
  assert.match(r.warnings[1], /read as two flags "--is_pesudo=False" and "--is_interpolation=False"/);
});

Deno.test("dataset names are case-insensitive and the bracket notation is read as its first choice", () => {
  const r = parseArgs(["--dataset=SFEW[expw,ferplus]", "--dataset_emotion=Fer+", "--model=VGGFace"], schema);
  assert.equal(r.options.dataset, "sfew");
  assert.equal(r.options.dataset_emotion, "ferplus");
  assert.equal(r.options.model, "vggFace");
  assert.match(r.warnings[0], /read "SFEW" \(the brackets list alternatives: expw,ferplus/);
});

Deno.test("unknown flags and bad values are errors naming the flag, the value and what is allowed", async (t) => {
  await t.step("unknown flag with did-you-mean", () => {
    assert.throws(() => parseArgs(["--epochs=3"], schema), (e: Error) => {
      assert.ok(e instanceof OptionError);
      assert.match(e.message, /unknown flag --epochs in "--epochs=3" \(did you mean --epoch\?\)/);
      return true;
    });
  });
  await t.step("out of range", () => {
    assert.throws(
      () => parseArgs(["--density_t=1.5"], schema),
      /--density_t: got "1.5", expected a number in \[0, 0.999999\]/,
    );
  });
  await t.step("not an integer", () => {
    assert.throws(
      () => parseArgs(["--epoch=two"], schema),
      /--epoch: got "two", expected an integer in \[1, 100000\]/,
    );
  });
  await t.step("bad boolean", () => {
    assert.throws(() => parseArgs(["--is_bn=maybe"], schema), /--is_bn: got "maybe", expected True or False/);
  });
  await t.step("bad choice with hint", () => {
    assert.throws(
      () => parseArgs(["--model=mini_xceptoin"], schema),
      /expected one of .* \(did you mean mini_xception\?\)/,
    );
  });
  await t.step("task_type outside the codes", () => {
    assert.throws(
      () => parseArgs(["--task_type=13"], schema),
      /--task_type: got "13", expected one of 0, 1, 5, 10/,
    );
  });
  await t.step("missing value", () => {
    assert.throws(() => parseArgs(["--epoch"], schema), /--epoch: missing value/);
  });
  await t.step("unknown bare argument", () => {
    assert.throws(
      () => parseArgs(["distil_t=2"], schema),
      /unknown argument "distil_t=2" \(did you mean --distill_t=2\?\)/,
    );
  });
});

Deno.test("list flags split on commas and accumulate when repeated", () => {
  const r = parseArgs(["--datasets=synth-emotion,SYNTH-POSE", "--datasets", "digits-rot-a"], schema);
  assert.deepEqual(r.options.datasets, ["synth-emotion", "synth-pose", "digits-rot-a"]);
});

Deno.test("coerceValue checks float ranges and rejects NaN", () => {
  const spec = SA_MTL_OPTIONS.find((s) => s.name === "selection_threshold")!;
  assert.equal(coerceValue(spec, "0.8"), 0.8);
  assert.throws(() => coerceValue(spec, "NaN"), OptionError);
  assert.throws(() => coerceValue(spec, ""), OptionError);
});

Deno.test("didYouMean finds near names only", () => {
  assert.equal(didYouMean("is_pseudo", ["is_pesudo", "is_naive"]), "is_pesudo");
  assert.equal(didYouMean("completely_else", ["is_pesudo", "is_naive"]), undefined);
});

Deno.test("the seed scripts pick their method from the plugins' selectors as the originals did", async () => {
  const plugins = await discoverPlugins();
  const pick = (task: string, o: Options, w: string[] = []) =>
    selectMethod(ENTRY_TASKS.find((e) => e.name === task)!, plugins, o, w).name;
  assert.equal(pick("alternative-ep", { is_distilled: true, distill_t: 1 }), "dml-lwf");
  assert.equal(pick("alternative-ep", { is_distilled: true, distill_t: 2 }), "distilling");
  assert.equal(pick("alternative-ep", { is_pesudo: true }), "sa-mtl");
  assert.equal(pick("alternative-ep", { is_interpolation: true }), "sa-mtl");
  const none: string[] = [];
  assert.equal(pick("alternative-ep", { is_naive: true }, none), "naive-alternating");
  assert.match(none[0], /no method flag given to ALTERNATIVE_EP.py: running naive-alternating/);
  const both: string[] = [];
  assert.equal(pick("confusion-ep", { is_naive: true, is_pesudo: true }, both), "all-in-one");
  assert.match(both[0], /select both all-in-one and lel-ltn; CONFUSION_EP_multitask.py runs all-in-one/);
  assert.equal(pick("confusion-ep", { is_pesudo: true }), "lel-ltn");
  assert.equal(pick("confusion-ep", { is_pesudo: true, is_MRF: true }), "dcn-ap");
  assert.equal(pick("confusion-ep-manifold", { is_lnorm: true, is_trace_norm: true }), "sfsmr");
  assert.equal(
    pick("confusion-ep-manifold", { is_lnorm: true, is_trace_norm: true, is_nuclear_norm: true }),
    "slrm",
  );
  assert.equal(pick("stl-general", {}), "stl");
});

Deno.test("STL --task_type=10 with --dataset=aflw is repaired to pose with a warning", () => {
  const w: string[] = [];
  const repair = { repair: true };
  assert.equal(stlTask({ dataset: "aflw", task_type: 10 }, w, repair), "pose");
  assert.match(w[0], /read as --task_type=5 \(pose\); in the original 10 is gender and 5 is pose/);
  assert.equal(stlTask({ dataset: "adience", task_type: 1 }, [], repair), "age");
  assert.equal(stlTask({ dataset: "synth-emotion", task: "emotion", task_type: 10 }, [], repair), "emotion");
  assert.throws(() => stlTask({ dataset: "adience", task_type: 0 }, [], repair), /has no emotion labels/);
  // Outside the original script's entry a conflict is refused, not repaired.
  assert.throws(
    () => stlTask({ dataset: "synth-emotion", task: "pose" }, [], { repair: false }),
    /--task=pose: --dataset=synth-emotion has no pose labels/,
  );
});

Deno.test("CONFUSION_EP with --is_distilled alone is refused as the original crashed (B8): one line, exit 2", async () => {
  const { code, stderr } = await outputOf(() => main(["confusion-ep", "--is_distilled=True", "--dry_run"]));
  assert.equal(code, 2);
  assert.deepEqual(stderr, [
    "error: --is_distilled with the joint script crashed in the original (docs/original.md B8); use an " +
    "alternating entry (alternative-ep)",
  ]);
  // With a selector beside it the script ran, so the toolkit runs it too.
  const run = await resolveRun("confusion-ep", ["--is_distilled=True", "--is_pesudo=True", "--dry_run"], {
    print: () => {},
  });
  assert.equal(run?.plugin.name, "lel-ltn");
});

Deno.test("the command list (no command, help, --help) names every command, plugin and entry task; --json as data", async () => {
  const plugins = await discoverPlugins();
  const text = await outputOf(() => main(["help"]));
  assert.equal(text.code, 0);
  const listed = text.stdout.join("\n");
  for (const name of ["methods", "run", "eval", "compare", "synth", "prep"]) {
    assert.match(listed, new RegExp(`^  ${name}\\b`, "m"), name);
  }
  assert.deepEqual((await outputOf(() => main([]))).stdout, text.stdout, "no command prints the same list");
  assert.deepEqual(
    (await outputOf(() => main(["--help"]))).stdout,
    text.stdout,
    "--help prints the same list",
  );
  const json = await outputOf(() => main(["--help", "--json"]));
  assert.equal(json.code, 0);
  const commands = JSON.parse(json.stdout.join("\n")).help.commands.map((c: { command: string }) =>
    c.command
  );
  assert.deepEqual(
    commands,
    [
      "methods",
      "run",
      "eval",
      "compare",
      "synth",
      "prep",
      ...plugins.map((p) => p.name),
      ...ENTRY_TASKS.map((e) => e.name),
    ],
  );
  // Every listed command answers --help (exit 0), so the list names nothing main cannot dispatch.
  for (const c of commands) {
    const r = await outputOf(() => main(c === "run" ? ["run", "stl", "--help"] : [c, "--help"]));
    assert.equal(r.code, 0, `${c} --help: exit ${r.code} (${r.stderr.join(" | ")})`);
  }
});

Deno.test("--help shows each flag's default, not the value typed beside --help; run --help without a method too", async () => {
  const flagsOf = async (args: string[]) => {
    const r = await outputOf(() => main(args));
    assert.equal(r.code, 0, r.stderr.join(" | "));
    const help = JSON.parse(r.stdout.join("\n")).help as {
      groups: { flags: { name: string; default?: unknown }[] }[];
    };
    return new Map(help.groups.flatMap((g) => g.flags).map((f) => [f.name, f.default]));
  };
  const samtl = await flagsOf(["sa-mtl", "--epoch=3", "--seed=7", "--help", "--json"]);
  assert.equal(samtl.get("epoch"), 4);
  assert.equal(samtl.get("seed"), 1);
  const run = await flagsOf(["run", "--help", "--json"]);
  assert.equal(run.get("seed"), 1);
  assert.equal(run.get("backend"), "auto");
});
