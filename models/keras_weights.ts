/**
 * Initial weights from a model converted to the TensorFlow.js layers format (`model.json` +
 * `group*.bin`), matched by layer name. This is how a run starts VGGFace from the keras-vggface
 * weights (`--init_weights=PATH`): convert the Keras HDF5 file once with
 * `tensorflowjs_converter --input_format keras vggface_notop.h5 out/` and pass `out/model.json`.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { dirname, join } from "node:path";
import type { MultiTaskModel } from "../core/types.ts";
import { namedModelWeights } from "./checkpoint.ts";

/** What {@link loadLayersWeights} did. */
export interface WeightLoadReport {
  /** Model weight keys (`layer/param`) that received values. */
  loaded: string[];
  /** File weights with no layer of that name in the model. */
  skipped: string[];
  /** Model weights the file did not provide (left as initialised). */
  untouched: string[];
}

/** Options of {@link loadLayersWeights}. */
export interface LoadLayersWeightsOptions {
  /** Fail unless at least this many weights were loaded (default 1: a file that matches nothing is an error). */
  minLoaded?: number;
}

interface WeightsGroup {
  paths: string[];
  weights: tf.io.WeightsManifestEntry[];
}

/** A tfjs model.json with its weight shards concatenated in manifest order. */
export interface ModelFiles {
  /** The parsed model.json. */
  json: Record<string, unknown>;
  /** Weight specs of all manifest groups, in order. */
  specs: tf.io.WeightsManifestEntry[];
  /** The shards' bytes, concatenated. */
  data: ArrayBuffer;
}

/** Read a tfjs `model.json` (layers or graph format) and concatenate its weight shards. */
export async function readModelFiles(modelJsonPath: string): Promise<ModelFiles> {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(await Deno.readTextFile(modelJsonPath));
  } catch (e) {
    throw new Error(`${modelJsonPath}: cannot read model.json (${(e as Error).message})`);
  }
  const groups = json.weightsManifest as WeightsGroup[] | undefined;
  if (!Array.isArray(groups)) throw new Error(`${modelJsonPath}: no weightsManifest (not a tfjs model.json)`);
  const parts: Uint8Array[] = [];
  for (const g of groups) {
    for (const p of g.paths) {
      const path = join(dirname(modelJsonPath), p);
      try {
        parts.push(await Deno.readFile(path));
      } catch (e) {
        throw new Error(`${path}: cannot read weights shard (${(e as Error).message})`);
      }
    }
  }
  const all = new Uint8Array(parts.reduce((a, p) => a + p.byteLength, 0));
  let off = 0;
  for (const p of parts) {
    all.set(p, off);
    off += p.byteLength;
  }
  return { json, specs: groups.flatMap((g) => g.weights), data: all.buffer };
}

/** Read a tfjs model.json and decode its weights into named tensors (the caller disposes them). */
export async function readWeightsManifest(
  modelJsonPath: string,
): Promise<{ json: Record<string, unknown>; tensors: tf.NamedTensorMap }> {
  const { json, specs, data } = await readModelFiles(modelJsonPath);
  try {
    return { json, tensors: tf.io.decodeWeights(data, specs) };
  } catch (e) {
    throw new Error(`${modelJsonPath}: weights do not match the manifest (${(e as Error).message})`);
  }
}

/** `conv1_1/kernel:0`, `vggface_vgg16/conv1_1/kernel` → `conv1_1/kernel`. */
function weightKey(name: string): string {
  const parts = name.replace(/:\d+$/, "").split("/");
  return parts.slice(-2).join("/");
}

/**
 * Copy weights from a tfjs layers-format model (converted from Keras) into `model`, matching
 * `<layer>/<param>` names. A weight whose shape differs is an error naming the layer; names absent from
 * the model are skipped and reported.
 */
export async function loadLayersWeights(
  model: MultiTaskModel | tfl.LayersModel,
  modelJsonPath: string,
  opts: LoadLayersWeightsOptions = {},
): Promise<WeightLoadReport> {
  const { tensors } = await readWeightsManifest(modelJsonPath);
  const ours = namedModelWeights(model);
  const report: WeightLoadReport = { loaded: [], skipped: [], untouched: [] };
  try {
    const plan: [tfl.LayerVariable, tf.Tensor][] = [];
    for (const [name, t] of Object.entries(tensors)) {
      const key = weightKey(name);
      const w = ours.get(key);
      if (!w) {
        report.skipped.push(name);
        continue;
      }
      if (w.shape.join(",") !== t.shape.join(",")) {
        throw new Error(`${modelJsonPath}: ${name} has shape [${t.shape}], layer ${key} needs [${w.shape}]`);
      }
      plan.push([w, t]);
      report.loaded.push(key);
    }
    const minLoaded = opts.minLoaded ?? 1;
    if (report.loaded.length < minLoaded) {
      throw new Error(
        `${modelJsonPath}: only ${report.loaded.length} weight(s) match the model's layer names (need ${minLoaded}); ` +
          `file names look like ${Object.keys(tensors).slice(0, 3).join(", ")}`,
      );
    }
    for (const [w, t] of plan) w.write(t);
    const done = new Set(report.loaded);
    report.untouched = [...ours.keys()].filter((k) => !done.has(k));
    return report;
  } finally {
    tf.dispose(Object.values(tensors));
  }
}
