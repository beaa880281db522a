/**
 * Face-attribute predictors for the demos: a trained run (config + best checkpoint) or any built
 * {@link MultiTaskModel}. Crops go through the training preprocessing (`preprocessPixels`, fix B20),
 * so the demo sees exactly what the network was trained on.
 * @module
 */
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { preprocessPixels, type RgbaImage } from "../datasets/preprocess.ts";
import type { Options } from "../core/options.ts";
import {
  type BackboneName,
  type ModelExtension,
  type MultiTaskModel,
  TASK_NAMES,
  type TaskSpec,
} from "../core/types.ts";
import { buildModel, loadCheckpoint } from "../models/mod.ts";
import { datasetTasks, EMBEDDED_NAMES } from "../datasets/mod.ts";

/** Per-task class probabilities for a batch: n*C floats per task, row-major. */
export type Probabilities = Record<string, Float32Array>;

/** What a head learned from: real faces, only synthetic faces, or both. */
export type TrainedOn = "real" | "synthetic" | "mixed";

/** Anything that maps preprocessed face crops to per-task class probabilities. */
export interface Predictor {
  /** The heads this predictor answers, with their label names. */
  tasks: TaskSpec[];
  /** Square input side in pixels. */
  inputSize: number;
  /** 1 = grayscale, 3 = BGR (as in training). */
  channels: 1 | 3;
  /** Where it came from (a run directory, or a description). */
  source: string;
  /** Per head, what it was trained on (from the run's datasets; absent when unknown). */
  trainedOn?: Partial<Record<string, TrainedOn>>;
  /** Probabilities for `n` crops laid out as n*inputSize*inputSize*channels floats. */
  predict(crops: Float32Array, n: number): Probabilities;
  /** Free the model's weights. */
  dispose(): void;
}

/** Options of {@link predictorFromModel}. */
export interface ModelPredictorOptions {
  /** Description for logs (default: the backbone name). */
  source?: string;
  /** Rows per forward pass (default 32). */
  batchSize?: number;
}

/** Wrap a built multi-task model: softmax of each head's logits, inference mode. */
export function predictorFromModel(model: MultiTaskModel, opts: ModelPredictorOptions = {}): Predictor {
  const [h, w, c] = model.inputShape;
  if (h !== w) throw new Error(`the demo needs a square model input, got ${h}x${w}`);
  if (c !== 1 && c !== 3) throw new Error(`the demo needs 1 or 3 input channels, got ${c}`);
  const batch = opts.batchSize ?? 32;
  const per = h * w * c;
  return {
    tasks: model.tasks,
    inputSize: h,
    channels: c,
    source: opts.source ?? model.backbone,
    predict(crops: Float32Array, n: number): Probabilities {
      if (crops.length !== n * per) {
        throw new Error(`predict: expected ${n}x${h}x${w}x${c} = ${n * per} floats, got ${crops.length}`);
      }
      const out: Probabilities = {};
      for (const t of model.tasks) out[t.name] = new Float32Array(n * t.classes);
      for (let s = 0; s < n; s += batch) {
        const m = Math.min(batch, n - s);
        const probs = tf.tidy(() => {
          const x = tf.tensor4d(crops.subarray(s * per, (s + m) * per), [m, h, w, c]);
          const y = model.apply(x, false);
          return model.tasks.map((t) => {
            const logits = y.logits[t.name];
            if (!logits) throw new Error(`the model has no ${t.name} output`);
            return tf.softmax(logits);
          });
        });
        model.tasks.forEach((t, i) => {
          out[t.name].set(probs[i].dataSync() as Float32Array, s * t.classes);
          probs[i].dispose();
        });
      }
      return out;
    },
    dispose() {
      model.model.dispose();
    },
  };
}

/** One batch of answers of a {@link FaceHeads}: class probabilities plus named numbers per head. */
export interface HeadBatch {
  /** Per head, n*C probabilities (row-major). */
  probs: Probabilities;
  /** Per head, named per-crop estimates, e.g. `age: { years }`, `pose: { yaw_deg }`. */
  values?: Partial<Record<string, Record<string, Float32Array>>>;
}

/**
 * Heads that read raw RGBA face crops and do their own preprocessing (the pretrained real-face models,
 * `demo/pretrained/`); {@link predictFaces} mixes them with run predictors.
 */
export interface FaceHeads {
  /** The heads answered, in the toolkit's label spaces. */
  tasks: TaskSpec[];
  /** Description for logs and JSON. */
  source: string;
  /** Per head, what it was trained on. */
  trainedOn: Partial<Record<string, TrainedOn>>;
  /** Per head, the model behind it (recorded in the JSON). */
  models: Partial<Record<string, string>>;
  /** Answers for a batch of crops (the toolkit's clamped face crops). */
  predictRgba(crops: RgbaImage[]): Promise<HeadBatch>;
  /** Free the models' weights. */
  dispose(): void;
}

/** Either kind of head source the demos accept. */
export type HeadSource = Predictor | FaceHeads;

function isFaceHeads(p: HeadSource): p is FaceHeads {
  return typeof (p as FaceHeads).predictRgba === "function";
}

/** Preprocess RGBA crops for a predictor with the training preprocessing function. */
export function preprocessCrops(
  p: Pick<Predictor, "inputSize" | "channels">,
  crops: RgbaImage[],
): Float32Array {
  const per = p.inputSize * p.inputSize * p.channels;
  const out = new Float32Array(crops.length * per);
  crops.forEach((img, i) => preprocessPixels(img, { size: p.inputSize, channels: p.channels }, out, i * per));
  return out;
}

/** One head's answer for one face. */
export interface HeadPrediction {
  /** Head name. */
  task: string;
  /** Arg-max label name. */
  label: string;
  /** Its probability. */
  prob: number;
  /** Every class's probability, by label name. */
  probs: Record<string, number>;
  /** What the head was trained on, when known. */
  trainedOn?: TrainedOn;
  /** The model behind the head (pretrained heads). */
  model?: string;
  /** Named estimates, e.g. `years` for age, `yaw_deg` for pose. */
  values?: Record<string, number>;
}

/**
 * Run every head source on the crops; a task answered by several sources is taken from the first.
 * Returns, per crop, one prediction per task, in the toolkit's head order (emotion, pose, gender, age, ...).
 */
export async function predictFaces(sources: HeadSource[], crops: RgbaImage[]): Promise<HeadPrediction[][]> {
  const out: HeadPrediction[][] = crops.map(() => []);
  if (crops.length === 0) return out;
  const seen = new Set<string>();
  for (const p of sources) {
    const tasks = p.tasks.filter((t) => !seen.has(t.name));
    if (tasks.length === 0) continue;
    tasks.forEach((t) => seen.add(t.name));
    const batch: HeadBatch = isFaceHeads(p)
      ? await p.predictRgba(crops)
      : { probs: p.predict(preprocessCrops(p, crops), crops.length) };
    for (const t of tasks) {
      const row = batch.probs[t.name];
      if (!row) throw new Error(`${p.source}: no ${t.name} output`);
      const values = batch.values?.[t.name];
      crops.forEach((_, i) => {
        let best = 0;
        const all: Record<string, number> = {};
        for (let k = 0; k < t.classes; k++) {
          const v = row[i * t.classes + k];
          all[t.labels[k] ?? String(k)] = v;
          if (v > row[i * t.classes + best]) best = k;
        }
        const pred: HeadPrediction = {
          task: t.name,
          label: t.labels[best] ?? String(best),
          prob: row[i * t.classes + best],
          probs: all,
        };
        const trainedOn = p.trainedOn?.[t.name];
        if (trainedOn) pred.trainedOn = trainedOn;
        const model = isFaceHeads(p) ? p.models[t.name] : undefined;
        if (model) pred.model = model;
        if (values) pred.values = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v[i]]));
        out[i].push(pred);
      });
    }
  }
  const rank = (t: string) => {
    const k = (TASK_NAMES as readonly string[]).indexOf(t);
    return k < 0 ? TASK_NAMES.length : k;
  };
  for (const face of out) face.sort((a, b) => rank(a.task) - rank(b.task));
  return out;
}

/** The parts of a run's `config.json` that the demos read. */
export interface RunConfig {
  /** Method plugin name (selects a model extension). */
  method?: string;
  /** Options of the run (model, image_size, seed, ...). */
  options: Options;
  /** Heads with their label names. */
  tasks: TaskSpec[];
  /** Datasets the run trained on (decides what each head learned from). */
  datasets?: string[];
}

/**
 * What each head of a run learned from: `synthetic` when every dataset labelling that task is an
 * embedded synthetic one (`synth-*`, `digits-rot-*`), `real` when none is, `mixed` otherwise.
 * Unknown when the config lists no datasets.
 */
export function trainedOnOf(cfg: Pick<RunConfig, "datasets" | "tasks">): Partial<Record<string, TrainedOn>> {
  if (!Array.isArray(cfg.datasets) || cfg.datasets.length === 0) return {};
  const out: Partial<Record<string, TrainedOn>> = {};
  for (const t of cfg.tasks) {
    const from = cfg.datasets.filter((d) => {
      try {
        return datasetTasks(d).some((s) => s.name === t.name);
      } catch {
        return false;
      }
    });
    if (from.length === 0) continue;
    const synth = from.filter((d) => (EMBEDDED_NAMES as readonly string[]).includes(d)).length;
    out[t.name] = synth === from.length ? "synthetic" : synth === 0 ? "real" : "mixed";
  }
  return out;
}

/** Read and check a run's `config.json`; errors name the file and field. */
export async function readRunConfig(runDir: string): Promise<RunConfig> {
  const path = join(runDir, "config.json");
  let cfg: RunConfig;
  try {
    cfg = JSON.parse(await Deno.readTextFile(path)) as RunConfig;
  } catch (e) {
    throw new Error(`--run=${runDir}: cannot read ${path} (${(e as Error).message.split("\n")[0]})`);
  }
  if (typeof cfg !== "object" || cfg === null || typeof cfg.options !== "object" || cfg.options === null) {
    throw new Error(`${path}: no "options" object`);
  }
  if (!Array.isArray(cfg.tasks) || cfg.tasks.length === 0) throw new Error(`${path}: no "tasks" list`);
  for (const t of cfg.tasks) {
    if (typeof t.name !== "string" || !(t.classes > 0) || !Array.isArray(t.labels)) {
      throw new Error(`${path}: each task needs name, classes and labels (got ${JSON.stringify(t)})`);
    }
  }
  if (typeof cfg.options.model !== "string") throw new Error(`${path}: options.model is missing`);
  if (typeof cfg.options.image_size !== "number") throw new Error(`${path}: options.image_size is missing`);
  return cfg;
}

/** Input channels of a backbone (as in training: only VGGFace reads BGR). */
export function channelsOf(model: string): 1 | 3 {
  return model === "vggFace" ? 3 : 1;
}

/** Options of {@link loadRunPredictor}. */
export interface RunPredictorOptions {
  /** `best` (default) or `last`. */
  checkpoint?: "best" | "last";
  /** A model extension to rebuild the run's graph (default: the run's method plugin's, when it has one). */
  extension?: ModelExtension | null;
}

async function pluginExtension(cfg: RunConfig): Promise<{ ext?: ModelExtension; note?: string }> {
  if (!cfg.method) return {};
  try {
    // Only methods that add layers need their plugin; the registry is imported lazily.
    const { discoverPlugins, findPlugin } = await import("../core/registry.ts");
    const plugin = findPlugin(await discoverPlugins(), cfg.method);
    return { ext: plugin.extendModel?.(cfg.options) };
  } catch (e) {
    // Most methods add no layers, so the model can still be built; a mismatch shows at load time.
    return { note: `method plugin "${cfg.method}" not loaded: ${(e as Error).message.split("\n")[0]}` };
  }
}

/** Load a run's model and checkpoint as a {@link Predictor}. */
export async function loadRunPredictor(runDir: string, opts: RunPredictorOptions = {}): Promise<Predictor> {
  const cfg = await readRunConfig(runDir);
  const o = cfg.options;
  const size = o.image_size as number;
  const found = opts.extension === undefined
    ? await pluginExtension(cfg)
    : { ext: opts.extension ?? undefined };
  const extension = found.ext;
  const model = buildModel({
    backbone: o.model as BackboneName,
    tasks: cfg.tasks,
    inputShape: [size, size, channelsOf(o.model as string)],
    isDropout: o.is_dropout === true,
    isBn: o.is_bn === true,
    weightsDecay: typeof o.weights_decay === "number" ? o.weights_decay : 0,
    seed: typeof o.seed === "number" ? o.seed : 1,
    bnMomentum: o.compat === true ? 0.99 : 0.9,
    extension,
  });
  const ck = join(runDir, "checkpoint", opts.checkpoint ?? "best");
  try {
    await loadCheckpoint(ck, { model });
  } catch (e) {
    model.model.dispose();
    const why = (e as Error).message.split("\n")[0];
    throw new Error(
      `--run=${runDir}: cannot load the checkpoint ${ck} (${why})${found.note ? `; ${found.note}` : ""}`,
    );
  }
  return { ...predictorFromModel(model, { source: runDir }), trainedOn: trainedOnOf(cfg) };
}

/** Run directories (holding `config.json` and `checkpoint/best`) under `root`, newest first. */
export async function listRuns(root = "runs"): Promise<string[]> {
  const found: { dir: string; t: number }[] = [];
  const visit = async (dir: string, depth: number) => {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(dir));
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return;
      throw e;
    }
    if (entries.some((e) => e.isFile && e.name === "config.json")) {
      try {
        const st = await Deno.stat(join(dir, "checkpoint", "best"));
        const cs = await Deno.stat(join(dir, "config.json"));
        found.push({ dir, t: Math.max(st.mtime?.getTime() ?? 0, cs.mtime?.getTime() ?? 0) });
      } catch { /* a run without a best checkpoint (interrupted early) is not usable */ }
      return;
    }
    if (depth >= 3) return;
    for (const e of entries) if (e.isDirectory) await visit(join(dir, e.name), depth + 1);
  };
  await visit(root, 0);
  return found.sort((a, b) => b.t - a.t || (a.dir < b.dir ? 1 : -1)).map((f) => f.dir);
}

/** The command printed when no trained run exists. */
export const TRAIN_HINT = "deno task all-in-one --epoch=2";
