/**
 * Entry tasks: one `deno task` per built-in method (defaults: embedded synthetic data and
 * mini-Xception, so they run on a fresh machine) and the seed-compatible tasks named after the
 * original scripts (defaults as those scripts had them; the method is picked from the flags exactly as
 * the originals did, docs/original.md §6.10).
 * @module
 */
import { bool, num, OptionError, type Options } from "../core/options.ts";
import type { TaskName } from "../core/types.ts";
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

/** An entry task: a method's own task, or one that stands for an original script. */
export interface EntryTask {
  name: string;
  summary: string;
  /** The original script this entry stands for (file name), if any. */
  script?: string;
  /**
   * A method's own task: the plugin name. A script entry instead names its script family
   * (`family`), and the method comes from the plugins' script selectors.
   */
  method?: string;
  /** Script family id matched against the plugins' `selectedBy` (script entries only). */
  family?: string;
  /** Flags of the original script beyond the training flags (script entries only). */
  scriptFlags?: string[];
  /** Of those, the ones that only select a method. */
  selectors?: string[];
  /** Flag combinations the script refuses. */
  refuse?: ScriptRefusal[];
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

/**
 * The original scripts' label flags: the selectors that pick a method and the method knobs their
 * argparse declared. Every script entry accepts them all (the seed README passes them all) and warns
 * about those the selected method does not read.
 */
const SCRIPT_LABEL_FLAGS = [
  "num_worker",
  "is_naive",
  "is_distilled",
  "distill_t",
  "is_pesudo",
  "is_interpolation",
  "interpolation_weights",
  "selection_threshold",
  "is_pesudo_confidence",
  "is_pesudo_density",
  "density_t",
  "is_pesudo_distribution",
  "cluster_k",
];

/** Flags that only select a method (read by the selection, so never "ignored"). */
const SELECTORS = ["is_naive", "is_distilled", "is_pesudo", "is_interpolation", "is_MRF", "is_nuclear_norm"];

/** A flag combination a script refuses outright (it crashed in the original). */
export interface ScriptRefusal {
  when: (o: Options) => boolean;
  message: string;
}

/** The entry of a method's own task (`deno task <plugin name>`): fresh-machine defaults. */
export function methodEntry(name: string, summary: string, single: boolean): EntryTask {
  return { name, summary, method: name, slots: single ? "single" : "EP", defaults: FRESH_MACHINE_DEFAULTS };
}

const ALTERNATIVE = {
  family: "alternative",
  scriptFlags: SCRIPT_LABEL_FLAGS,
  selectors: SELECTORS,
};

const CONFUSION = {
  family: "confusion",
  scriptFlags: [...SCRIPT_LABEL_FLAGS, "is_MRF"],
  selectors: SELECTORS,
  refuse: [{
    when: (o: Options) =>
      bool(o, "is_distilled") && !bool(o, "is_naive") && !bool(o, "is_pesudo") &&
      !bool(o, "is_interpolation"),
    message:
      "--is_distilled with the joint script crashed in the original (docs/original.md B8); use an alternating entry (alternative-ep)",
  }],
};

/** The entry tasks that stand for the original scripts. Methods' own tasks come from the plugins. */
export const ENTRY_TASKS: EntryTask[] = [
  {
    name: "alternative-ep",
    script: "ALTERNATIVE_EP.py",
    summary: "Alternating emotion/pose script: the method is picked from the flags.",
    ...ALTERNATIVE,
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
    ...ALTERNATIVE,
    slots: "EA",
    defaults: {
      ...SEED_COMMON,
      dataset_emotion: "expw",
      dataset_age: "adience",
      // The script builds emotion and age heads only; Adience's gender labels go unused.
      tasks: ["emotion", "age"],
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
    ...ALTERNATIVE,
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
    summary: "Joint emotion/pose script: the method is picked from the flags.",
    ...CONFUSION,
    slots: "EP",
    defaults: JOINT_SCRIPT_DEFAULTS,
  },
  {
    name: "confusion-ep-manifold",
    script: "CONFUSION_EP_multitask_manifold.py",
    aliases: ["confusion-ep-multitask-manifold"],
    summary: "Joint emotion/pose script with manifold regularisers: the method is picked from the flags.",
    ...CONFUSION,
    family: "confusion-manifold",
    scriptFlags: [
      ...SCRIPT_LABEL_FLAGS,
      "is_MRF",
      "is_lnorm",
      "is_trace_norm",
      "is_nuclear_norm",
      "is_manifold",
    ],
    slots: "EP",
    defaults: JOINT_SCRIPT_DEFAULTS,
  },
  {
    name: "stl-general",
    script: "STL_general_train.py",
    aliases: ["stl-general-train"],
    summary: "Single-task script (--task_type 0 emotion, 1 age, 5 pose, 10 gender).",
    family: "stl-general",
    scriptFlags: ["num_worker"],
    selectors: [],
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

/** The script entry for a task name, if the name is one of the original scripts' tasks. */
export function scriptEntry(name: string): EntryTask | undefined {
  return ENTRY_TASKS.find((e) => e.name === name || e.aliases?.includes(name));
}

/**
 * The STL task from `--task` or `--task_type`. With `repair` (the original STL script's entry), a task
 * the dataset does not label is read as the dataset's only task, with a warning: the seed README passes
 * `--task_type=10` with AFLW, whose only task is pose (docs/original.md B30). Elsewhere the conflict is refused.
 */
export function stlTask(o: Options, warnings: string[], opts: { repair: boolean }): TaskName {
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
  if (labelled.includes(task)) return task;
  if (opts.repair && labelled.length === 1) {
    const fixed = labelled[0];
    const code = Object.entries(TASK_TYPE_CODES).find(([, t]) => t === fixed)?.[0];
    warnings.push(
      `--task_type/--task ${task} with --dataset=${ds}, which labels ${fixed} only: read as ${
        code !== undefined ? `--task_type=${code}` : `--task=${fixed}`
      } (${fixed}); in the original 10 is gender and 5 is pose`,
    );
    return fixed;
  }
  const flag = typeof o.task === "string" ? `--task=${task}` : `--task_type=${o.task_type} (${task})`;
  throw new OptionError(`${flag}: --dataset=${ds} has no ${task} labels (it labels: ${labelled.join(", ")})`);
}

/** The datasets a run trains on, in schedule order (emotion first, as the original alternation). */
export function resolveDatasets(
  entry: EntryTask,
  o: Options,
  opts: { singleTask: boolean; explicit: Set<string> },
): string[] {
  if (Array.isArray(o.datasets) && o.datasets.length > 0) return [...o.datasets];
  if (opts.singleTask || entry.slots === "single") return [String(o.dataset)];
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
