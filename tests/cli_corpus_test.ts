/**
 * The command line under a corpus of bad inputs: every flag of every command family once with an
 * empty, an out-of-range, a wrong-type and a repeated value; unwritable, empty and file-valued `--out`;
 * and wrong-kind files for every path flag. Each must end in exactly one `error:` line naming the flag or
 * file, exit status 2, no exception (a stack trace) and nothing written, and with `--json` the error is
 * a JSON object on stdout. Runs in process (no subprocess per case), so hundreds of cases take seconds.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { main } from "../runner/main.ts";
import { flagsRead, trainingSchema } from "../runner/commands.ts";
import { discoverPlugins, findPlugin, scheduleOf } from "../runner/registry.ts";
import { ENTRY_TASKS, methodEntry } from "../runner/entries.ts";
import { COMPARE_OPTIONS } from "../runner/compare.ts";
import { EVAL_OPTIONS } from "../runner/eval_command.ts";
import { SYNTH_OPTIONS } from "../runner/synth_command.ts";
import { DEMO_OPTIONS } from "../demo/_cli.ts";
import { exitCodeOf } from "../core/user_errors.ts";
import { AGREEMENT_OPTIONS, agreementMain } from "../demo/pretrained/agreement_cli.ts";
import { imageDemoMain } from "../demo/image_demo.ts";
import { VIDEO_OPTIONS, videoDemoMain } from "../demo/video_demo.ts";
import { METHODS_OPTIONS } from "../runner/methods_command.ts";
import { PREP_OPTIONS } from "../runner/prep_command.ts";
import { BUILD_KERNELS_OPTIONS, buildKernelsMain } from "../bench/build_kernels.ts";
import type { OptionSpec } from "../core/options.ts";

interface Outcome {
  code: number | "threw";
  stdout: string[];
  stderr: string[];
  thrown?: unknown;
}

/** Run a command in process with stdout and stderr captured. */
async function capture(fn: () => Promise<number>): Promise<Outcome> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const log = console.log, err = console.error, warn = console.warn;
  console.log = (...a: unknown[]) => stdout.push(a.map(String).join(" "));
  console.error = (...a: unknown[]) => stderr.push(a.map(String).join(" "));
  console.warn = console.error;
  try {
    return { code: await fn(), stdout, stderr };
  } catch (e) {
    return { code: "threw", stdout, stderr, thrown: e };
  } finally {
    console.log = log;
    console.error = err;
    console.warn = warn;
  }
}

/** A demo's entry point as its `deno task` runs it: an OptionError is exit 2. */
const demo = (args: string[]) => exitCodeOf(imageDemoMain, args);
const agreement = (args: string[]) => exitCodeOf(agreementMain, args);

/** Bad values of one flag: empty, out of range, wrong type, repeated (where each applies). */
export function badValues(spec: OptionSpec, good: string): { kind: string; args: string[] }[] {
  const f = `--${spec.name}`;
  const out = [{ kind: "empty", args: [`${f}=`] }];
  if ((spec.type === "int" || spec.type === "float") && !spec.choices) {
    if (spec.min !== undefined) out.push({ kind: "below range", args: [`${f}=${spec.min - 1}`] });
    if (spec.max !== undefined) out.push({ kind: "above range", args: [`${f}=${spec.max + 1}`] });
  }
  if (spec.type === "enum" || spec.choices) out.push({ kind: "not a choice", args: [`${f}=not_a_choice`] });
  if (spec.type === "int") out.push({ kind: "wrong type", args: [`${f}=1.5x`] });
  if (spec.type === "float") out.push({ kind: "wrong type", args: [`${f}=abc`] });
  if (spec.type === "boolean") out.push({ kind: "wrong type", args: [`${f}=maybe`] });
  if (spec.type !== "list") out.push({ kind: "repeated", args: [`${f}=${good}`, `${f}=${good}`] });
  return out;
}

/** A value the flag accepts (for the repeated case). */
function goodValue(spec: OptionSpec): string {
  if (spec.choices) return spec.choices[0];
  switch (spec.type) {
    case "boolean":
      return "false";
    case "int":
    case "float":
      return String(spec.default ?? spec.min ?? 1);
    default:
      return "x";
  }
}

async function listTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      out.push(e.name);
      if (e.isDirectory) out.push(...(await listTree(join(dir, e.name))).map((x) => `${e.name}/${x}`));
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return out.sort();
}

Deno.test("bad inputs on every command: one error line, exit 2, nothing written", async (t) => {
  const tmp = await Deno.makeTempDir({ prefix: "cli_corpus_" });
  const runsBefore = await listTree("runs");
  const failures: string[] = [];
  let cases = 0;
  const check = async (label: string, fn: () => Promise<number>, json = false, names?: string) => {
    cases++;
    const r = await capture(fn);
    const errLines = r.stderr.filter((l) => l.startsWith("error:"));
    const problems: string[] = [];
    if (r.code === "threw") {
      problems.push(`threw ${(r.thrown as Error)?.stack?.split("\n").slice(0, 2).join(" ")}`);
    } else if (r.code !== 2) problems.push(`exit ${r.code}`);
    if (r.code !== "threw" && errLines.length !== 1) problems.push(`${errLines.length} error lines`);
    if (r.stderr.some((l) => /^\s+at /m.test(l))) problems.push("stack trace on stderr");
    // The flag as a whole word: "--lr" must not pass on an error about "--lr_schedule".
    if (names && errLines.length === 1 && !new RegExp(`${names}(?![\\w-])`).test(errLines[0])) {
      problems.push(`error does not name ${names}`);
    }
    if (json) {
      try {
        const o = JSON.parse(r.stdout.join("\n"));
        if (typeof o.error !== "string") problems.push("--json error is not an object with .error");
      } catch {
        problems.push(`--json stdout is not JSON: ${r.stdout.join(" ").slice(0, 80)}`);
      }
    }
    const written = await listTree(tmp);
    if (written.length > 0) problems.push(`wrote ${written.join(", ")}`);
    if (problems.length) {
      failures.push(`${label}: ${problems.join("; ")} | ${r.stderr.join(" | ").slice(0, 160)}`);
    }
  };

  const plugins = await discoverPlugins();
  const schema = trainingSchema(plugins);
  const saMtl = findPlugin(plugins, "sa-mtl");
  const saMtlFlags = flagsRead(saMtl, methodEntry("sa-mtl", "", false));
  const families: {
    name: string;
    specs: OptionSpec[];
    run: (a: string[]) => Promise<number>;
  }[] = [
    {
      name: "sa-mtl",
      specs: schema.filter((s) => saMtlFlags.has(s.name)),
      run: (a) => main(["sa-mtl", ...a]),
    },
    {
      name: "alternative-ep",
      specs: schema.filter((s) =>
        ENTRY_TASKS.find((e) => e.name === "alternative-ep")!.scriptFlags!.includes(s.name)
      ),
      run: (a) => main(["alternative-ep", ...a]),
    },
    // Every other plugin's own flags (lel-ltn's, dcn-ap's, distilling's...), through the plugin's own command.
    ...plugins.filter((p) => p.name !== "sa-mtl").map((p) => {
      const own = flagsRead(p, methodEntry(p.name, "", scheduleOf(p).datasets === "one"));
      return {
        name: p.name,
        specs: schema.filter((s) => own.has(s.name) && !saMtlFlags.has(s.name)),
        run: (a: string[]) => main([p.name, ...a]),
      };
    }),
    { name: "eval", specs: EVAL_OPTIONS, run: (a) => main(["eval", ...a]) },
    { name: "compare", specs: COMPARE_OPTIONS, run: (a) => main(["compare", ...a]) },
    { name: "synth", specs: SYNTH_OPTIONS, run: (a) => main(["synth", ...a]) },
    { name: "demo:image", specs: DEMO_OPTIONS, run: demo },
    {
      name: "demo:video",
      specs: [...DEMO_OPTIONS, ...VIDEO_OPTIONS],
      run: (a) => exitCodeOf(videoDemoMain, a),
    },
    { name: "methods", specs: METHODS_OPTIONS, run: (a) => main(["methods", ...a]) },
    {
      name: "demo:agreement",
      specs: AGREEMENT_OPTIONS,
      run: agreement,
    },
    // A --dataset so that each bad value, not the missing dataset, is what stops it.
    { name: "prep", specs: PREP_OPTIONS, run: (a) => main(["prep", "--dataset=sfew", ...a]) },
    { name: "build:kernels", specs: BUILD_KERNELS_OPTIONS, run: (a) => exitCodeOf(buildKernelsMain, a) },
  ];

  await t.step("every command takes the common flags, but for the few it could not honour", () => {
    // A flag a command would silently ignore is refused instead (runner/commands.ts does the same for
    // training): eval, methods and build:kernels draw nothing at random, synth, prep, methods and
    // build:kernels run no tensors.
    const exempt: Record<string, string[]> = {
      eval: ["seed"],
      synth: ["backend"],
      prep: ["backend"],
      methods: ["seed", "backend"],
      "build:kernels": ["seed", "backend"],
    };
    // The families that list a command's whole schema (the per-plugin ones list only a plugin's own flags).
    const whole = [
      "sa-mtl",
      "eval",
      "compare",
      "synth",
      "demo:image",
      "demo:video",
      "demo:agreement",
      "methods",
      "prep",
      "build:kernels",
    ];
    assert.deepEqual(
      families.filter((f) => whole.includes(f.name)).map((f) => f.name).sort(),
      [...whole].sort(),
    );
    for (const fam of families.filter((f) => whole.includes(f.name))) {
      const names = new Set(fam.specs.map((s) => s.name));
      const missing = ["out", "seed", "backend", "quiet", "dry_run", "json"].filter((n) => !names.has(n));
      assert.deepEqual(missing, exempt[fam.name] ?? [], `${fam.name} lacks common flags`);
    }
  });

  await t.step("every flag: empty, out of range, wrong type, repeated", async () => {
    for (const fam of families) {
      for (const spec of fam.specs) {
        if (spec.name === "help") continue;
        for (const bad of badValues(spec, goodValue(spec))) {
          // The one error line names the flag: a case failing for another reason (a missing --run) would not.
          // No --dry_run here, and --out inside the folder the check lists: a bad value must stop the
          // command before it writes anything, not only under a dry run.
          const out = spec.name === "out" ? [] : [`--out=${join(tmp, "w")}`];
          await check(
            `${fam.name} ${bad.args.join(" ")} (${bad.kind})`,
            () => fam.run([...bad.args, ...out]),
            false,
            `--${spec.name}`,
          );
        }
      }
    }
  });

  await t.step("--out: empty, a file, unwritable; with and without --dry_run", async () => {
    for (const fam of families) {
      for (const out of ["README.md", "/proc/nope", "README.md/sub"]) {
        for (const dry of [true, false]) {
          // eval checks --out before it opens the run, so a run that does not exist is enough here.
          const args = [
            `--out=${out}`,
            ...(fam.name === "eval" ? ["--run=/nonexistent/run"] : []),
            ...(dry ? ["--dry_run"] : []),
            ...(fam.name === "sa-mtl" ? ["--epoch=1"] : []),
          ];
          await check(`${fam.name} ${args.join(" ")}`, () => fam.run(args), false, "--out");
        }
      }
    }
  });

  await t.step("wrong-kind files for every path flag", async () => {
    const trainPaths = ["--config", "--init_weights", "--plugin", "--run"];
    for (const flag of trainPaths) {
      const extra = flag === "--run" ? ["--resume"] : [];
      for (const path of ["README.md", "docs", "/nonexistent/x"]) {
        await check(
          `sa-mtl ${flag}=${path}`,
          () => main(["sa-mtl", `${flag}=${path}`, ...extra, "--dry_run"]),
        );
      }
    }
    for (const path of ["README.md", "docs", "/nonexistent/x"]) {
      await check(`eval --run=${path}`, () => main(["eval", `--run=${path}`]));
      await check(`demo:image --run=${path}`, () => demo([`--run=${path}`, "--dry_run"]));
      await check(`demo:image --input=${path}`, () => demo([`--input=${path}`, "--run=/nonexistent/run"]));
      await check(
        `demo:agreement --labels=${path}`,
        () => agreement([`--labels=${path}`]),
        false,
        "--labels",
      );
    }
    // A labels file whose own photo is missing, or is no image: the first is found before any model loads.
    const face = { at: [10, 10], gender: "woman", smile: false, age: 30, pose: "frontal" };
    const labelsDir = await Deno.makeTempDir({ prefix: "cli_corpus_labels_" });
    await Deno.writeTextFile(join(labelsDir, "not_an_image.jpg"), "text");
    for (const photo of ["missing.jpg", "not_an_image.jpg"]) {
      const file = join(labelsDir, `${photo}.json`);
      await Deno.writeTextFile(file, JSON.stringify({ photos: [{ path: photo, faces: [face] }] }));
      await check(`demo:agreement --labels (${photo})`, () => agreement([`--labels=${file}`]), false, photo);
    }
    await Deno.remove(labelsDir, { recursive: true });
    await check(
      "stl --task=pose --dataset=synth-emotion",
      () => main(["stl", "--task=pose", "--dataset=synth-emotion", "--dry_run"]),
    );
    await check(
      "sa-mtl --cluster_k=0 --is_pesudo_distribution=True",
      () => main(["sa-mtl", "--cluster_k=0", "--is_pesudo_distribution=True", "--epoch=1"]),
    );
    await check(
      "sa-mtl --model=vggFace --image_size=16",
      () => main(["sa-mtl", "--model=vggFace", "--image_size=16", "--dry_run", "--train_size=64"]),
    );
    await check(
      "sfsmr --mrf_k=3 (a flag of another method)",
      () => main(["sfsmr", "--mrf_k=3", "--dry_run"]),
    );
  });

  await t.step("a stray word (a flag without its dashes) is refused, not ignored", async () => {
    for (const fam of families) {
      await check(`${fam.name} stray`, () => fam.run(["epoch3", "--dry_run"]), false, '"epoch3"');
    }
  });

  await t.step("--help --json: exit 0, the help as JSON listing every flag", async () => {
    for (const fam of families) {
      const r = await capture(() => fam.run(["--help", "--json"]));
      let listed: string[] = [];
      try {
        const o = JSON.parse(r.stdout.join("\n"));
        listed = o.help.groups.flatMap((g: { flags: { name: string }[] }) => g.flags.map((f) => f.name));
      } catch {
        failures.push(
          `${fam.name} --help --json: stdout is not the help as JSON: ${r.stdout.join(" ").slice(0, 80)}`,
        );
        continue;
      }
      if (r.code !== 0) failures.push(`${fam.name} --help --json: exit ${r.code}`);
      const missing = fam.specs.map((s) => s.name).filter((n) => !listed.includes(n));
      if (missing.length) failures.push(`${fam.name} --help --json: lacks ${missing.join(", ")}`);
    }
  });

  await t.step("with --json the error is a JSON object on stdout", async () => {
    await check("sa-mtl --json --epoch=0", () => main(["sa-mtl", "--json", "--epoch=0"]), true);
    await check("eval --json --run=/nonexistent", () => main(["eval", "--json", "--run=/nonexistent"]), true);
    await check("compare --json --seeds=0", () => main(["compare", "--json", "--seeds=0"]), true);
    await check("demo:image --json --run=/nonexistent", () => demo(["--json", "--run=/nonexistent"]), true);
    await check("demo:agreement --json --heads=run", () => agreement(["--json", "--heads=run"]), true);
  });

  assert.deepEqual(await listTree("runs"), runsBefore, "nothing written under runs/");
  await Deno.remove(tmp, { recursive: true });
  console.log(`${cases} bad-input cases`);
  assert.deepEqual(failures, [], `${failures.length} of ${cases} cases misbehaved:\n${failures.join("\n")}`);
});
