/**
 * `--init_weights=PATH`: start a run from pretrained weights. A tfjs layers-format `model.json`
 * (e.g. keras-vggface converted with `tensorflowjs_converter --input_format keras`) is matched by layer
 * name; a tfjs graph model (`format: "graph-model"`, e.g. human's FER2013 `emotion.json`) goes through
 * the `big_xception` importer.
 * @module
 */
import type { BuiltModel } from "./build.ts";
import { importGraphEmotionModel } from "./graph_import.ts";
import { loadLayersWeights } from "./keras_weights.ts";

/** What {@link loadInitWeights} loaded. */
export interface InitWeightsReport {
  /** `graph-model` or `layers-model`. */
  format: string;
  /** Model weight keys (`layer/param`) that received values. */
  loaded: string[];
  /** Lines worth logging (skipped weights, head mapping, input scale). */
  notes: string[];
}

/** Load `--init_weights` into a freshly built model, choosing the importer from the file's format. */
export async function loadInitWeights(model: BuiltModel, path: string): Promise<InitWeightsReport> {
  let format: string;
  try {
    format = String(JSON.parse(await Deno.readTextFile(path)).format ?? "layers-model");
  } catch (e) {
    throw new Error(`--init_weights: cannot read ${path} (${(e as Error).message})`);
  }
  if (format === "graph-model") {
    const r = await importGraphEmotionModel(path, { model });
    return { format, loaded: r.loaded, notes: r.notes };
  }
  const r = await loadLayersWeights(model, path);
  const notes = [
    `${r.loaded.length} weights loaded by layer name; ${r.untouched.length} model weights keep their initialisation`,
  ];
  if (r.skipped.length) {
    notes.push(
      `not in the model (skipped): ${r.skipped.slice(0, 8).join(", ")}${r.skipped.length > 8 ? ", …" : ""}`,
    );
  }
  return { format, loaded: r.loaded, notes };
}
