/**
 * Label spaces of the embedded datasets: the face tasks come from `label_spaces.ts` (synthetic faces use
 * the FER2013 emotion order, the AFLW pose bins, Adience gender and age groups); the digits benchmark adds
 * `digit` (10) and `rotation` (angle bins).
 * @module
 */
import type { TaskName, TaskSpec } from "../core/types.ts";
import { defaultLabelSpace } from "./label_spaces.ts";

/** The label space of a face task as the synthetic datasets use it. */
export function faceTask(task: TaskName): TaskSpec {
  return defaultLabelSpace(task);
}

/** The digit task (MNIST classes 0-9). */
export function digitTask(): TaskSpec {
  return { name: "digit", classes: 10, labels: Array.from({ length: 10 }, (_, i) => String(i)) };
}

/**
 * The rotation task: `bins` equal angle bins over [-range, range) degrees, named by their centres
 * (e.g. 5 bins over +-90: "-72", "-36", "0", "36", "72"). The bins are symmetric around 0, so a
 * horizontal flip maps bin k to bin bins-1-k.
 */
export function rotationTask(bins: number, range: number): TaskSpec {
  const w = (2 * range) / bins;
  return {
    name: "rotation",
    classes: bins,
    labels: Array.from({ length: bins }, (_, k) => `${Math.round(-range + w * (k + 0.5))}deg`),
  };
}
