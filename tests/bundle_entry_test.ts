/**
 * bench/cli_bundle.ts imports every method plugin and task weighting statically (a bundle cannot read the
 * folders at run time): a new file in methods/ or core/task_weighting/ must be added there too, and the
 * bundled entry must register exactly what discovery finds.
 */
import assert from "node:assert/strict";
import { discoverPlugins } from "../runner/registry.ts";
import { discoverWeightings } from "../core/task_weighting/mod.ts";

async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(new URL(dir, import.meta.url))) {
    if (e.isFile && e.name.endsWith(".ts") && !e.name.startsWith("_") && e.name !== "mod.ts") {
      out.push(e.name);
    }
  }
  return out.sort();
}

Deno.test("the CLI bundle entry imports every plugin and task weighting the folders hold", async () => {
  const src = await Deno.readTextFile(new URL("../bench/cli_bundle.ts", import.meta.url));
  const imported = (folder: string) =>
    [...src.matchAll(new RegExp(`from "\\.\\./${folder}/([a-z_]+\\.ts)"`, "g"))].map((m) => m[1])
      .filter((f) => f !== "mod.ts").sort();
  assert.deepEqual(imported("methods"), await files("../methods/"));
  assert.deepEqual(imported("core/task_weighting"), await files("../core/task_weighting/"));
  // Discovery reads the same plugins the entry registers (names, in the same order).
  const names = (await discoverPlugins()).map((p) => p.name);
  assert.equal(names.length, imported("methods").length);
  assert.equal((await discoverWeightings()).length, imported("core/task_weighting").length);
});
