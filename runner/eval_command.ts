/**
 * `deno task eval --run=DIR [--dataset=NAME] [--split=test|val|all] [--checkpoint=best|last]`:
 * evaluate a run's checkpoint on any prepared or embedded dataset (accuracy, mean-class accuracy,
 * confusion matrix; `--json`).
 * @module
 */
import { join } from "node:path";
import { formatHelp, parseArgs, resolveOptions } from "./cli.ts";
import { checkOutDir } from "./out_dir.ts";
import { bool, OptionError, type OptionSpec } from "../core/options.ts";
import { COMMON_OPTIONS, DATASET_CHOICES } from "./schema.ts";
import type { ImageSet } from "../core/types.ts";
import { evaluate } from "./train/evaluate.ts";
import { type BackendName, initBackend } from "./backend.ts";
import { loadDataset } from "../datasets/mod.ts";
import { writeJsonAtomic } from "../core/fs.ts";
import { datasetLoadOptions, openRun } from "./run_config.ts";

/** Flags of `deno task eval`. */
export const EVAL_OPTIONS: OptionSpec[] = [
  ...COMMON_OPTIONS,
  { name: "run", type: "string", help: "Run directory to evaluate." },
  {
    name: "dataset",
    type: "list",
    choices: DATASET_CHOICES,
    help: "Datasets to evaluate on (default: the run's).",
  },
  { name: "split", type: "enum", default: "test", choices: ["test", "val", "all"], help: "Which split." },
  { name: "checkpoint", type: "enum", default: "best", choices: ["best", "last"], help: "Which checkpoint." },
  { name: "data_dir", type: "string", help: "Where prepared datasets live (default: the run's)." },
];

/** The eval command; returns an exit code. */
export async function runEval(args: string[]): Promise<number> {
  const parsed = parseArgs(args, EVAL_OPTIONS);
  const o = resolveOptions(EVAL_OPTIONS, [], parsed.options);
  if (o.help) {
    console.log(formatHelp("deno task eval --run=DIR [flags]: evaluate a run's checkpoint", [
      { heading: "Flags", specs: EVAL_OPTIONS },
    ], { ...o, help: false }));
    return 0;
  }
  if (typeof o.out === "string") await checkOutDir(o.out);
  if (typeof o.run !== "string") throw new OptionError("--run=DIR is required (a run directory under runs/)");
  await initBackend({ backend: String(o.backend) as BackendName, quiet: bool(o, "quiet") });
  const { config: cfg, model } = await openRun(o.run, {
    checkpoint: o.checkpoint === "last" ? "last" : "best",
  });
  const ro = cfg.options;
  const names = Array.isArray(o.dataset) && o.dataset.length ? o.dataset : cfg.datasets ?? [];
  if (names.length === 0) {
    throw new OptionError(`--run=${o.run}: its config names no datasets; give --dataset`);
  }
  const sets: ImageSet[] = [];
  for (const name of names) {
    // The run's own data settings (size, seed, synthetic knobs), so its test split is the one it held out.
    const set = await loadDataset(name, {
      ...datasetLoadOptions(ro, () => {}),
      dataDir: String(o.data_dir ?? ro.data_dir ?? "data"),
      skipBadSamples: false,
    });
    const usable = set.tasks.filter((t) =>
      cfg.tasks.some((h) => h.name === t.name && h.classes === t.classes)
    );
    if (usable.length === 0) {
      throw new OptionError(
        `--dataset=${name} labels ${
          set.tasks.map((t) => `${t.name}(${t.classes})`).join(", ")
        }, but the run's heads are ${cfg.tasks.map((t) => `${t.name}(${t.classes})`).join(", ")}`,
      );
    }
    sets.push({ ...set, tasks: usable });
  }
  const splits = o.split === "all" ? ["val", "test"] as const : [o.split as "val" | "test"];
  const entries = await evaluate(model, { sets, splits: [...splits] });
  model.model.dispose();
  const result = entries.map((e) => ({
    metric: `${e.task}/${e.dataset}/${e.split}`,
    n: e.n,
    acc: e.acc,
    mean_class_acc: e.meanClassAcc,
    loss: e.loss,
    labels: cfg.tasks.find((t) => t.name === e.task)!.labels,
    confusion: e.confusion,
  }));
  if (typeof o.out === "string" && !o.dry_run) await writeJsonAtomic(join(o.out, "eval.json"), result);
  if (o.json) console.log(JSON.stringify(result, null, 2));
  else {
    for (const r of result) {
      console.log(
        `${r.metric}: acc ${(r.acc * 100).toFixed(2)}%  mean-class ${
          (r.mean_class_acc * 100).toFixed(2)
        }%  n=${r.n}`,
      );
      console.log(`  confusion (rows true, cols predicted; ${r.labels.join(", ")}):`);
      for (const row of r.confusion) console.log(`  ${row.map((v) => String(v).padStart(5)).join("")}`);
    }
  }
  return 0;
}
