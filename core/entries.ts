/**
 * Entry tasks: one `deno task` per built-in method (defaults: embedded synthetic data and
 * mini-Xception, so they run on a fresh machine) and the seed-compatible tasks named after the
 * original scripts (defaults as those scripts had them; the method is picked from the flags exactly as
 * the originals did, docs/original.md §6.10).
 * @module
 */
import { bool, num, OptionError, type Options } from "./options.ts";
import type { TaskName } from "./types.ts";
import { datasetTasks } from "../datasets/mod.ts";

/** Tasks a dataset labels (empty for an unknown name; the dataset loader reports that one). */
export function datasetTaskNames(name: string): TaskName[] {
  try {
    return datasetTasks(name).map((t) => t.name);
  } catch {
    return [];
  }
}

/** STL `--task_type` codes (docs/original.md §1.2). */
export const TASK_TYPE_CODES: Record<number, TaskName> = { 0: "emotion", 1: "age", 5: "pose", 10: "gender" };

/** Which dataset flags an entry reads, in schedule order. */
export type DatasetSlots = "single" | "EP" | "EA" | "EGA";

/** An entry task. */
export interface EntryTask {
  name: string;
  summary: string;
  /** The original script this entry stands for, if any. */
  script?: string;
  /** A fixed method, or a function that picks one from the flags (seed scripts). */
  method: string | ((o: Options, warnings: string[]) => string);
  slots: DatasetSlots;
  defaults: Partial<Options>;
  /** Other task names that reach this entry (the script name in kebab case). */
  aliases?: string[];
}

/** Defaults of the per-method tasks: small synthetic data that trains on a 2-core CPU in minutes. */
export const FRESH_MACHINE_DEFAULTS: Partial<Options> = {
  dataset: "synth-emotion",
  dataset_emotion: "synth-emotion",
  dataset_pose: "synth-pose",
  dataset_age: "synth-age-gender",
  dataset_gender_age: "synth-age-gender",
  model: "mini_xception",
  image_size: 48,
  epoch: 4,
  batch_size: 32,
  lr: 1e-3,
  train_size: 1500,
  patience: 5,
  E_loss_weights: 1,
  P_loss_weights: 1,
  A_loss_weights: 1,
  G_loss_weights: 1,
  weights_decay: 0,
  no_freezing_epoch: 0,
  task_type: 0,
};

const SEED_COMMON: Partial<Options> = {
  epoch: 64,
  batch_size: 32,
  num_worker: 4,
  weights_decay: 0.005,
  no_freezing_epoch: 32,
  shuffle: "rows",
};

/** Defaults of CONFUSION_EP_multitask.py and its manifold variant (docs/original.md §1.4, §1.5). */
const JOINT_SCRIPT_DEFAULTS: Partial<Options> = {
  ...SEED_COMMON,
  dataset_emotion: "ferplus",
  dataset_pose: "aflw",
  model: "mini_xception",
  patience: 10,
  E_loss_weights: 5,
  P_loss_weights: 1,
  selection_threshold: 0.9,
  interpolation_weights: 0.5,
  cluster_k: 4,
  lr: 1e-4,
};

/** Pick the alternating method from the flags (ALTERNATIVE_*.py, docs/original.md §6.8.9). */
export function pickAlternating(o: Options): string {
  if (bool(o, "is_distilled")) return (o.distill_t ?? 2) === 1 ? "dml-lwf" : "distilling";
  if (bool(o, "is_pesudo") || bool(o, "is_interpolation")) return "sa-mtl";
  return "naive-alternating";
}

/** Pick the joint method from the flags (CONFUSION_EP_multitask.py, docs/original.md §6.2-6.4). */
export function pickJoint(o: Options, warnings: string[]): string {
  if (bool(o, "is_naive")) {
    if (bool(o, "is_pesudo")) {
      warnings.push("--is_naive=True overrides --is_pesudo (All-in-one), as in the original");
    }
    return "all-in-one";
  }
  if (bool(o, "is_pesudo") || bool(o, "is_interpolation")) return bool(o, "is_MRF") ? "dcn-ap" : "lel-ltn";
  if (bool(o, "is_distilled")) {
    throw new OptionError(
      "--is_distilled with the joint script crashed in the original (docs/original.md B8); use deno task dml-lwf or distilling",
    );
  }
  warnings.push("no method flag (--is_naive/--is_pesudo) given to the joint script: running All-in-one");
  return "all-in-one";
}

/** Pick the manifold method (CONFUSION_EP_multitask_manifold.py): SLRM with the nuclear norm, else SFSMR. */
export function pickManifold(o: Options): string {
  return bool(o, "is_nuclear_norm") ? "slrm" : "sfsmr";
}

const method = (name: string, summary: string): EntryTask => ({
  name,
  summary,
  method: name,
  slots: name === "stl" ? "single" : "EP",
  defaults: FRESH_MACHINE_DEFAULTS,
});

/** Every entry task. Per-method tasks for plugins added later are created on the fly by `entryFor`. */
export const ENTRY_TASKS: EntryTask[] = [
  method("stl", "Single-task learning on one dataset."),
  method("all-in-one", "Joint training, missing labels masked."),
  method("lel-ltn", "Label embeddings + label transfer network pseudo labels."),
  method("dcn-ap", "Pseudo labels refined by an MRF (attribute propagation)."),
  method("sfsmr", "Joint training with l2,1 + manifold trace regularisers."),
  method("slrm", "Joint training with l2,1 + nuclear norm + trace regularisers."),
  method("dml-lwf", "Alternating training with distilled labels, T = 1."),
  method("distilling", "Alternating training with distilled labels, T = 2."),
  method("sa-mtl", "Alternating training with weighted pseudo labels (the proposed method)."),
  method("naive-alternating", "Alternating training with the other head masked."),
  {
    name: "alternative-ep",
    script: "ALTERNATIVE_EP.py",
    summary: "Alternating emotion/pose script: SA-MTL, DML-LWF, distilling or naive by flags.",
    method: (o) => pickAlternating(o),
    slots: "EP",
    defaults: {
      ...SEED_COMMON,
      dataset_emotion: "expw",
      dataset_pose: "aflw",
      dataset_age: "adience",
      model: "vggFace",
      patience: 5,
      E_loss_weights: 5,
      P_loss_weights: 1,
      distill_t: 2,
      selection_threshold: 0.9,
      interpolation_weights: 0.9,
      density_t: 0.6,
      cluster_k: 4,
      lr: 1e-4,
    },
  },
  {
    name: "alternative-ea",
    script: "ALTERNATIVE_EA.py",
    summary: "Alternating emotion/age script.",
    method: (o) => pickAlternating(o),
    slots: "EA",
    defaults: {
      ...SEED_COMMON,
      dataset_emotion: "expw",
      dataset_age: "adience",
      model: "mini_xception",
      patience: 10,
      E_loss_weights: 5,
      A_loss_weights: 1,
      distill_t: 2,
      selection_threshold: 0.9,
      interpolation_weights: 0.9,
      density_t: 0.6,
      cluster_k: 4,
      lr: 1e-5,
      selection_mode: "absolute",
      reject: "distill",
      interpolation_mode: "lambda",
    },
  },
  {
    name: "alternative-ega",
    script: "ALTERNATIVE_EGA.py",
    summary: "Alternating emotion vs gender+age script.",
    method: (o) => pickAlternating(o),
    slots: "EGA",
    defaults: {
      ...SEED_COMMON,
      dataset_emotion: "ferplus",
      dataset_gender_age: "adience",
      model: "mini_xception",
      patience: 10,
      E_loss_weights: 5,
      G_loss_weights: 1,
      A_loss_weights: 1,
      selection_threshold: 0.9,
      interpolation_weights: 0.5,
      distill_t: 1,
      lr: 1e-4,
    },
  },
  {
    name: "confusion-ep",
    script: "CONFUSION_EP_multitask.py",
    aliases: ["confusion-ep-multitask"],
    summary: "Joint emotion/pose script: All-in-one, LEL-LTN or DCN-AP by flags.",
    method: pickJoint,
    slots: "EP",
    defaults: JOINT_SCRIPT_DEFAULTS,
  },
  {
    name: "confusion-ep-manifold",
    script: "CONFUSION_EP_multitask_manifold.py",
    aliases: ["confusion-ep-multitask-manifold"],
    summary: "Joint emotion/pose script with manifold regularisers: SFSMR or SLRM by flags.",
    method: (o) => pickManifold(o),
    slots: "EP",
    defaults: JOINT_SCRIPT_DEFAULTS,
  },
  {
    name: "stl-general",
    script: "STL_general_train.py",
    aliases: ["stl-general-train"],
    summary: "Single-task script (--task_type 0 emotion, 1 age, 5 pose, 10 gender).",
    method: "stl",
    slots: "single",
    defaults: {
      ...SEED_COMMON,
      dataset: "imdb",
      model: "mini_xception",
      task_type: 10,
      patience: 20,
      lr: 1e-5,
    },
  },
];

/** The entry for a task name; a plugin name without a built-in entry gets per-method defaults. */
export function entryFor(name: string): EntryTask {
  return ENTRY_TASKS.find((e) => e.name === name || e.aliases?.includes(name)) ?? method(name, "");
}

/** The STL task from `--task` or `--task_type`, repaired against the dataset (docs/original.md B30). */
export function stlTask(o: Options, warnings: string[]): TaskName {
  const ds = String(o.dataset);
  const labelled = datasetTaskNames(ds);
  let task: TaskName;
  if (typeof o.task === "string") task = o.task as TaskName;
  else {
    const code = num(o, "task_type");
    task = TASK_TYPE_CODES[code];
    if (!task) {
      throw new OptionError(
        `--task_type: got ${code}, expected 0 (emotion), 1 (age), 5 (pose) or 10 (gender)`,
      );
    }
  }
  if (!labelled.includes(task) && labelled.length === 1) {
    const fixed = labelled[0];
    const code = Object.entries(TASK_TYPE_CODES).find(([, t]) => t === fixed)?.[0];
    warnings.push(
      `--task_type/--task ${task} with --dataset=${ds}, which labels ${fixed} only: read as ${
        code !== undefined ? `--task_type=${code}` : `--task=${fixed}`
      } (${fixed}); in the original 10 is gender and 5 is pose`,
    );
    task = fixed;
  } else if (!labelled.includes(task)) {
    throw new OptionError(`--dataset=${ds} has no ${task} labels (it labels: ${labelled.join(", ")})`);
  }
  return task;
}

/** The datasets a run trains on, in schedule order (emotion first, as the original alternation). */
export function resolveDatasets(
  entry: EntryTask,
  o: Options,
  opts: { dataMode: string; explicit: Set<string> },
): string[] {
  const dataMode = opts.dataMode;
  if (Array.isArray(o.datasets) && o.datasets.length > 0) return [...o.datasets];
  if (dataMode === "single" || entry.slots === "single") return [String(o.dataset)];
  const e = String(o.dataset_emotion);
  switch (entry.slots) {
    case "EA":
      return [e, String(o.dataset_age)];
    case "EGA":
      return [e, String(o.dataset_gender_age)];
    default: {
      const list = [e, String(o.dataset_pose)];
      // `--dataset_gender_age` given to an EP script adds the third dataset (EPGA, the demo model).
      if (typeof o.dataset_gender_age === "string" && opts.explicit.has("dataset_gender_age")) {
        list.push(String(o.dataset_gender_age));
      }
      return list;
    }
  }
}
