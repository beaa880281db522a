/**
 * The README's "Adding a method" example, copied out of the README into a folder of its own and run
 * with `--plugin`: it must train through mod.ts alone, and the statistic its label strategy returns must
 * show up in log.csv.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { resolveRun } from "../runner/commands.ts";
import { executeRun } from "../runner/run_command.ts";
import { readRunLog } from "../runner/train/run_log.ts";

const README = new URL("../README.md", import.meta.url);
const MOD = new URL("../mod.ts", import.meta.url).href;

/** The first ```ts block after the "Adding a method" heading. */
export function readmeExample(readme: string): string {
  const section = readme.slice(readme.indexOf("## Adding a method"));
  const m = /```ts\n([\s\S]*?)```/.exec(section);
  if (!m) throw new Error("README: no ts block under Adding a method");
  return m[1];
}

Deno.test("the README's plugin example runs with --plugin and logs its statistic", async () => {
  const code = readmeExample(await Deno.readTextFile(README));
  assert.match(code, /from "\.\/mod\.ts"/, "the example imports only through mod.ts");
  assert.doesNotMatch(code.replace(/from "\.\/mod\.ts"/g, ""), /from "/, "no other import");
  const dir = await Deno.makeTempDir({ prefix: "readme_plugin_" });
  try {
    const file = join(dir, "my_method.ts");
    await Deno.writeTextFile(file, code.replaceAll('"./mod.ts"', JSON.stringify(MOD)));
    const out = join(dir, "run");
    const run = await resolveRun("run", [
      "my-pseudo",
      `--plugin=${file}`,
      "--epoch=2",
      "--min_confidence=0.2",
      "--train_size=96",
      "--image_size=32",
      "--batch_size=16",
      "--quiet",
      `--out=${out}`,
    ], { print: () => {} });
    assert.ok(run);
    assert.equal(run.plugin.name, "my-pseudo");
    const res = await executeRun(run, () => {});
    assert.ok(res.summary && !res.summary.interrupted);
    const { rows } = await readRunLog(out);
    const col = "pose/synth-emotion/train/confident_fraction";
    assert.ok(col in rows[0], `log.csv has ${col}`);
    const v = Number(rows[0][col]);
    assert.ok(v >= 0 && v <= 1, `${col} = ${v}`);
    // A flag the example does not declare is refused by its task.
    await assert.rejects(
      () => resolveRun("run", ["my-pseudo", `--plugin=${file}`, "--mrf_k=3"], { print: () => {} }),
      /--mrf_k: .* does not read this flag \(read by dcn-ap\)/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
