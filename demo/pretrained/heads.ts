/**
 * The `pretrained` head set: real-face models that ship inside the `@vladmandic/human` npm package,
 * loaded from the installed package files (never from a URL) and mapped into the toolkit's label spaces.
 *
 * | head    | model (human/models/)  | input (from the toolkit's face crop)  | mapping                              |
 * | ------- | ---------------------- | ------------------------------------- | ------------------------------------ |
 * | emotion | emotion.json (FER2013) | 64x64 gray, x/127.5 - 1               | 7 classes, FER2013 order as is       |
 * | gender  | faceres.json           | 224x224 RGB, 0..255                   | sigmoid p(man) -> [woman, man]       |
 * | age     | faceres.json           | same pass as gender                   | 100 one-year bins -> 8 Adience groups |
 * | pose    | facemesh.json          | 192x192 RGB, 0..1                     | mesh yaw -> 5 AFLW yaw bins          |
 *
 * Which model serves each head was chosen by agreement with hand labels of real faces
 * (`deno task demo:agreement`, docs/demo.md); pose is below its quality target and is therefore not in
 * {@link DEFAULT_PRETRAINED_TASKS}.
 * @module
 */
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs-core";
import type * as tfc from "@tensorflow/tfjs-converter";
import type { TaskName, TaskSpec } from "../../core/types.ts";
import type { RgbaImage } from "../../datasets/preprocess.ts";
import { defaultLabelSpace } from "../../datasets/label_spaces.ts";
import { loadGraphModelFile } from "../../models/graph_import.ts";
import type { FaceHeads, HeadBatch, Probabilities } from "../predictor.ts";
import { expectedYears, yearDistributionToGroups } from "./age_groups.ts";
import { yawFromMesh, yawToPoseProbs } from "./pose_from_mesh.ts";

/** Heads the pretrained set can answer, in the toolkit's head order. */
export const PRETRAINED_TASKS: readonly TaskName[] = ["emotion", "pose", "gender", "age"];

/** Heads that meet their quality target on the hand-labelled real faces (the demos' default). */
export const DEFAULT_PRETRAINED_TASKS: readonly TaskName[] = ["emotion", "gender", "age"];

/** The model file behind each pretrained head, relative to `@vladmandic/human/models/`. */
export const PRETRAINED_MODELS: Readonly<Record<string, string>> = {
  emotion: "emotion.json",
  pose: "facemesh.json",
  gender: "faceres.json",
  age: "faceres.json",
};

/** Folder of the models inside the installed `@vladmandic/human` package. */
export function humanModelDir(): string {
  return fileURLToPath(new URL("../../node_modules/@vladmandic/human/models/", import.meta.url));
}

/** Options of {@link loadPretrainedHeads}. */
export interface PretrainedOptions {
  /** Heads to answer (default {@link DEFAULT_PRETRAINED_TASKS}). */
  tasks?: readonly string[];
  /** Folder holding the human model files (default {@link humanModelDir}). */
  modelDir?: string;
}

/** Parse a head list such as `age,gender` against the pretrained set; the error names the flag value. */
export function parsePretrainedTasks(list: string): TaskName[] {
  const names = list.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
  if (names.length === 0) throw new Error(`no head named (expected some of ${PRETRAINED_TASKS.join(", ")})`);
  for (const n of names) {
    if (!(PRETRAINED_TASKS as readonly string[]).includes(n)) {
      throw new Error(`unknown pretrained head "${n}" (known: ${PRETRAINED_TASKS.join(", ")})`);
    }
  }
  return PRETRAINED_TASKS.filter((t) => names.includes(t));
}

/** RGB float tensor [1, h, w, 3] (0..255) of an RGBA crop. */
function rgbTensor(img: RgbaImage): tf.Tensor4D {
  const n = img.width * img.height;
  const rgb = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) {
    rgb[3 * i] = img.data[4 * i];
    rgb[3 * i + 1] = img.data[4 * i + 1];
    rgb[3 * i + 2] = img.data[4 * i + 2];
  }
  return tf.tensor4d(rgb, [1, img.height, img.width, 3]);
}

function outputBySize(outs: tf.Tensor | tf.Tensor[], size: number, what: string): tf.Tensor {
  const list = Array.isArray(outs) ? outs : [outs];
  const t = list.find((o) => o.shape[o.shape.length - 1] === size);
  if (!t) throw new Error(`${what}: no output of size ${size} (got ${list.map((o) => o.shape).join(" ")})`);
  return t;
}

/** Load the pretrained heads as a {@link FaceHeads} source. */
export async function loadPretrainedHeads(opts: PretrainedOptions = {}): Promise<FaceHeads> {
  const wanted = opts.tasks ?? DEFAULT_PRETRAINED_TASKS;
  const tasks: TaskSpec[] = PRETRAINED_TASKS.filter((t) => wanted.includes(t)).map((t) =>
    defaultLabelSpace(t)
  );
  if (tasks.length === 0) throw new Error(`no pretrained head among ${wanted.join(", ")}`);
  const dir = opts.modelDir ?? humanModelDir();
  const graphs = new Map<string, tfc.GraphModel>();
  const load = async (file: string) => {
    if (!graphs.has(file)) {
      try {
        graphs.set(file, await loadGraphModelFile(`${dir}${dir.endsWith("/") ? "" : "/"}${file}`));
      } catch (e) {
        graphs.forEach((g) => g.dispose());
        throw new Error(
          `pretrained heads: cannot load ${file} from ${dir} (${(e as Error).message.split("\n")[0]}); ` +
            "run `deno install` so that @vladmandic/human is in node_modules",
        );
      }
    }
    return graphs.get(file)!;
  };
  const has = (t: string) => tasks.some((s) => s.name === t);
  const emotion = has("emotion") ? await load(PRETRAINED_MODELS.emotion) : undefined;
  const faceres = has("gender") || has("age") ? await load(PRETRAINED_MODELS.gender) : undefined;
  const mesh = has("pose") ? await load(PRETRAINED_MODELS.pose) : undefined;
  const models = Object.fromEntries(
    tasks.map((t) => [t.name, `@vladmandic/human ${PRETRAINED_MODELS[t.name]}`]),
  );
  return {
    tasks,
    source: `pretrained (${tasks.map((t) => t.name).join(", ")})`,
    trainedOn: Object.fromEntries(tasks.map((t) => [t.name, "real" as const])),
    models,
    predictRgba(crops: RgbaImage[]): Promise<HeadBatch> {
      const n = crops.length;
      const probs: Probabilities = {};
      for (const t of tasks) probs[t.name] = new Float32Array(n * t.classes);
      const years = new Float32Array(n), yaw = new Float32Array(n);
      crops.forEach((crop, i) => {
        const rows = tf.tidy(() => {
          const x = rgbTensor(crop);
          const r: Record<string, Float32Array> = {};
          if (emotion) {
            // human's emotion preprocessing: bilinear 64x64, BT.601 gray in 0..1, then (g - 0.5) * 2.
            const gray = tf.sum(
              tf.mul(tf.image.resizeBilinear(x, [64, 64]), tf.tensor1d([0.2989, 0.587, 0.114])),
              3,
              true,
            );
            const g = tf.mul(tf.sub(tf.div(gray, 255), 0.5), 2);
            r.emotion = outputBySize(emotion.execute(g) as tf.Tensor, 7, "emotion.json")
              .dataSync() as Float32Array;
          }
          if (faceres) {
            const outs = faceres.execute(tf.image.resizeBilinear(x, [224, 224])) as tf.Tensor[];
            r.man = outputBySize(outs, 1, "faceres.json").dataSync() as Float32Array;
            r.ageBins = outputBySize(outs, 100, "faceres.json").dataSync() as Float32Array;
          }
          if (mesh) {
            const outs = mesh.execute(tf.div(tf.image.resizeBilinear(x, [192, 192]), 255)) as tf.Tensor[];
            r.mesh = outputBySize(outs, 1404, "facemesh.json").dataSync() as Float32Array;
          }
          return r;
        });
        if (rows.emotion) probs.emotion?.set(rows.emotion, i * 7);
        if (rows.man) {
          const pm = Math.min(1, Math.max(0, rows.man[0]));
          probs.gender?.set([1 - pm, pm], i * 2);
        }
        if (rows.ageBins) {
          probs.age?.set(yearDistributionToGroups(rows.ageBins), i * 8);
          years[i] = expectedYears(rows.ageBins);
        }
        if (rows.mesh) {
          yaw[i] = yawFromMesh(rows.mesh);
          probs.pose?.set(yawToPoseProbs(yaw[i]), i * 5);
        }
      });
      const values: HeadBatch["values"] = {};
      if (has("age")) values.age = { years };
      if (has("pose")) values.pose = { yaw_deg: yaw };
      return Promise.resolve({ probs, values });
    },
    dispose() {
      graphs.forEach((g) => g.dispose());
      graphs.clear();
    },
  };
}
