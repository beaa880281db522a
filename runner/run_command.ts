/**
 * Executing a resolved training command: validate every input (datasets load and check, the model
 * builds) before anything is written, then create the run directory, write `config.json`, train,
 * and write `summary.json` and the run's plots. `--dry_run` stops after validation.
 * @module
 */
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { type BackendInfo, type BackendName, initBackend } from "./backend.ts";
import { writeJsonAtomic } from "../core/fs.ts";
import { bool, num, OptionError } from "../core/options.ts";
import type { ResolvedRun } from "./commands.ts";
import type { ImageSet, MultiTaskModel } from "../core/types.ts";
import { runTraining, type TrainSummary } from "./train/trainer.ts";
import type { CheckpointIO, TrainState } from "./train/checkpoint_io.ts";
import type { TeacherTargets } from "./train/teacher.ts";
import { recalibrateBatchNorm } from "../models/mod.ts";
import { hasCheckpoint, loadCheckpoint, saveCheckpoint } from "../models/checkpoint.ts";
import { loadInitWeights } from "../models/init_weights.ts";
import type { BuiltModel } from "../models/build.ts";
import { writeRunPlots } from "./train/plots.ts";
import { checkOutDir } from "../core/out_dir.ts";
import { buildRunModel, headsOf, loadRunData, type RunConfig, TOOLKIT_VERSION } from "./run_config.ts";
import { toolkitCommit } from "./toolkit_commit.ts";

/** What `--dry_run` resolved: every setting with its source, the data and the model's heads. */
export interface DryRunReport {
  /** The method (a plugin name). */
  method: string;
  /** Each dataset with its split sizes. */
  datasets: { name: string; train: number; val: number; test: number }[];
  /** The model's heads. */
  heads: { task: string; classes: number }[];
  /** The run directory it would write. */
  out: string;
  /** Every option with its value and where it came from (default, task, preset, config, flag). */
  settings: Record<string, { value: unknown; source: string }>;
}

/** What {@link executeRun} returns. */
export interface RunOutcome {
  dir: string | null;
  summary: TrainSummary | null;
  backend: BackendInfo;
  /** Set by `--dry_run` (nothing was written). */
  dryRun?: DryRunReport;
}

/** Default run directory: `runs/<method>-<datasets>-<timestamp>`. */
export function defaultRunDir(run: ResolvedRun): string {
  const ts = new Date().toISOString().replace(/[-:]/g, "").replace(/\..*$/, "").replace("T", "-");
  return join("runs", `${run.plugin.name}-${run.datasets.join("+")}-${ts}`);
}

/** Checkpoint storage under `<dir>/checkpoint/{last,best}`. */
export function checkpointIO(dir: string, resumeFrom?: string): CheckpointIO {
  return {
    async save(which, { model, optimizer, state }) {
      // Teacher targets travel as typed-array blobs, the rest as JSON.
      const { targets, ...rest } = state;
      const blobs: Record<string, Float32Array> = {};
      const meta = (targets ?? []).map((t, i) => {
        blobs[`target${i}`] = t.targets;
        if (t.temperature) blobs[`temperature${i}`] = t.temperature;
        return { dataset: t.dataset, task: t.task, classes: t.classes, stats: t.stats };
      });
      await saveCheckpoint(join(dir, "checkpoint", which), {
        model,
        optimizer,
        state: { ...rest, targetMeta: meta },
        blobs,
      });
    },
    async restoreOptimizer(optimizer) {
      if (!resumeFrom) return;
      await loadCheckpoint(resumeFrom, { optimizer });
    },
    async restoreBest(model) {
      const { state } = await loadCheckpoint(join(dir, "checkpoint", "best"), { model });
      return Number((state as { epoch?: unknown }).epoch);
    },
  };
}

/** Test and embedding hooks of {@link executeRun}. */
export interface RunHooks {
  /** Inspect or modify the loaded datasets before training (e.g. inject a fault). */
  afterLoad?: (sets: ImageSet[]) => void;
  /** Called after each outer epoch (1-based) with its log.csv row. */
  onEpochEnd?: (epoch: number, row: Record<string, number | string>) => void;
}

/** Validate, then train (or stop after validation with `--dry_run`). */
export async function executeRun(
  run: ResolvedRun,
  log: (s: string) => void,
  hooks: RunHooks = {},
): Promise<RunOutcome> {
  const o = run.options;
  const quiet = bool(o, "quiet");
  // One training command uses every core unless told otherwise; the count in effect is recorded in
  // config.json, so --config and --resume run with the same threads.
  const threads = typeof o.threads === "number" ? o.threads : navigator.hardwareConcurrency ?? 1;
  const backend = await initBackend({
    backend: String(o.backend ?? "auto") as BackendName,
    threads,
    quiet,
    autoWebgpu: o.model === "vggFace",
    // auto reads runner/gpu_table.ts for this model and input side.
    workload: `${o.model}${num(o, "image_size")}`,
  });
  if (!bool(o, "resume")) await checkOutDir(typeof o.out === "string" ? o.out : "runs");
  const { sets, hidden } = await loadRunData(run, log);
  hooks.afterLoad?.(sets);
  const heads = headsOf(sets);
  let resumeState: TrainState | undefined;
  let dir: string;
  let model: MultiTaskModel;
  try {
    model = buildRunModel({ plugin: run.plugin, options: o, heads });
  } catch (e) {
    // Shapes a backbone cannot take (e.g. VGGFace below 32 px) surface here, before anything is written.
    throw new OptionError(
      `--model=${o.model} --image_size=${o.image_size}: cannot build the model (${
        (e as Error).message.split("\n")[0]
      })`,
    );
  }
  if (bool(o, "resume")) {
    const runs = Array.isArray(o.run) ? o.run : [];
    if (runs.length !== 1) throw new OptionError("--resume needs exactly one --run=DIR");
    dir = runs[0];
    const ck = join(dir, "checkpoint", "last");
    const loaded = await loadCheckpoint(ck, { model });
    const st = loaded.state as TrainState & { targetMeta?: Omit<TeacherTargets, "targets">[] };
    const targets = (st.targetMeta ?? []).map((m, i) => ({
      ...m,
      targets: loaded.blobs[`target${i}`] as Float32Array,
      temperature: loaded.blobs[`temperature${i}`] as Float32Array | undefined,
    }));
    delete st.targetMeta;
    resumeState = { ...st, targets: targets.length ? targets : undefined };
    if (!bool(o, "dry_run")) await recordResume(dir, st);
  } else {
    dir = typeof o.out === "string" ? o.out : defaultRunDir(run);
    if (typeof o.init_weights === "string") await initWeights(model, o.init_weights, log);
  }
  if (bool(o, "dry_run")) {
    model.model.dispose();
    const dryRun: DryRunReport = {
      method: run.plugin.name,
      datasets: sets.map((s) => ({
        name: s.name,
        train: s.split.train.length,
        val: s.split.val.length,
        test: s.split.test.length,
      })),
      heads: heads.map((h) => ({ task: h.name, classes: h.classes })),
      out: dir,
      settings: Object.fromEntries(
        Object.keys(o).sort().map((k) => [k, { value: o[k], source: run.sources[k] ?? "default" }]),
      ),
    };
    return { dir: null, summary: null, backend, dryRun };
  }
  if (!resumeState) {
    await ensureFreshDir(dir);
    o.threads = threads;
    const config: RunConfig = {
      method: run.plugin.name,
      command: run.command,
      options: o,
      datasets: run.datasets,
      tasks: heads,
      stl_task: run.stlTask ?? null,
      backend,
      versions: await runVersions(),
      seed: o.seed,
      created: new Date().toISOString(),
    };
    await writeJsonAtomic(join(dir, "config.json"), config);
  }
  const stop = { requested: false };
  let firstSignal = 0;
  const onSignal = () => {
    // Signals within 2 s are one: a terminal's Ctrl-C reaches this run and its compare, which passes it on.
    if (stop.requested && Date.now() - firstSignal > 2000) Deno.exit(130);
    if (stop.requested) return;
    stop.requested = true;
    firstSignal = Date.now();
    log("stopping after the current step (signal again after 2 s to abort without a checkpoint)");
  };
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  for (const s of signals) Deno.addSignalListener(s, onSignal);
  try {
    const summary = await runTraining({
      plugin: run.plugin,
      options: o,
      sets,
      hidden,
      model,
      outDir: dir,
      checkpoints: checkpointIO(dir, resumeState ? join(dir, "checkpoint", "last") : undefined),
      resumeState,
      stop,
      recalibrate: (m, x) => recalibrateBatchNorm(m, x),
      log,
      onEpochEnd: hooks.onEpochEnd,
    });
    if (!summary.interrupted) {
      // The run is done and saved; plots that cannot be drawn here (no font, no renderer) cost a warning.
      await writeRunPlots(dir).catch((e) =>
        log(`warning: plots not written: ${(e as Error).message.split("\n")[0]}`)
      );
    }
    return { dir, summary, backend };
  } finally {
    for (const s of signals) Deno.removeSignalListener(s, onSignal);
    model.model.dispose();
  }
}

/** `--init_weights`: a checkpoint directory of ours, a run directory, or a tfjs layers model.json. */
async function initWeights(model: MultiTaskModel, path: string, log: (s: string) => void): Promise<void> {
  const info = await Deno.stat(path).catch(() => null);
  if (!info) throw new OptionError(`--init_weights=${path}: no such file or directory`);
  if (info.isFile && !path.endsWith(".json")) {
    throw new OptionError(
      `--init_weights=${path}: not a checkpoint directory, a run directory or a tfjs model.json`,
    );
  }
  const candidates = info.isDirectory ? [path, join(path, "checkpoint", "best")] : [];
  for (const c of candidates) {
    if (await hasCheckpoint(c)) {
      await loadCheckpoint(c, { model });
      log(`initial weights: checkpoint ${c}`);
      return;
    }
  }
  if (path.endsWith(".json")) {
    const report = await loadInitWeights(model as BuiltModel, path).catch((e) => {
      if (e instanceof OptionError) throw e;
      throw new OptionError(`--init_weights=${path}: cannot load (${(e as Error).message.split("\n")[0]})`);
    });
    log(`initial weights: ${report.loaded.length} tensors from ${path} (${report.format})`);
    for (const n of report.notes) log(`  ${n}`);
    return;
  }
  throw new OptionError(
    `--init_weights=${path}: not a checkpoint directory, a run directory or a tfjs model.json`,
  );
}

async function ensureFreshDir(dir: string): Promise<void> {
  try {
    const entries = [];
    for await (const e of Deno.readDir(dir)) entries.push(e.name);
    if (entries.includes("config.json")) {
      throw new OptionError(
        `--out=${dir} already holds a run; choose another directory or --resume --run=${dir}`,
      );
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  await Deno.mkdir(dir, { recursive: true });
}

/** Adds this resume to the run's config.json (`resumes`): a run may be continued by other code than started it. */
async function recordResume(dir: string, st: { epoch: number; batch: number }): Promise<void> {
  const path = join(dir, "config.json");
  const config = await Deno.readTextFile(path).then(JSON.parse).catch(() => null) as RunConfig | null;
  if (config === null) return;
  const entry = {
    at: new Date().toISOString(),
    epoch: st.epoch,
    batch: st.batch,
    versions: await runVersions(),
  };
  await writeJsonAtomic(path, { ...config, resumes: [...config.resumes ?? [], entry] });
}

/** What a run records of the code that trained it: toolkit version and commit, TensorFlow.js, Deno. */
async function runVersions(): Promise<Record<string, string>> {
  const commit = await toolkitCommit();
  return {
    toolkit: TOOLKIT_VERSION,
    ...(commit ? { commit } : {}),
    tfjs: tf.version_core,
    deno: Deno.version.deno,
  };
}
