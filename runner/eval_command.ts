/**
 * `deno task eval --run=DIR [--dataset=NAME] [--split=test|val|all] [--checkpoint=best|last]`:
 * evaluate a run's checkpoint on any prepared or embedded dataset (accuracy, mean-class accuracy,
 * confusion matrix; `--json`).
 * @module
 */
import { join } from "node:path";
import { checkOptions, formatHelp, parseFlagsOnly, resolveOptions, settingsWithSources } from "./cli.ts";
import { checkOutDir } from "../core/out_dir.ts";
import { bool, OptionError, type OptionSpec } from "../core/options.ts";
import { COMMON_OPTIONS, DATASET_CHOICES } from "./schema.ts";
import type { HiddenTruth, ImageSet, TaskSpec } from "../core/types.ts";
import { evaluate as evaluateModel } from "./train/evaluate.ts";
import { type BackendName, initBackend } from "./backend.ts";
import { loadDataset, loadHiddenTruth } from "../datasets/mod.ts";
import { writeJsonAtomic } from "../core/fs.ts";
import { datasetLoadOptions, openRun } from "./run_config.ts";

/**
 * `set` labelled with its hidden truth for every head of the run whose task the truth has (the tasks the set
 * is labelled for included: their truth is the same labels). An error names the dataset when it has none.
 */
export function withHiddenTruth(set: ImageSet, truth: HiddenTruth | null, heads: TaskSpec[]): ImageSet {
  if (!truth) {
    throw new OptionError(`--truth=hidden: ${set.name} has no hidden truth (embedded datasets only)`);
  }
  const tasks = heads.filter((h) => truth.labels[h.name]);
  if (tasks.length === 0) {
    throw new OptionError(
      `--truth=hidden: ${set.name}'s hidden truth has none of the run's tasks (${
        heads.map((h) => h.name).join(", ")
      })`,
    );
  }
  const labels: ImageSet["labels"] = {};
  for (const t of tasks) {
    const col = truth.labels[t.name]!;
    if (col.length !== set.n) {
      throw new Error(`${set.name}: hidden truth has ${col.length} rows, the data ${set.n}`);
    }
    labels[t.name] = col;
  }
  return { ...set, tasks, labels };
}

/** Flags of `deno task eval`. */
export const EVAL_OPTIONS: OptionSpec[] = [
  // Evaluation draws nothing at random (the run's own seed fixes its data), so --seed is not a flag here.
  ...COMMON_OPTIONS.filter((s) => s.name !== "seed"),
  { name: "run", type: "string", help: "Run directory to evaluate." },
  {
    name: "dataset",
    type: "list",
    choices: DATASET_CHOICES,
    aliases: ["datasets"],
    help: "Datasets to evaluate on (default: the run's).",
  },
  { name: "split", type: "enum", default: "test", choices: ["test", "val", "all"], help: "Which split." },
  { name: "checkpoint", type: "enum", default: "best", choices: ["best", "last"], help: "Which checkpoint." },
  { name: "data_dir", type: "string", help: "Where prepared datasets live (default: the run's)." },
  {
    name: "truth",
    type: "enum",
    default: "labels",
    choices: ["labels", "hidden"],
    help:
      "Score against the dataset's labels, or (embedded datasets) against the hidden truth of every head's task, also tasks the dataset is not labelled for (e.g. an emotion model on synth-pose).",
  },
];

/** What {@link evaluate} takes: the flags of `deno task eval`, typed, by the same names. */
export interface EvaluateRequest {
  /** The run directory to evaluate (holds `config.json` and `checkpoint/`). */
  run: string;
  /** Datasets to evaluate on (default: the run's own); `--dataset` on the command line. */
  datasets?: string[];
  /** Which split: `test` (default), `val`, or `all` (both). */
  split?: "test" | "val" | "all";
  /** Which checkpoint: `best` (default) or `last`. */
  checkpoint?: "best" | "last";
  /** Where prepared datasets live (default: the run's `data_dir`). */
  data_dir?: string;
  /** `labels` (default) or `hidden`: the hidden truth of embedded datasets, for every head's task. */
  truth?: "labels" | "hidden";
  /** A directory to write `eval.json` into (nothing is written without it). */
  out?: string;
  /** Validate and evaluate, but write nothing. */
  dry_run?: boolean;
  /** TensorFlow.js backend (default `auto`). */
  backend?: BackendName;
  /** No backend banner or warnings. */
  quiet?: boolean;
}

/** One metric of {@link evaluate}: a (task, dataset, split) with its accuracy and confusion matrix. */
export interface EvalMetric {
  /** `task/dataset/split`, e.g. `emotion/synth-emotion/test`. */
  metric: string;
  /** Rows evaluated. */
  n: number;
  /** Accuracy in [0, 1]. */
  acc: number;
  /** Mean of the per-class accuracies (classes with rows only). */
  mean_class_acc: number;
  /** Mean cross-entropy of the true class. */
  loss: number;
  /** Class names of the task's head, in head order. */
  labels: string[];
  /** Counts, rows the true class, columns the predicted one. */
  confusion: number[][];
}

/**
 * Evaluate a run's checkpoint on its own or other datasets. The request is checked against the flags of
 * `deno task eval` (an unknown name or a bad value is an {@link OptionError} naming the flag); with `out`,
 * the metrics are also written to `out/eval.json`.
 */
export async function evaluate(request: EvaluateRequest): Promise<EvalMetric[]> {
  const o = resolveOptions(EVAL_OPTIONS, [], checkOptions({ ...request }, EVAL_OPTIONS));
  if (typeof o.out === "string") await checkOutDir(o.out);
  if (typeof o.run !== "string") throw new OptionError("--run=DIR is required (a run directory under runs/)");
  await initBackend({ backend: String(o.backend) as BackendName, quiet: bool(o, "quiet") });
  const { config: cfg, model } = await openRun(o.run, {
    checkpoint: o.checkpoint === "last" ? "last" : "best",
  });
  const ro = cfg.options;
  const names = Array.isArray(o.dataset) && o.dataset.length ? o.dataset : cfg.datasets ?? [];
  if (names.length === 0) {
    model.model.dispose();
    throw new OptionError(`--run=${o.run}: its config names no datasets; give --dataset`);
  }
  const sets: ImageSet[] = [];
  try {
    for (const name of names) {
      // The run's own data settings (size, seed, synthetic knobs), so its test split is the one it held out.
      const loadOpts = {
        ...datasetLoadOptions(ro, () => {}),
        dataDir: String(o.data_dir ?? ro.data_dir ?? "data"),
        skipBadSamples: false,
      };
      let set = await loadDataset(name, loadOpts);
      if (o.truth === "hidden") set = withHiddenTruth(set, await loadHiddenTruth(name, loadOpts), cfg.tasks);
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
  } catch (e) {
    model.model.dispose();
    throw e;
  }
  const splits = o.split === "all" ? ["val", "test"] as const : [o.split as "val" | "test"];
  if (o.dry_run) {
    // The run, its checkpoint, the datasets and --out are validated; nothing is evaluated or written.
    model.model.dispose();
    return [];
  }
  const entries = await evaluateModel(model, { sets, splits: [...splits] }).finally(() =>
    model.model.dispose()
  );
  const result: EvalMetric[] = entries.map((e) => ({
    metric: `${e.task}/${e.dataset}/${e.split}`,
    n: e.n,
    acc: e.acc,
    mean_class_acc: e.meanClassAcc,
    loss: e.loss,
    labels: cfg.tasks.find((t) => t.name === e.task)!.labels,
    confusion: e.confusion,
  }));
  if (typeof o.out === "string" && !o.dry_run) await writeJsonAtomic(join(o.out, "eval.json"), result);
  return result;
}

/** The eval command: parse, then {@link evaluate}, then print; returns an exit code. */
export async function runEval(args: string[]): Promise<number> {
  const parsed = parseFlagsOnly(args, EVAL_OPTIONS);
  const o = resolveOptions(EVAL_OPTIONS, [], parsed.options);
  if (o.help) {
    console.log(formatHelp(
      "deno task eval --run=DIR [flags]: evaluate a run's checkpoint",
      [
        { heading: "Flags", specs: EVAL_OPTIONS },
      ],
      resolveOptions(EVAL_OPTIONS, [], {}),
      { json: o.json === true },
    ));
    return 0;
  }
  // The parsed flags are the typed request (evaluate checks them again; it ignores `json`, which only
  // shapes what is printed here).
  const result = await evaluate(parsed.options as unknown as EvaluateRequest);
  if (o.dry_run) {
    const settings = settingsWithSources(o, parsed.explicit);
    if (o.json) console.log(JSON.stringify({ dryRun: { settings, written: false } }, null, 2));
    else {
      console.log(`dry run: ${o.run} and its datasets are readable; nothing evaluated or written`);
      for (const [k, v] of Object.entries(settings)) {
        console.log(`  --${k.padEnd(14)} ${String(v.value).padEnd(16)} ${v.source}`);
      }
    }
    return 0;
  }
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
