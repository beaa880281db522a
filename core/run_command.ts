/**
 * Executing a resolved training command: validate every input (datasets load and check, the model
 * builds) before anything is written, then create the run directory, write `config.json`, train,
 * and write `summary.json` and the run's plots. `--dry_run` stops after validation.
 * @module
 */
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { type BackendInfo, type BackendName, initBackend } from "./backend.ts";
import { writeJsonAtomic } from "./fs.ts";
import { bool, num, OptionError } from "./options.ts";
import type { ResolvedRun } from "./commands.ts";
import { channelsFor } from "./commands.ts";
import type { HiddenTruth, ImageSet, MultiTaskModel, TaskSpec } from "./types.ts";
import { runTraining, type TrainSummary } from "./train/trainer.ts";
import type { CheckpointIO, TrainState } from "./train/checkpoint_io.ts";
import type { TeacherTargets } from "./train/teacher.ts";
import { loadDataset, loadHiddenTruth } from "../datasets/mod.ts";
import { type SynthDifficulty, synthDifficulty } from "../datasets/synth_faces.ts";
import { buildModel, recalibrateBatchNorm } from "../models/mod.ts";
import { hasCheckpoint, loadCheckpoint, saveCheckpoint } from "../models/checkpoint.ts";
import { loadInitWeights } from "../models/init_weights.ts";
import type { BuiltModel } from "../models/build.ts";
import { writeRunPlots } from "./train/plots.ts";

/** Versions recorded in every run's config. */
export const TOOLKIT_VERSION = "0.1.0";

/** What {@link executeRun} returns. */
export interface RunOutcome {
  dir: string | null;
  summary: TrainSummary | null;
  backend: BackendInfo;
}

/** Keep only one task of a dataset (STL). */
function restrictTasks(set: ImageSet, task: string): ImageSet {
  const tasks = set.tasks.filter((t) => t.name === task);
  if (tasks.length === 0) throw new OptionError(`--dataset=${set.name} has no ${task} labels`);
  return { ...set, tasks, labels: { [task]: set.labels[task as keyof typeof set.labels] } };
}

/** The model's heads: the union of the datasets' tasks (class counts must agree). */
export function headsOf(sets: ImageSet[]): TaskSpec[] {
  const heads: TaskSpec[] = [];
  for (const s of sets) {
    for (const t of s.tasks) {
      const prev = heads.find((h) => h.name === t.name);
      if (!prev) heads.push(t);
      else if (prev.classes !== t.classes) {
        throw new OptionError(
          `datasets disagree on the ${t.name} label space (${prev.classes} vs ${t.classes} classes, ${s.name}); ` +
            `train them in separate runs`,
        );
      }
    }
  }
  return heads;
}

/** Load and validate every dataset of a run. */
export async function loadRunData(
  run: ResolvedRun,
  log: (s: string) => void = console.error,
): Promise<{ sets: ImageSet[]; hidden: Map<string, HiddenTruth | null> }> {
  const o = run.options;
  const model = String(o.model);
  const loadOpts = {
    dataDir: String(o.data_dir ?? "data"),
    imageSize: num(o, "image_size"),
    channels: channelsFor(model),
    seed: num(o, "seed"),
    size: typeof o.train_size === "number" ? o.train_size : undefined,
    compatSplit: bool(o, "compat"),
    skipBadSamples: bool(o, "skip_bad_samples"),
    log,
    difficulty: parseDifficulty(o.synth_difficulty),
  };
  const sets: ImageSet[] = [];
  const hidden = new Map<string, HiddenTruth | null>();
  for (const name of run.datasets) {
    let set = await loadDataset(name, loadOpts);
    if (run.stlTask) set = restrictTasks(set, run.stlTask);
    checkSplits(set);
    sets.push(set);
    hidden.set(name, await loadHiddenTruth(name, loadOpts));
  }
  return { sets, hidden };
}

/** `--synth_difficulty=knob=value,...` -> overrides of the synthetic faces' nuisance knobs. */
export function parseDifficulty(v: unknown): Partial<SynthDifficulty> | undefined {
  if (!Array.isArray(v) || v.length === 0) return undefined;
  const known = Object.keys(synthDifficulty("synth-emotion"));
  const out: Record<string, number> = {};
  for (const item of v as string[]) {
    const m = /^([A-Za-z]+)=([0-9.eE+-]+)$/.exec(item);
    const value = m ? Number(m[2]) : NaN;
    if (!m || !known.includes(m[1]) || !Number.isFinite(value) || value < 0) {
      throw new OptionError(
        `--synth_difficulty: got "${item}", expected knob=value with value >= 0 and knob one of ${
          known.join(", ")
        }`,
      );
    }
    out[m[1]] = value;
  }
  return out as Partial<SynthDifficulty>;
}

/** An empty split, or a class that is evaluated but never trained, stops the run before it starts. */
export function checkSplits(set: ImageSet): void {
  if (set.n === 0) throw new OptionError(`dataset ${set.name}: no rows (empty dataset)`);
  for (const k of ["train", "val"] as const) {
    if (set.split[k].length === 0) {
      throw new OptionError(`dataset ${set.name}: the ${k} split is empty (${set.n} rows)`);
    }
  }
  for (const t of set.tasks) {
    const lab = set.labels[t.name]!;
    const inTrain = new Set<number>();
    for (const r of set.split.train) inTrain.add(lab[r]);
    for (const k of ["val", "test"] as const) {
      for (const r of set.split[k]) {
        const c = lab[r];
        if (c >= 0 && !inTrain.has(c)) {
          throw new OptionError(
            `dataset ${set.name}: class ${c} (${
              t.labels[c]
            }) of ${t.name} is in the ${k} split but not in the train split; ` +
              `add training rows of that class or drop them`,
          );
        }
      }
    }
  }
}

/** Default run directory: `runs/<method>-<datasets>-<timestamp>`. */
export function defaultRunDir(run: ResolvedRun): string {
  const ts = new Date().toISOString().replace(/[-:]/g, "").replace(/\..*$/, "").replace("T", "-");
  return join("runs", `${run.plugin.name}-${run.datasets.join("+")}-${ts}`);
}

/** Build the run's model (with the plugin's extension). */
export function modelFor(run: ResolvedRun, heads: TaskSpec[]): MultiTaskModel {
  const o = run.options;
  const size = num(o, "image_size");
  return buildModel({
    backbone: String(o.model) as "mini_xception",
    tasks: heads,
    inputShape: [size, size, channelsFor(String(o.model))],
    isDropout: bool(o, "is_dropout"),
    isBn: bool(o, "is_bn"),
    weightsDecay: typeof o.weights_decay === "number" ? o.weights_decay : 0,
    seed: num(o, "seed"),
    bnMomentum: bool(o, "compat") ? 0.99 : 0.9,
    extension: run.plugin.extendModel?.(o),
  });
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
  };
}

/** Test and embedding hooks of {@link executeRun}. */
export interface RunHooks {
  /** Inspect or modify the loaded datasets before training (e.g. inject a fault). */
  afterLoad?: (sets: ImageSet[]) => void;
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
  const backend = await initBackend({
    backend: String(o.backend ?? "auto") as BackendName,
    quiet,
    autoWebgpu: o.model === "vggFace",
    // auto reads core/gpu_table.ts for this model and input side.
    workload: `${o.model}${num(o, "image_size")}`,
  });
  const { sets, hidden } = await loadRunData(run, log);
  hooks.afterLoad?.(sets);
  const heads = headsOf(sets);
  let resumeState: TrainState | undefined;
  let dir: string;
  const model = modelFor(run, heads);
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
    }));
    delete st.targetMeta;
    resumeState = { ...st, targets: targets.length ? targets : undefined };
  } else {
    dir = typeof o.out === "string" ? o.out : defaultRunDir(run);
    if (typeof o.init_weights === "string") await initWeights(model, o.init_weights, log);
  }
  if (bool(o, "dry_run")) {
    model.model.dispose();
    log(
      `dry run: ${run.plugin.name} on ${
        sets.map((s) =>
          `${s.name} (${s.split.train.length}/${s.split.val.length}/${s.split.test.length} train/val/test)`
        ).join(", ")
      }, heads ${heads.map((h) => `${h.name}:${h.classes}`).join(" ")}; nothing written`,
    );
    return { dir: null, summary: null, backend };
  }
  if (!resumeState) {
    await ensureFreshDir(dir);
    await writeJsonAtomic(join(dir, "config.json"), {
      method: run.plugin.name,
      command: run.command,
      options: o,
      datasets: run.datasets,
      tasks: heads,
      stl_task: run.stlTask ?? null,
      backend,
      versions: { toolkit: TOOLKIT_VERSION, tfjs: tf.version_core, deno: Deno.version.deno },
      seed: o.seed,
      created: new Date().toISOString(),
    });
  }
  const stop = { requested: false };
  const onSignal = () => {
    if (stop.requested) Deno.exit(130);
    stop.requested = true;
    log("stopping after the current step (signal again to abort without a checkpoint)");
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
    if (!summary.interrupted) await writeRunPlots(dir);
    return { dir, summary, backend };
  } finally {
    for (const s of signals) Deno.removeSignalListener(s, onSignal);
    model.model.dispose();
  }
}

/** `--init_weights`: a checkpoint directory of ours, a run directory, or a tfjs layers model.json. */
async function initWeights(model: MultiTaskModel, path: string, log: (s: string) => void): Promise<void> {
  const candidates = [path, join(path, "checkpoint", "best")];
  for (const c of candidates) {
    if (await hasCheckpoint(c)) {
      await loadCheckpoint(c, { model });
      log(`initial weights: checkpoint ${c}`);
      return;
    }
  }
  if (path.endsWith(".json")) {
    const report = await loadInitWeights(model as BuiltModel, path);
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
