/**
 * One run configuration: what `config.json` holds, how it is read and checked, and how a run's model
 * and data are rebuilt from it. Training, `--config`, `--resume`, `eval` and the demos all go through
 * here, so a run is rebuilt the same way everywhere (the method's model extension, weight decay, BN
 * momentum and input shape included).
 * @module
 */
import { join } from "node:path";
import { bool, num, OptionError, type Options } from "../core/options.ts";
import type { MethodPlugin } from "../core/plugin.ts";
import type { ArchName, HiddenTruth, ImageSet, MultiTaskModel, TaskSpec } from "../core/types.ts";
import { loadDataset, loadHiddenTruth } from "../datasets/mod.ts";
import { type SynthDifficulty, synthDifficulty } from "../datasets/synth/mod.ts";
import { buildModel, loadCheckpoint } from "../models/mod.ts";
import { discoverPlugins, findPlugin, loadPluginFile } from "./registry.ts";

/** Version of the toolkit recorded in every run's config. */
export const TOOLKIT_VERSION = "0.1.0";

/** Default input side per backbone (the original's: VGGFace 224, the Xceptions 64). */
export function defaultImageSize(model: string): number {
  return model === "vggFace" ? 224 : 64;
}

/** Input channels per backbone: VGGFace takes BGR, the Xceptions grayscale. */
export function channelsFor(model: string): 1 | 3 {
  return model === "vggFace" ? 3 : 1;
}

/** A run's `config.json`. */
export interface RunConfig {
  /** Method plugin name. */
  method: string;
  /** The command line that started the run. */
  command?: string;
  /** Every flag the run read, with its value. */
  options: Options;
  /** Datasets in schedule order (absent in hand-written configs of imported models). */
  datasets?: string[];
  /** The model's heads with their label names. */
  tasks: TaskSpec[];
  /** STL: the one task trained. */
  stl_task: string | null;
  /** What backend trained it, and versions (informational). */
  backend?: unknown;
  versions?: Record<string, string>;
  seed?: unknown;
  created?: string;
  /**
   * Each `--resume` of the run: when, from which outer epoch and batch (0-based, as the checkpoint has them),
   * and the versions (toolkit commit included) that continued it, which may differ from `versions`.
   */
  resumes?: { at: string; epoch: number; batch: number; versions: Record<string, string> }[];
}

/** What a run needs to rebuild its model: the method (for its model extension) and the options. */
export interface RunModelSpec {
  plugin: MethodPlugin;
  options: Options;
  heads: TaskSpec[];
}

/**
 * Read and check a config file. `flag` names the flag that pointed at it (`--config`, `--run`), so a
 * bad file gives one error line naming both.
 */
export async function readRunConfigFile(path: string, flag = "--config"): Promise<RunConfig> {
  let raw: string;
  try {
    raw = await Deno.readTextFile(path);
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound ? "no such file" : (e as Error).message.split("\n")[0];
    throw new OptionError(`${flag}: cannot read ${path} (${why})`);
  }
  let cfg: RunConfig;
  try {
    cfg = JSON.parse(raw);
  } catch (e) {
    throw new OptionError(`${flag}: ${path} is not JSON (${(e as Error).message.split("\n")[0]})`);
  }
  const bad = (what: string): never => {
    throw new OptionError(`${flag}: ${path} is not a run config (${what})`);
  };
  if (typeof cfg !== "object" || cfg === null) bad("not an object");
  if (typeof cfg.method !== "string") bad('no "method"');
  if (typeof cfg.options !== "object" || cfg.options === null) bad('no "options" object');
  if (!Array.isArray(cfg.tasks) || cfg.tasks.length === 0) bad('no "tasks" list');
  for (const t of cfg.tasks) {
    if (typeof t?.name !== "string" || !(t.classes > 0) || !Array.isArray(t.labels)) {
      bad(`a task needs name, classes and labels, got ${JSON.stringify(t)}`);
    }
  }
  if (typeof cfg.options.model !== "string") bad("options.model is missing");
  if (typeof cfg.options.image_size !== "number") bad("options.image_size is missing");
  return cfg;
}

/** Read a run directory's `config.json`. */
export function readRunConfig(dir: string, flag = "--run"): Promise<RunConfig> {
  return readRunConfigFile(join(dir, "config.json"), `${flag}=${dir}`);
}

/** The plugin that trained a run (from `methods/`, or the run's own `--plugin` file). */
export async function runPlugin(cfg: RunConfig): Promise<MethodPlugin> {
  if (typeof cfg.options.plugin === "string") {
    const p = await loadPluginFile(cfg.options.plugin);
    if (p.name === cfg.method) return p;
  }
  return findPlugin(await discoverPlugins(), cfg.method);
}

/** Build a run's model (untrained): backbone, heads, regularisation and the method's model extension. */
export function buildRunModel(spec: RunModelSpec): MultiTaskModel {
  const o = spec.options;
  const size = num(o, "image_size");
  return buildModel({
    backbone: String(o.model) as "mini_xception",
    tasks: spec.heads,
    inputShape: [size, size, channelsFor(String(o.model))],
    isDropout: bool(o, "is_dropout"),
    isBn: bool(o, "is_bn"),
    weightsDecay: typeof o.weights_decay === "number" ? o.weights_decay : 0,
    // Runs from before --arch existed have no value: they were hps.
    arch: typeof o.arch === "string" ? o.arch as ArchName : "hps",
    experts: typeof o.mmoe_experts === "number" ? o.mmoe_experts : undefined,
    seed: num(o, "seed"),
    // The toolkit's BN momentum is 0.9; the as-coded profile keeps Keras' 0.99.
    bnMomentum: bool(o, "compat") ? 0.99 : 0.9,
    extension: spec.plugin.extendModel?.(o),
    manifold: spec.plugin.manifold === true,
  });
}

/** A trained run opened for inference: its config, method and model with a checkpoint loaded. */
export interface OpenedRun {
  dir: string;
  config: RunConfig;
  plugin: MethodPlugin;
  model: MultiTaskModel;
}

/** Open a run directory: read its config, rebuild its model and load `checkpoint/<which>`. */
export async function openRun(dir: string, opts: { checkpoint?: "best" | "last" } = {}): Promise<OpenedRun> {
  const config = await readRunConfig(dir);
  const plugin = await runPlugin(config);
  const model = buildRunModel({ plugin, options: config.options, heads: config.tasks });
  const ck = join(dir, "checkpoint", opts.checkpoint ?? "best");
  try {
    await loadCheckpoint(ck, { model });
  } catch (e) {
    model.model.dispose();
    throw new OptionError(
      `--run=${dir}: cannot load the checkpoint ${ck} (${(e as Error).message.split("\n")[0]})`,
    );
  }
  return { dir, config, plugin, model };
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

/** `--val_rows` and `--test_rows` (both or neither) as held-out rows of the embedded datasets. */
export function heldOutRowsOf(o: Options): { val: number; test: number } | undefined {
  const val = typeof o.val_rows === "number" ? o.val_rows : undefined;
  const test = typeof o.test_rows === "number" ? o.test_rows : undefined;
  if (val === undefined && test === undefined) return undefined;
  if (val === undefined) {
    throw new OptionError("--test_rows: needs --val_rows too (the rows beyond the training set)");
  }
  if (test === undefined) {
    throw new OptionError("--val_rows: needs --test_rows too (the rows beyond the training set)");
  }
  return { val, test };
}

/** How a run's options load a dataset (image size and channels of its model, its seed and data knobs). */
export function datasetLoadOptions(o: Options, log: (s: string) => void = console.error) {
  const compatSplit = typeof o.compat_split === "boolean" ? o.compat_split : bool(o, "compat");
  const heldOutRows = heldOutRowsOf(o);
  if (compatSplit && heldOutRows) {
    throw new OptionError(
      "--val_rows: the original's split (--compat: fold 0 of 5, validation = test) has no held-out rows; " +
        "add --compat_split=False to keep them",
    );
  }
  return {
    dataDir: String(o.data_dir ?? "data"),
    imageSize: num(o, "image_size"),
    channels: channelsFor(String(o.model)),
    // The data has its own seed (default the run's), so a comparison can fix the data across training seeds.
    seed: typeof o.data_seed === "number" ? o.data_seed : num(o, "seed"),
    size: typeof o.train_size === "number" ? o.train_size : undefined,
    heldOutRows,
    compatSplit,
    skipBadSamples: bool(o, "skip_bad_samples"),
    log,
    difficulty: parseDifficulty(o.synth_difficulty),
    domainShift: typeof o.domain_shift === "number" ? o.domain_shift : undefined,
  };
}

/** A dataset with only the named tasks' labels (possibly none; the callers say why that is an error). */
function withTasks(set: ImageSet, names: readonly string[]): ImageSet {
  const tasks = set.tasks.filter((t) => names.includes(t.name));
  const labels = Object.fromEntries(
    tasks.map((t) => [t.name, set.labels[t.name as keyof typeof set.labels]]),
  );
  return { ...set, tasks, labels: labels as ImageSet["labels"] };
}

/** Keep only one task of a dataset (STL). */
function restrictTasks(set: ImageSet, task: string): ImageSet {
  const kept = withTasks(set, [task]);
  if (kept.tasks.length === 0) throw new OptionError(`--dataset=${set.name} has no ${task} labels`);
  return kept;
}

/** `--tasks`: a dataset's labels of the listed tasks only; a dataset left with none is an error. */
function keepTasks(set: ImageSet, only: string[]): ImageSet {
  const kept = withTasks(set, only);
  if (kept.tasks.length === 0) {
    // --tasks may be a task's default (alternative-ea's), so the message says what to change either way.
    throw new OptionError(
      `--tasks=${only.join(",")}: dataset ${set.name} labels none of them (it labels ${
        set.tasks.map((t) => t.name).join(", ")
      }); give --tasks with one of those, or another dataset`,
    );
  }
  return kept;
}

/**
 * Load and validate every dataset of a run, each restricted to the STL task or to `--tasks`, with the hidden
 * truth of synthetic ones for scoring.
 */
export async function loadRunData(
  run: { options: Options; datasets: string[]; stlTask?: string | null },
  log: (s: string) => void = console.error,
): Promise<{ sets: ImageSet[]; hidden: Map<string, HiddenTruth | null> }> {
  const loadOpts = datasetLoadOptions(run.options, log);
  const sets: ImageSet[] = [];
  const hidden = new Map<string, HiddenTruth | null>();
  const only = Array.isArray(run.options.tasks) && run.options.tasks.length > 0
    ? run.options.tasks.map(String)
    : undefined;
  for (const name of run.datasets) {
    let set = await loadDataset(name, loadOpts);
    if (run.stlTask) set = restrictTasks(set, run.stlTask);
    if (only) set = keepTasks(set, only);
    checkSplits(set);
    sets.push(set);
    hidden.set(name, await loadHiddenTruth(name, loadOpts));
  }
  const unlabelled = (only ?? []).filter((t) => !sets.some((s) => s.tasks.some((x) => x.name === t)));
  if (unlabelled.length > 0) {
    throw new OptionError(
      `--tasks=${only!.join(",")}: no dataset labels ${unlabelled.join(", ")} (datasets: ${
        run.datasets.join(", ")
      })`,
    );
  }
  return { sets, hidden };
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
