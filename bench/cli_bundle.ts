/**
 * The `run` and `eval` commands as one file, for a machine with a Deno binary but no node_modules (the GPU
 * machines: nothing outside them can be reached). `deno bundle` cannot follow the run-time import of
 * `methods/*.ts` and `core/task_weighting/*.ts`, so this entry imports every plugin and task weighting
 * statically and registers them (tests/bundle_entry_test.ts checks the lists match the folders). Build it with the other
 * bundle parts (bench/gpu_check_prepare.sh puts it in `.cache/gpu/`, beside the wasm binaries), then:
 *
 *   deno run -A .cache/gpu/cli.js run stl --dataset=synth-emotion --task=emotion --out=runs/x ...
 *   deno run -A .cache/gpu/cli.js eval --run=runs/x --dataset=synth-pose --truth=hidden --json
 *
 * Used to sweep many independent runs on a many-core machine (e.g. the domain-shift curve in docs/data.md).
 * @module
 */
import allInOne from "../methods/all_in_one.ts";
import dcnAp from "../methods/dcn_ap.ts";
import distilling from "../methods/distilling.ts";
import dmlLwf from "../methods/dml_lwf.ts";
import lelLtn from "../methods/lel_ltn.ts";
import naiveAlternating from "../methods/naive_alternating.ts";
import saMtl from "../methods/sa_mtl.ts";
import sfsmr from "../methods/sfsmr.ts";
import slrm from "../methods/slrm.ts";
import stl from "../methods/stl.ts";
import { registerBundledPlugins } from "../runner/registry.ts";
import { registerBundledWeightings } from "../core/task_weighting/mod.ts";
import cagrad from "../core/task_weighting/cagrad.ts";
import dwa from "../core/task_weighting/dwa.ts";
import ew from "../core/task_weighting/ew.ts";
import gradnorm from "../core/task_weighting/gradnorm.ts";
import imtl from "../core/task_weighting/imtl.ts";
import mgda from "../core/task_weighting/mgda.ts";
import nashMtl from "../core/task_weighting/nash_mtl.ts";
import pcgrad from "../core/task_weighting/pcgrad.ts";
import rlw from "../core/task_weighting/rlw.ts";
import uw from "../core/task_weighting/uw.ts";
import { runEval } from "../runner/eval_command.ts";
import { resolveRun } from "../runner/commands.ts";
import { trainResolved } from "../runner/api.ts";
import { useWasmFilesBesideBundle } from "./_bundle_wasm.ts";

/** Run `run METHOD ...` or `eval ...`; returns the exit code. */
export async function bundledMain(argv: string[]): Promise<number> {
  await useWasmFilesBesideBundle();
  registerBundledPlugins([
    { name: "all_in_one.ts", plugin: allInOne },
    { name: "dcn_ap.ts", plugin: dcnAp },
    { name: "distilling.ts", plugin: distilling },
    { name: "dml_lwf.ts", plugin: dmlLwf },
    { name: "lel_ltn.ts", plugin: lelLtn },
    { name: "naive_alternating.ts", plugin: naiveAlternating },
    { name: "sa_mtl.ts", plugin: saMtl },
    { name: "sfsmr.ts", plugin: sfsmr },
    { name: "slrm.ts", plugin: slrm },
    { name: "stl.ts", plugin: stl },
  ]);
  registerBundledWeightings(
    Object.entries({ cagrad, dwa, ew, gradnorm, imtl, mgda, nash_mtl: nashMtl, pcgrad, rlw, uw }).map((
      [file, strategy],
    ) => ({ file: `${file}.ts`, strategy })),
  );
  const [command, ...args] = argv;
  if (command === "eval") return await runEval(args);
  if (command !== "run") throw new Error(`cli bundle: expected run or eval, got ${command}`);
  const run = await resolveRun(command, args);
  if (!run) return 0;
  const out = await trainResolved(run, { log: (s) => console.error(s) });
  if (out.summary) console.log(JSON.stringify({ run: out.dir, ...out.summary }));
  return 0;
}

if (import.meta.main) {
  Deno.exit(await bundledMain(Deno.args));
}
