/**
 * `deno task compare`: the main job. Trains every registered method (STL once per task, plus every
 * multi-task plugin, discovered, not listed by hand) on the same data, splits, backbone, learning rate,
 * seeds and budget, then writes `report.md`, `results.json`, `results.csv` and figures.
 *
 * Budget: every method sees each dataset's training rows the same number of times (`passes`), so the
 * images seen per method are equal: a joint method trains `passes` outer epochs, an alternating one
 * `passes x datasets`, each STL run `passes` epochs over its dataset.
 * @module
 */
import { join, resolve } from "node:path";
import { arch, cpus, hostname, totalmem } from "node:os";
import { formatHelp, parseArgs, resolveOptions } from "./cli.ts";
import { checkOutDir } from "./out_dir.ts";
import { bool, num, OptionError, type Options, type OptionSpec } from "../core/options.ts";
import { COMMON_OPTIONS, DATASET_CHOICES, MODEL_CHOICES } from "./schema.ts";
import { discoverPlugins, scheduleOf } from "./registry.ts";
import type { MethodPlugin } from "../core/plugin.ts";
import { datasetTaskNames } from "./entries.ts";
import { parseCsv } from "../core/csv.ts";
import type { CompareResults, RunResult, TaskResult } from "./report/results.ts";
import { curvesFromLog } from "./report/results.ts";
import { readRunLog } from "./train/run_log.ts";
import { writeReport } from "./report/mod.ts";
import { findWeighting } from "../core/task_weighting/mod.ts";
import { ARCH_NAMES, type ArchName } from "../core/types.ts";

/** A compare profile: data size, image size, budget and seeds. */
export interface CompareProfile {
  datasets: string[];
  model: string;
  imageSize: number;
  trainSize: number;
  passes: number;
  seeds: number;
  batchSize: number;
  lr: number;
  /** Teacher refresh period of joint pseudo-label methods (the original: 4). */
  passesPerRefresh: number;
  note: string;
}

/** The profiles; `default` is sized to finish in <= 30 minutes on a 2-core CPU. */
export const PROFILES: Record<string, CompareProfile> = {
  quick: {
    datasets: ["synth-emotion", "synth-pose"],
    model: "mini_xception",
    imageSize: 32,
    trainSize: 240,
    passes: 2,
    seeds: 1,
    batchSize: 32,
    lr: 3e-3,
    passesPerRefresh: 1,
    note: "smoke test: tiny data, one seed, numbers are not meaningful",
  },
  default: {
    datasets: ["synth-emotion", "synth-pose"],
    model: "mini_xception",
    imageSize: 48,
    trainSize: 2400,
    passes: 4,
    seeds: 3,
    batchSize: 32,
    lr: 3e-3,
    passesPerRefresh: 1,
    note: "embedded synthetic faces, sized for <= 30 minutes on 2 CPU cores",
  },
  full: {
    datasets: ["ferplus", "aflw"],
    model: "vggFace",
    imageSize: 224,
    trainSize: 0,
    passes: 64,
    seeds: 3,
    batchSize: 32,
    lr: 1e-4,
    passesPerRefresh: 4,
    note: "real datasets (prepare them first) at the original scale; for a GPU",
  },
};

/** Flags of `deno task compare`. */
export const COMPARE_OPTIONS: OptionSpec[] = [
  ...COMMON_OPTIONS,
  {
    name: "profile",
    type: "enum",
    default: "default",
    choices: Object.keys(PROFILES),
    help: "Size of the comparison.",
  },
  { name: "datasets", type: "list", choices: DATASET_CHOICES, help: "Datasets (default per profile)." },
  {
    name: "methods",
    type: "list",
    help: "Methods to run: all (default) or a comma-separated list of names.",
  },
  {
    name: "archs",
    type: "list",
    choices: ARCH_NAMES,
    help:
      "Shared architectures to sweep (default hps): every multi-task method that can use one runs with it, a row named method@arch (hps keeps the plain name).",
  },
  {
    name: "task_weightings",
    type: "list",
    help:
      "Task weightings to sweep (default ew): every multi-task method runs once per weighting, a row named method+weighting (ew keeps the plain name).",
  },
  { name: "seeds", type: "int", min: 1, max: 100, help: "Seeds per method (default per profile)." },
  { name: "model", type: "enum", choices: MODEL_CHOICES, help: "Backbone (default per profile)." },
  { name: "image_size", type: "int", min: 16, max: 512, help: "Input side (default per profile)." },
  { name: "train_size", type: "int", min: 8, max: 1_000_000, help: "Rows per synthetic dataset." },
  { name: "passes", type: "int", min: 1, max: 10_000, help: "Passes over each dataset per method (budget)." },
  { name: "lr", type: "float", min: 0, max: 1, help: "Learning rate for every method." },
  {
    name: "jobs",
    type: "int",
    default: Math.max(1, Math.min(navigator.hardwareConcurrency ?? 1, 8)),
    min: 1,
    max: 64,
    help: "Runs in parallel processes (default: one per CPU core; each run uses one thread).",
  },
  { name: "data_dir", type: "string", default: "data", help: "Where prepared real datasets live." },
];

/** One planned training run. */
export interface PlannedRun {
  method: string;
  seed: number;
  /** STL: the task trained. */
  task?: string;
  dir: string;
  args: string[];
}

/** Plan every run: STL per task, then each multi-task plugin, for each seed. */
export function planRuns(
  plugins: MethodPlugin[],
  opts: {
    profile: CompareProfile;
    outDir: string;
    methods: string[] | "all";
    extra: string[];
    /** Task weightings of the multi-task methods (default `ew`); each is a row `method+weighting`. */
    weightings?: string[];
    /** Shared architectures of the multi-task methods (default `hps`); each is a row `method@arch`. */
    archs?: ArchName[];
  },
): PlannedRun[] {
  const p = opts.profile;
  const runs: PlannedRun[] = [];
  const wanted = (name: string) => opts.methods === "all" || opts.methods.includes(name);
  const common = [
    `--model=${p.model}`,
    `--image_size=${p.imageSize}`,
    `--batch_size=${p.batchSize}`,
    `--lr=${p.lr}`,
    ...(p.trainSize > 0 ? [`--train_size=${p.trainSize}`] : []),
    "--quiet",
    ...opts.extra,
  ];
  // The single-task reference trains once per task of every dataset; every other method once.
  const reference = plugins.find((pl) => pl.role === "reference");
  for (let s = 1; s <= p.seeds; s++) {
    if (reference && wanted(reference.name)) {
      for (const ds of p.datasets) {
        for (const task of datasetTaskNames(ds)) {
          const dir = join(opts.outDir, "runs", `${reference.name}-${task}-seed${s}`);
          runs.push({
            method: reference.name,
            seed: s,
            task,
            dir,
            args: [
              "run",
              reference.name,
              `--dataset=${ds}`,
              `--task=${task}`,
              `--epoch=${p.passes}`,
              `--seed=${s}`,
              `--out=${dir}`,
              ...common,
            ],
          });
        }
      }
    }
    for (const pl of plugins) {
      const schedule = scheduleOf(pl);
      if (schedule.datasets === "one" || !wanted(pl.name)) continue;
      const epochs = schedule.epochsFor({
        passes: p.passes,
        datasets: p.datasets.length,
        passesPerRefresh: pl.passesPerRefresh ? p.passesPerRefresh : 1,
      });
      const cells = (opts.archs ?? ["hps"]).filter((a) => !pl.architectures || pl.architectures.includes(a))
        .flatMap((a) => (opts.weightings ?? ["ew"]).map((w) => ({ a, w })));
      for (const { a, w } of cells) {
        const method = `${pl.name}${w === "ew" ? "" : `+${w}`}${a === "hps" ? "" : `@${a}`}`;
        const dir = join(opts.outDir, "runs", `${method}-seed${s}`);
        runs.push({
          method,
          seed: s,
          dir,
          args: [
            "run",
            pl.name,
            `--datasets=${p.datasets.join(",")}`,
            `--epoch=${epochs}`,
            `--seed=${s}`,
            `--out=${dir}`,
            ...(pl.passesPerRefresh ? [`--passes_per_refresh=${p.passesPerRefresh}`] : []),
            ...(w === "ew" ? [] : [`--task_weighting=${w}`]),
            ...(a === "hps" ? [] : [`--arch=${a}`]),
            ...common,
          ],
        });
      }
    }
  }
  return runs;
}

async function runOne(run: PlannedRun, log: (s: string) => void): Promise<void> {
  const main = new URL("./main.ts", import.meta.url).pathname;
  const cmd = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", main, ...run.args],
    stdout: "piped",
    stderr: "piped",
  });
  const t0 = performance.now();
  const out = await cmd.output();
  const sec = ((performance.now() - t0) / 1000).toFixed(0);
  if (!out.success) {
    const err = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-5).join(" | ");
    throw new Error(`run ${run.method} seed ${run.seed}${run.task ? ` (${run.task})` : ""} failed: ${err}`);
  }
  log(`done ${run.method}${run.task ? `/${run.task}` : ""} seed ${run.seed} in ${sec} s`);
}

/** Read a finished run directory into the report's shape. */
export async function readRun(dir: string, planned: PlannedRun): Promise<RunResult> {
  const cfg = JSON.parse(await Deno.readTextFile(join(dir, "config.json")));
  const summary = JSON.parse(await Deno.readTextFile(join(dir, "summary.json")));
  const log = await readRunLog(dir);
  // Non-finite values (a task without a pseudo-label score that epoch) stay out of the curves.
  const curves = curvesFromLog(log.rows).filter((c) => Number.isFinite(c.value));
  const results: TaskResult[] = [];
  for (const [k, v] of Object.entries(summary.test as Record<string, number>)) {
    const [task, dataset, , metric] = k.split("/");
    if (metric !== "acc") continue;
    const spec = (cfg.tasks as { name: string; labels: string[] }[]).find((t) => t.name === task)!;
    const confPath = join(dir, "confusion", `epoch_${summary.bestEpoch}_${task}_${dataset}_test.csv`);
    const conf = parseCsv(await Deno.readTextFile(confPath), confPath);
    const confusion = conf.rows.map((r) => conf.columns.slice(1).map((c) => Number(r[c])));
    results.push({
      task,
      dataset,
      testAcc: v,
      testMeanClassAcc: summary.test[`${task}/${dataset}/test/mean_class_acc`],
      valAcc: summary.val[`${task}/${dataset}/val/acc`],
      classNames: spec.labels,
      confusion,
    });
  }
  return {
    method: planned.method,
    seed: planned.seed,
    datasets: cfg.datasets,
    tasks: (cfg.tasks as { name: string }[]).map((t) => t.name),
    results,
    curves,
    selectedEpoch: summary.bestEpoch,
    trainSeconds: summary.trainSeconds,
    imagesSeen: summary.imagesSeen,
    runDir: dir,
    command: `deno task ${planned.args.join(" ")}`,
    backend: cfg.backend,
    versions: Object.fromEntries(Object.entries(cfg.versions).map(([k, v]) => [k, String(v)])),
  };
}

/** The reference trains one run per task; the report wants one result per (method, seed). */
export function mergeStl(runs: RunResult[], reference: string | undefined): RunResult[] {
  const out: RunResult[] = [];
  for (const r of runs) {
    const prev = r.method === reference
      ? out.find((o) => o.method === reference && o.seed === r.seed)
      : undefined;
    if (!prev) {
      out.push({ ...r, results: [...r.results], curves: [...r.curves] });
      continue;
    }
    prev.results.push(...r.results);
    prev.curves.push(...r.curves);
    prev.datasets = [...new Set([...prev.datasets, ...r.datasets])];
    prev.tasks = [...new Set([...prev.tasks, ...r.tasks])];
    prev.trainSeconds += r.trainSeconds;
    prev.imagesSeen += r.imagesSeen;
    prev.runDir = `${prev.runDir}, ${r.runDir}`;
    prev.command = `${prev.command}; ${r.command}`;
  }
  return out;
}

/** The compare command; returns an exit code. */
export async function runCompare(args: string[], log: (s: string) => void = console.error): Promise<number> {
  const parsed = parseArgs(args, COMPARE_OPTIONS);
  const o: Options = resolveOptions(COMPARE_OPTIONS, [], parsed.options);
  if (o.help) {
    console.log(
      formatHelp("deno task compare [flags]: train every method on the same data and write report.md", [
        { heading: "Flags", specs: COMPARE_OPTIONS },
      ], { ...o, help: false }),
    );
    return 0;
  }
  const base = PROFILES[String(o.profile)];
  const profile: CompareProfile = {
    ...base,
    datasets: Array.isArray(o.datasets) && o.datasets.length ? o.datasets : base.datasets,
    model: typeof o.model === "string" ? o.model : base.model,
    imageSize: typeof o.image_size === "number" ? o.image_size : base.imageSize,
    trainSize: typeof o.train_size === "number" ? o.train_size : base.trainSize,
    passes: typeof o.passes === "number" ? o.passes : base.passes,
    seeds: typeof o.seeds === "number" ? o.seeds : base.seeds,
    lr: typeof o.lr === "number" ? o.lr : base.lr,
  };
  if (profile.datasets.length < 2) {
    throw new OptionError("--datasets: the comparison needs at least two datasets");
  }
  const plugins = await discoverPlugins();
  const methodList = Array.isArray(o.methods) && o.methods.length && !o.methods.includes("all")
    ? o.methods
    : "all";
  if (methodList !== "all") {
    for (const m of methodList) {
      if (!plugins.some((p) => p.name === m)) {
        throw new OptionError(
          `--methods: unknown method "${m}"; known: ${plugins.map((p) => p.name).join(", ")}`,
        );
      }
    }
  }
  const ts = new Date().toISOString().replace(/[-:]/g, "").replace(/\..*$/, "").replace("T", "-");
  const outDir = resolve(typeof o.out === "string" ? o.out : join("runs", `compare-${o.profile}-${ts}`));
  const extra = [`--backend=${o.backend}`, `--data_dir=${o.data_dir}`];
  const weightings = Array.isArray(o.task_weightings) && o.task_weightings.length
    ? [...new Set(o.task_weightings.map((w) => w.toLowerCase()))]
    : ["ew"];
  for (const w of weightings) {
    await findWeighting(w).catch((e) => {
      throw new OptionError(`--task_weightings: ${(e as Error).message.replace(/^--task_weighting=/, "")}`);
    });
  }
  const archs = Array.isArray(o.archs) && o.archs.length ? [...new Set(o.archs as ArchName[])] : undefined;
  const runs = planRuns(plugins, { profile, outDir, methods: methodList, extra, weightings, archs });
  await checkOutDir(outDir);
  if (bool(o, "dry_run")) {
    const settings = Object.fromEntries(
      Object.keys(o).sort().map((
        k,
      ) => [k, { value: o[k], source: parsed.explicit.has(k) ? "flag" : "default" }]),
    );
    if (o.json) {
      const planned = runs.map((r) => ({
        method: r.method,
        seed: r.seed,
        task: r.task,
        dir: r.dir,
        args: r.args,
      }));
      console.log(JSON.stringify({ dryRun: { out: outDir, profile, settings, runs: planned } }, null, 2));
    } else {
      for (const r of runs) console.log(`deno task ${r.args.join(" ")}`);
      log(`dry run: ${runs.length} runs planned into ${outDir}; nothing written`);
    }
    return 0;
  }
  const started = new Date();
  const t0 = performance.now();
  if (!bool(o, "quiet")) {
    log(`compare (${o.profile}): ${runs.length} runs, ${num(o, "jobs")} at a time, into ${outDir}`);
  }
  const queue = [...runs];
  const workers = Array.from({ length: Math.min(num(o, "jobs"), runs.length) }, async () => {
    while (queue.length > 0) {
      const r = queue.shift()!;
      await runOne(r, bool(o, "quiet") ? () => {} : log);
    }
  });
  await Promise.all(workers);
  const results: RunResult[] = [];
  for (const r of runs) results.push(await readRun(r.dir, r));
  const compare: CompareResults = {
    profile: String(o.profile),
    command: `deno task compare ${args.join(" ")}`.trim(),
    datasets: profile.datasets,
    model: profile.model,
    budget: {
      passes_per_dataset: profile.passes,
      image_size: profile.imageSize,
      train_rows_per_dataset: profile.trainSize || "all",
      batch_size: profile.batchSize,
      lr: profile.lr,
      passes_per_refresh: profile.passesPerRefresh,
      note: profile.note,
    },
    seeds: Array.from({ length: profile.seeds }, (_, i) => i + 1),
    runs: mergeStl(results, plugins.find((p) => p.role === "reference")?.name),
    machine: {
      os: Deno.build.os,
      arch: arch(),
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      hostname: hostname(),
    },
    wallSeconds: (performance.now() - t0) / 1000,
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    baseline: plugins.find((p) => p.role === "reference")?.name,
    proposed: plugins.find((p) => p.role === "proposed")?.name,
  };
  await writeReport(compare, outDir);
  if (o.json) console.log(JSON.stringify({ out: outDir, wallSeconds: compare.wallSeconds }, null, 2));
  else console.log(`report: ${join(outDir, "report.md")} (${compare.wallSeconds.toFixed(0)} s)`);
  return 0;
}
