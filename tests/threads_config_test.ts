import assert from "node:assert/strict";
import { join } from "node:path";
import { resolveRun } from "../runner/commands.ts";
import { executeRun } from "../runner/run_command.ts";

const TINY = [
  "--epoch=1",
  "--train_size=64",
  "--image_size=32",
  "--batch_size=16",
  "--quiet",
  "--backend=wasm",
];

Deno.test("the thread count in effect is recorded in config.json and reused by --config and --resume", async () => {
  const dir = await Deno.makeTempDir({ prefix: "threads_cfg_" });
  try {
    const given = await resolveRun("all-in-one", [...TINY, "--threads=2", `--out=${join(dir, "a")}`], {
      print: () => {},
    });
    const out = await executeRun(given!, () => {});
    assert.equal(out.backend.threads, 2);
    const cfg = JSON.parse(await Deno.readTextFile(join(dir, "a", "config.json")));
    assert.equal(cfg.options.threads, 2);
    const again = await resolveRun("run", [
      `--config=${join(dir, "a", "config.json")}`,
      `--out=${join(dir, "b")}`,
    ], {
      print: () => {},
    });
    assert.equal(again!.options.threads, 2, "--config reruns with the recorded threads");
    const resumed = await resolveRun("all-in-one", ["--resume", `--run=${join(dir, "a")}`], {
      print: () => {},
    });
    assert.equal(resumed!.options.threads, 2, "--resume continues with the recorded threads");
    // Without --threads a training command uses every core, and says so in config.json.
    const all = await resolveRun("all-in-one", [...TINY, `--out=${join(dir, "c")}`], { print: () => {} });
    await executeRun(all!, () => {});
    const cfgAll = JSON.parse(await Deno.readTextFile(join(dir, "c", "config.json")));
    assert.equal(cfgAll.options.threads, navigator.hardwareConcurrency);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
