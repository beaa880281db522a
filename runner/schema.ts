/**
 * The runner's flags: those every command takes, those every training run reads (the trainer's), the
 * dataset flags of single- and multi-task runs, and the original scripts' selectors that no method
 * reads. Each flag is declared once, with type, range and help; defaults live in entry tasks and
 * presets (runner/entries.ts, the plugins). Method flags are declared by the plugins that read them.
 * @module
 */
import type { OptionSpec } from "../core/options.ts";
import { TASK_WEIGHTING_OPTIONS } from "../core/task_weighting/mod.ts";
import { ARCH_NAMES } from "../core/types.ts";
import { DEFAULT_DOMAIN_SHIFT } from "../datasets/synth/mod.ts";
import { LR_SCHEDULES } from "./train/lr_schedule.ts";

/**
 * The embedded data a run trains on: held-out rows generated beyond the training rows, the data's own seed,
 * and the synthetic pair's domain shift (compare declares the same flags with per-profile defaults).
 */
export const DATA_OPTIONS: OptionSpec[] = [
  {
    name: "val_rows",
    type: "int",
    min: 1,
    max: 10_000_000,
    help:
      "Embedded datasets: validation rows generated beyond the training rows (with --test_rows; --train_size then counts training rows only).",
  },
  {
    name: "test_rows",
    type: "int",
    min: 1,
    max: 10_000_000,
    help: "Embedded datasets: test rows generated beyond the training and validation rows (with --val_rows).",
  },
  {
    name: "data_seed",
    type: "int",
    min: 0,
    max: 2 ** 31 - 1,
    help:
      "Seed of the embedded datasets' rows and of every dataset split (default: --seed), so data can stay fixed while --seed varies the training.",
  },
  {
    name: "domain_shift",
    type: "float",
    min: 0,
    max: 1,
    help:
      `Domain shift between synth-emotion and synth-pose: 0 = one face distribution, 1 = the far ends (default ${DEFAULT_DOMAIN_SHIFT}; docs/data.md).`,
  },
];

/** Every dataset name the toolkit knows (real ones must be prepared by the user). */
export const DATASET_CHOICES = [
  "expw",
  "ferplus",
  "fer2013",
  "sfew",
  "aflw",
  "adience",
  "imdb",
  "synth-emotion",
  "synth-pose",
  "synth-age-gender",
  "digits-rot-a",
  "digits-rot-b",
] as const;

/** Backbones accepted by `--model` (mobilenetv2/inceptionv3/ssrnet failed in the original, docs/original.md B5). */
export const MODEL_CHOICES = ["mini_xception", "vggFace", "big_xception"] as const;

/** Flags every command takes. */
export const COMMON_OPTIONS: OptionSpec[] = [
  {
    name: "out",
    type: "string",
    help: "Directory this command writes into (created; default depends on the command).",
  },
  { name: "seed", type: "int", default: 1, min: 0, max: 2 ** 31 - 1, help: "Seed of every random choice." },
  {
    name: "backend",
    type: "enum",
    default: "auto",
    choices: ["auto", "tensorflow", "webgpu", "wasm", "cpu"],
    help: "TensorFlow.js backend: auto picks tensorflow > webgpu (hardware) > wasm + kernel pack > cpu.",
  },
  { name: "quiet", type: "boolean", default: false, help: "Print only errors and the final result." },
  { name: "dry_run", type: "boolean", default: false, help: "Validate flags and inputs, write nothing." },
  { name: "json", type: "boolean", default: false, help: "Print results as JSON." },
  { name: "help", type: "boolean", default: false, help: "Print this help and exit." },
  {
    name: "threads",
    type: "int",
    min: 1,
    max: 256,
    help:
      "CPU threads of the kernel pack (wasm backend; results are identical for any count). Default: every " +
      "core for a training command; compare gives each of its parallel runs cores / --jobs.",
  },
];

/** Flags of training commands (run, per-method tasks, seed-compatible entry tasks). */
export const TRAIN_OPTIONS: OptionSpec[] = [
  { name: "model", type: "enum", choices: MODEL_CHOICES, help: "Backbone network." },
  {
    name: "image_size",
    type: "int",
    min: 16,
    max: 512,
    help: "Input side in pixels (default per backbone).",
  },
  {
    name: "lr",
    type: "float",
    min: 0,
    max: 10,
    help: "Adam learning rate (default per schedule, docs/original.md §4.7).",
  },
  { name: "data_dir", type: "string", default: "data", help: "Where prepared datasets live." },
  { name: "run", type: "list", help: "An existing run directory (resume, eval, demos); may repeat." },
  {
    name: "resume",
    type: "boolean",
    default: false,
    help: "Continue the run given by --run from its last checkpoint.",
  },
  { name: "config", type: "string", help: "Rerun exactly the options of a past run's config.json." },
  { name: "plugin", type: "string", help: "Load a method plugin from this .ts file (outside methods/)." },
  { name: "compat", type: "boolean", default: false, help: "The as-coded profile of the original scripts." },
  {
    name: "compat_split",
    type: "boolean",
    help:
      "The original's split: fold 0 of a 5-fold split, validation = test (default: on with --compat). False keeps " +
      "this toolkit's split, or the held-out rows of --val_rows/--test_rows, under --compat.",
  },
  {
    name: "datasets",
    type: "list",
    choices: DATASET_CHOICES,
    help: "Datasets to train on, comma-separated (overrides the --dataset_* flags).",
  },
  {
    name: "train_size",
    type: "int",
    min: 8,
    max: 10_000_000,
    help: "Rows generated per embedded synthetic dataset (ignored for real datasets).",
  },
  ...DATA_OPTIONS,
  {
    name: "synth_difficulty",
    type: "list",
    help:
      "Override nuisance knobs of the synthetic faces, e.g. expressionIntensity=0.7,clutter=0 (see docs/data.md).",
  },
  {
    name: "max_train_rows",
    type: "int",
    min: 1,
    max: 10_000_000,
    help: "Use at most this many training rows per dataset (budget control).",
  },
  {
    name: "init_weights",
    type: "string",
    help: "Start from weights in tfjs layers format (model.json + bin).",
  },
  {
    name: "nan_policy",
    type: "enum",
    default: "stop",
    choices: ["stop", "skip"],
    help: "On a non-finite loss or gradient: stop the run, or skip the batch and count it.",
  },
  {
    name: "skip_bad_samples",
    type: "boolean",
    default: false,
    help: "Skip and list bad rows instead of stopping.",
  },
  {
    name: "early_stopping",
    type: "boolean",
    default: false,
    help: "Stop when validation loss has not improved for --patience outer epochs.",
  },
  {
    name: "reduce_lr",
    type: "boolean",
    default: false,
    help: "Multiply the LR by 0.1 after --patience outer epochs without improvement.",
  },
  {
    name: "lr_schedule",
    type: "enum",
    default: "constant",
    choices: [...LR_SCHEDULES],
    help:
      "Learning rate over the run's steps: constant (the original scripts) or cosine decay to zero at the last step.",
  },
  {
    name: "lr_warmup",
    type: "float",
    default: 0,
    min: 0,
    max: 1,
    help: "Share of the run's steps with a linear warm-up of the learning rate (0 = none).",
  },
  {
    name: "bn_recalibrate",
    type: "boolean",
    default: true,
    help: "Re-estimate BatchNorm moving statistics on training images before each evaluation.",
  },
  {
    name: "shuffle",
    type: "enum",
    default: "rows",
    choices: ["rows", "batches"],
    help:
      "Per-epoch row shuffle (fix docs/original.md B21), or the original fixed batch contents in shuffled order.",
  },
  {
    name: "eval_batch_size",
    type: "int",
    default: 128,
    min: 1,
    max: 4096,
    help: "Batch size of evaluation passes.",
  },
  {
    name: "epoch",
    type: "int",
    min: 1,
    max: 100_000,
    help: "Outer epochs (alternation steps for alternating methods).",
  },
  {
    name: "batch_size",
    type: "int",
    min: 1,
    max: 4096,
    help: "Batch size (joint: total, split between datasets).",
  },
  {
    name: "patience",
    type: "int",
    min: 1,
    max: 10_000,
    help: "Outer epochs without validation improvement before early stopping / LR reduction.",
  },
  {
    name: "is_augmentation",
    type: "boolean",
    help: "Data augmentation (rotation, shift, zoom, horizontal flip).",
  },
  { name: "is_dropout", type: "boolean", help: "Dropout 0.5 after the shared FC and the task branches." },
  { name: "is_bn", type: "boolean", help: "BatchNorm on the FC layers (fixed docs/original.md B3)." },
  {
    name: "weights_decay",
    type: "float",
    min: 0,
    max: 1,
    help: "L2 on Dense kernels (fixed docs/original.md B4; a no-op in the original).",
  },
  { name: "is_freezing", type: "boolean", help: "Two-stage training: freeze the trunk first." },
  {
    name: "no_freezing_epoch",
    type: "int",
    min: 0,
    max: 100_000,
    help: "Outer epoch at which the trunk is unfrozen.",
  },
  { name: "E_loss_weights", type: "float", min: 0, max: 1000, help: "Loss weight of the emotion head." },
  { name: "P_loss_weights", type: "float", min: 0, max: 1000, help: "Loss weight of the pose head." },
  { name: "A_loss_weights", type: "float", min: 0, max: 1000, help: "Loss weight of the age head." },
  { name: "G_loss_weights", type: "float", min: 0, max: 1000, help: "Loss weight of the gender head." },
  {
    name: "arch",
    type: "enum",
    default: "hps",
    choices: ARCH_NAMES,
    help:
      "Shared architecture above the trunk: hps (per-task branches; the original emotion/pose cross-stitch unit), cross-stitch (one unit mixing every branch), mmoe (gated experts).",
  },
  {
    name: "mmoe_experts",
    type: "int",
    default: 4,
    min: 1,
    max: 64,
    help: "--arch=mmoe: number of experts.",
  },
  // --task_weighting and its hyper-parameters: declared once, in the base layer.
  ...TASK_WEIGHTING_OPTIONS,
];

/** Dataset flags of single-task runs (STL and the original STL script). */
export const SINGLE_DATASET_OPTIONS: OptionSpec[] = [
  {
    name: "dataset",
    type: "enum",
    choices: DATASET_CHOICES,
    help: "STL: the one dataset to train on (STL_general_train.py).",
  },
  {
    name: "task_type",
    type: "int",
    choices: ["0", "1", "5", "10"],
    help: "STL task code: 0 emotion, 1 age, 5 pose, 10 gender.",
  },
  {
    name: "task",
    type: "enum",
    choices: ["emotion", "age", "pose", "gender", "digit", "rotation"],
    help: "STL task by name (readable alias of --task_type).",
  },
];

/** Dataset flags of multi-task runs, one per task slot of the original scripts. */
export const MULTI_DATASET_OPTIONS: OptionSpec[] = [
  {
    name: "dataset_emotion",
    type: "enum",
    choices: DATASET_CHOICES,
    help: "Emotion dataset [expw, ferplus, fer2013, sfew].",
  },
  { name: "dataset_pose", type: "enum", choices: DATASET_CHOICES, help: "Pose dataset [aflw]." },
  { name: "dataset_age", type: "enum", choices: DATASET_CHOICES, help: "Age dataset [adience] (EA)." },
  {
    name: "dataset_gender_age",
    type: "enum",
    choices: DATASET_CHOICES,
    help: "Gender + age dataset [adience, imdb] (EGA, EPGA).",
  },
  {
    name: "tasks",
    type: "list",
    choices: ["emotion", "age", "pose", "gender", "digit", "rotation"],
    help:
      "Heads to train (default: every task the datasets label); a label of another task is left unused. " +
      "ALTERNATIVE_EA.py trains emotion and age only, so its task sets emotion,age (Adience also labels gender).",
  },
];

/**
 * Flags of the original scripts that no method reads: the scripts' own method selectors and an unused
 * worker count. Declared here only for the scripts' entry tasks; a method plugin that reads one of these
 * names must declare it identically (or the registry refuses the pair).
 */
export const SCRIPT_ONLY_OPTIONS: OptionSpec[] = [
  {
    name: "num_worker",
    type: "int",
    default: 4,
    min: 1,
    max: 64,
    help: "Accepted for compatibility; unused.",
  },
  { name: "is_naive", type: "boolean", help: "No pseudo labels: missing labels are masked." },
  {
    name: "is_pesudo",
    type: "boolean",
    help: "Generate pseudo labels for the other head (sic: spelled as in the original).",
  },
];
