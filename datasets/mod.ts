/**
 * The dataset registry: every name `--dataset_*` accepts, its label spaces, its loader and its hidden truth.
 *
 * Embedded datasets (no download, generated and cached under `.cache/`): `synth-emotion`, `synth-pose`,
 * `synth-age-gender` (procedural faces) and `digits-rot-a`, `digits-rot-b` (rotated MNIST digits).
 * Real datasets (prepared by `deno task prep` under `data/`): expw, ferplus, fer2013, sfew, aflw, adience, imdb.
 *
 * ```ts
 * import { loadDataset, loadHiddenTruth } from "./datasets/mod.ts";
 * const set = await loadDataset("synth-emotion", { imageSize: 48, channels: 1, seed: 0 });
 * const truth = await loadHiddenTruth("synth-emotion", { imageSize: 48, channels: 1, seed: 0 }); // evaluation only
 * ```
 * @module
 */
import type { HiddenTruth, ImageSet, LoadOptions, TaskName, TaskSpec } from "../core/types.ts";
import type { EmbeddedOptions } from "./_embedded_cache.ts";
import {
  DIGITS_NAMES,
  digitsDataVersion,
  digitsTasks,
  loadDigits,
  loadDigitsTruth,
  ROTATION_BINS,
  ROTATION_RANGE,
} from "./digits_rot.ts";
import { digitTask, faceTask, rotationTask } from "./embedded_labels.ts";
import { datasetTaskSpecs, REAL_DATASETS, realDatasetName } from "./label_spaces.ts";
import { loadPrepared } from "./prepared.ts";
import {
  loadSynth,
  loadSynthTruth,
  SYNTH_NAMES,
  synthDataVersion,
  type SynthDifficulty,
  synthTasks,
} from "./synth/mod.ts";

export { SYNTH_NAMES } from "./synth/mod.ts";
export { DIGITS_NAMES } from "./digits_rot.ts";

/** Every dataset name, embedded ones first. */
export const DATASET_NAMES: readonly string[] = [...SYNTH_NAMES, ...DIGITS_NAMES, ...REAL_DATASETS];

/** Names that need no download. */
export const EMBEDDED_NAMES: readonly string[] = [...SYNTH_NAMES, ...DIGITS_NAMES];

/** Options of {@link loadDataset}: the shared {@link LoadOptions} plus knobs of the embedded generators. */
export type DatasetLoadOptions = LoadOptions & EmbeddedOptions & {
  /** Overrides of the synthetic faces' nuisance knobs (synth-* only). */
  difficulty?: Partial<SynthDifficulty>;
  /** Domain shift of the synth-emotion/synth-pose pair in [0, 1] (synth-* only). */
  domainShift?: number;
};

function isSynth(name: string): boolean {
  return (SYNTH_NAMES as readonly string[]).includes(name);
}

function isDigits(name: string): boolean {
  return (DIGITS_NAMES as readonly string[]).includes(name);
}

function unknown(name: string): Error {
  return new Error(`unknown dataset "${name}"; known: ${DATASET_NAMES.join(", ")}`);
}

/** True for a name {@link loadDataset} accepts (real names case-insensitive, with their aliases). */
export function isDatasetName(name: string): boolean {
  return isSynth(name) || isDigits(name) || realDatasetName(name) !== undefined;
}

/** The tasks (with label spaces) a dataset is labelled for. */
export function datasetTasks(name: string): TaskSpec[] {
  if (isSynth(name)) return synthTasks(name);
  if (isDigits(name)) return digitsTasks(name);
  const real = realDatasetName(name);
  if (real) return datasetTaskSpecs(real);
  throw unknown(name);
}

/**
 * The tasks a dataset has hidden truth for (every face task for synth-*, digit and rotation for digits-rot-*,
 * none for real datasets): what evaluation can score beyond the dataset's own labels.
 */
export function truthTasks(name: string): TaskSpec[] {
  if (isSynth(name)) return (["emotion", "pose", "gender", "age"] as TaskName[]).map((t) => faceTask(t));
  if (isDigits(name)) return [digitTask(), rotationTask(ROTATION_BINS, ROTATION_RANGE)];
  if (realDatasetName(name)) return [];
  throw unknown(name);
}

/**
 * The version of an embedded dataset's generated rows under these knobs (a hash that changes exactly when the
 * same data seed and size would give other rows or labels); null for a real dataset, whose files are the user's.
 */
export function embeddedDataVersion(
  name: string,
  opts: Pick<DatasetLoadOptions, "difficulty" | "domainShift"> = {},
): string | null {
  if (isSynth(name)) return synthDataVersion(name, opts);
  if (isDigits(name)) return digitsDataVersion(name);
  if (realDatasetName(name)) return null;
  throw unknown(name);
}

/** Load a dataset as an {@link ImageSet} (embedded: generated or read from the cache; real: from `data/`). */
export function loadDataset(name: string, opts: DatasetLoadOptions): Promise<ImageSet> {
  if (isSynth(name)) return loadSynth(name, opts);
  if (isDigits(name)) return loadDigits(name, opts);
  if (realDatasetName(name)) return loadPrepared(name, opts);
  return Promise.reject(unknown(name));
}

/**
 * The hidden truth of every row (embedded datasets; null for real ones). Only evaluation may call this:
 * training is identical whether or not the truth file exists.
 */
export async function loadHiddenTruth(name: string, opts: DatasetLoadOptions): Promise<HiddenTruth | null> {
  if (isSynth(name)) return await loadSynthTruth(name, opts);
  if (isDigits(name)) return await loadDigitsTruth(name, opts);
  if (realDatasetName(name)) return null;
  throw unknown(name);
}
