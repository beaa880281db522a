/**
 * Face-attribute predictors for the demos: a trained run (config + best checkpoint) or any built
 * {@link MultiTaskModel}. Crops go through the training preprocessing (`preprocessPixels`, docs/original.md B20),
 * so the demo sees exactly what the network was trained on.
 * @module
 */
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { preprocessPixels, type RgbaImage } from "../datasets/preprocess.ts";
import type { MultiTaskModel, TaskSpec } from "../core/types.ts";
import { TASK_NAMES } from "../core/types.ts";
import { type OpenedRun, openRun, type RunConfig } from "../runner/run_config.ts";
import { argmaxRow } from "../core/metrics.ts";
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
        const best = argmaxRow(row, i, t.classes);
        const all: Record<string, number> = {};
        for (let k = 0; k < t.classes; k++) all[t.labels[k] ?? String(k)] = row[i * t.classes + k];
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

export { readRunConfig, type RunConfig } from "../runner/run_config.ts";

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

/** Options of {@link loadRunPredictor}. */
export interface RunPredictorOptions {
  /** `best` (default) or `last`. */
  checkpoint?: "best" | "last";
}

/** Load a run's model and checkpoint as a {@link Predictor} (rebuilt by the run-configuration module). */
export async function loadRunPredictor(runDir: string, opts: RunPredictorOptions = {}): Promise<Predictor> {
  const { model, config }: OpenedRun = await openRun(runDir, { checkpoint: opts.checkpoint ?? "best" });
  return { ...predictorFromModel(model, { source: runDir }), trainedOn: trainedOnOf(config) };
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
