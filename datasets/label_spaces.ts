/**
 * Label spaces of the real datasets (docs/original.md §2.3) and the label conversions that more than
 * one module needs: AFLW yaw -> 5 pose classes (§2.4) and Adience "(lo, hi)" -> 8 age groups (§2.2, docs/original.md B25).
 * @module
 */
import type { TaskName, TaskSpec } from "../core/types.ts";

/** The real (user-supplied) datasets the toolkit can prepare and load. */
export type RealDatasetName = "fer2013" | "ferplus" | "expw" | "sfew" | "aflw" | "adience" | "imdb";

/** Every real dataset name, in the order `deno task prep` lists them. */
export const REAL_DATASETS: readonly RealDatasetName[] = [
  "fer2013",
  "ferplus",
  "expw",
  "sfew",
  "aflw",
  "adience",
  "imdb",
];

/** FER2013 / ExpW / SFEW emotion order (the FER2013 convention). */
export const EMOTION7_LABELS: readonly string[] = [
  "angry",
  "disgust",
  "fear",
  "happy",
  "sad",
  "surprise",
  "neutral",
];

/** FER+ emotion order (the FERPlus vote columns). */
export const FERPLUS_LABELS: readonly string[] = [
  "neutral",
  "happiness",
  "surprise",
  "sadness",
  "anger",
  "disgust",
  "fear",
  "contempt",
];

/** AFLW yaw bins (names from the original `get_labels('aflw')`; the side convention is unverified, Q12). */
export const POSE5_LABELS: readonly string[] = ["frontal", "right profile", "left profile", "left", "right"];

/**
 * The yaw range (degrees, [low, high]) of each AFLW pose bin in {@link POSE5_LABELS} order, as
 * {@link yawDegreesToPoseClass} bins it; which end is open is that function's rule.
 */
export const POSE5_YAW_BINS: readonly (readonly [number, number])[] = [
  [-10, 10],
  [10, 60],
  [-60, -10],
  [-Infinity, -60],
  [60, Infinity],
];

const deg = (v: number) => `${v < 0 ? "−" : ""}${Math.abs(v)}°`;

/**
 * {@link POSE5_YAW_BINS} as a reader reads them ("10° to 60°", "≤ −60°"). The original's names alone mislead:
 * its "profile" bins are the moderate turns, its "left"/"right" the extreme ones.
 */
export const POSE5_YAW_RANGES: readonly string[] = POSE5_YAW_BINS.map(([lo, hi]) =>
  lo === -hi
    ? `|yaw| < ${deg(hi)}`
    : lo === -Infinity
    ? `≤ ${deg(hi)}`
    : hi === Infinity
    ? `≥ ${deg(lo)}`
    : `${deg(lo)} to ${deg(hi)}`
);

/** Whether a task's class names are the AFLW yaw bins ({@link POSE5_LABELS}, in that order). */
export function isAflwPose(task: string, names: readonly string[]): boolean {
  return task === "pose" && names.length === POSE5_LABELS.length &&
    names.every((n, i) => n === POSE5_LABELS[i]);
}

/**
 * Class names as a reader should see them in figures: the AFLW pose names with their yaw ranges
 * appended ("right profile (10° to 60°)"); any other task's names, or pose names that are not the AFLW bins, unchanged.
 */
export function classDisplayNames(task: string, names: readonly string[]): string[] {
  return isAflwPose(task, names) ? names.map((n, i) => `${n} (${POSE5_YAW_RANGES[i]})`) : [...names];
}

/** Adience age groups. */
export const AGE8_LABELS: readonly string[] = [
  "0-2",
  "4-6",
  "8-12",
  "15-20",
  "25-32",
  "38-43",
  "48-53",
  "60-100",
];

/** Lower bounds of the Adience age groups, index = class id. */
export const ADIENCE_AGE_LOWER_BOUNDS: readonly number[] = [0, 4, 8, 15, 25, 38, 48, 60];

/** Gender (Adience `f`/`m`, IMDB 0/1). */
export const GENDER2_LABELS: readonly string[] = ["woman", "man"];

/** The tasks each real dataset labels, in CSV column order. */
export const DATASET_TASKS: Readonly<Record<RealDatasetName, readonly TaskName[]>> = {
  fer2013: ["emotion"],
  ferplus: ["emotion"],
  expw: ["emotion"],
  sfew: ["emotion"],
  aflw: ["pose"],
  adience: ["gender", "age"],
  imdb: ["gender"],
};

/** Spellings accepted for the real dataset names (the original scripts used e.g. `SFEW`, `Fer+`). */
const ALIASES: Record<string, RealDatasetName> = {
  "fer+": "ferplus",
  "fer_plus": "ferplus",
  "sfew2": "sfew",
  "sfew2.0": "sfew",
  "sfew 2.0": "sfew",
  "imdb-wiki": "imdb",
  "imdbwiki": "imdb",
};

/** The canonical real dataset name for `name` (case-insensitive, aliases allowed), or undefined. */
export function realDatasetName(name: string): RealDatasetName | undefined {
  const k = name.trim().toLowerCase();
  if ((REAL_DATASETS as readonly string[]).includes(k)) return k as RealDatasetName;
  return ALIASES[k];
}

function spec(name: TaskName, labels: readonly string[]): TaskSpec {
  return { name, classes: labels.length, labels: [...labels] };
}

/** The default label space of a face task (emotion: the 7-class FER2013 order). */
export function defaultLabelSpace(task: TaskName): TaskSpec {
  switch (task) {
    case "emotion":
      return spec("emotion", EMOTION7_LABELS);
    case "pose":
      return spec("pose", POSE5_LABELS);
    case "gender":
      return spec("gender", GENDER2_LABELS);
    case "age":
      return spec("age", AGE8_LABELS);
    default:
      throw new RangeError(
        `no face label space for task '${task}' (digit/rotation belong to the digits datasets)`,
      );
  }
}

/**
 * The label space of `task` on `dataset`. For a real dataset the task must be one it labels
 * (FER+ emotion has 8 classes, the other emotion datasets 7). For any other dataset name
 * (synthetic data) the task's default face label space is returned.
 */
export function labelSpace(dataset: string, task: TaskName): TaskSpec {
  const real = realDatasetName(dataset);
  if (real === undefined) return defaultLabelSpace(task);
  if (!DATASET_TASKS[real].includes(task)) {
    throw new RangeError(
      `dataset '${real}' has no '${task}' labels (it labels: ${DATASET_TASKS[real].join(", ")})`,
    );
  }
  if (real === "ferplus") return spec("emotion", FERPLUS_LABELS);
  return defaultLabelSpace(task);
}

/** The label spaces of every task a real dataset labels. */
export function datasetTaskSpecs(dataset: RealDatasetName): TaskSpec[] {
  return DATASET_TASKS[dataset].map((t) => labelSpace(dataset, t));
}

/** AFLW yaw (radians) -> pose class; see {@link yawDegreesToPoseClass}. */
export function yawToPoseClass(yawRad: number): number {
  return yawDegreesToPoseClass(yawRad * 180 / Math.PI);
}

/**
 * AFLW yaw (degrees) -> pose class, exactly as docs/original.md §2.4: 0 if |y| < 10; 1 if 10 <= y < 60;
 * 2 if -60 < y <= -10; 3 if y <= -60; otherwise 4 (y >= 60 and NaN). The toolkit's one yaw binning.
 */
export function yawDegreesToPoseClass(y: number): number {
  if (Math.abs(y) < 10) return 0;
  if (y >= 10 && y < 60) return 1;
  if (y > -60 && y <= -10) return 2;
  if (y <= -60) return 3;
  return 4;
}

/**
 * Adience age token "(lo, hi)" -> age group = index of `lo` among the group lower bounds.
 * Returns undefined for anything else ("None", a bare number, an unknown lower bound), the guard of docs/original.md B25.
 */
export function adienceAgeGroup(token: string): number | undefined {
  const m = /^\(\s*(\d+)\s*,\s*(\d+)\s*\)$/.exec(token.trim());
  if (!m) return undefined;
  const idx = ADIENCE_AGE_LOWER_BOUNDS.indexOf(Number(m[1]));
  return idx < 0 ? undefined : idx;
}
