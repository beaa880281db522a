/**
 * The typed programmatic API: {@link train}, {@link evaluate} and {@link compare} take typed objects whose
 * names are the command line's flags, checked against the same declarations (type, range, choices), and
 * return what the commands print. The command line is a thin layer over them: it parses strings into the
 * same typed options and calls the same functions.
 * @module
 */
import { OptionError, type OptionValue } from "../core/options.ts";
import type { MethodPlugin } from "../core/plugin.ts";
import type { ArchName, TaskName } from "../core/types.ts";
import type { BackendInfo, BackendName } from "./backend.ts";
import { type ResolvedRun, resolveTyped } from "./commands.ts";
import { type DryRunReport, executeRun, type RunHooks } from "./run_command.ts";
import type { DATASET_CHOICES, MODEL_CHOICES } from "./schema.ts";
import type { TrainSummary } from "./train/trainer.ts";

export { type EvalMetric, evaluate, type EvaluateRequest } from "./eval_command.ts";
export { compare, type CompareOutcome, type CompareRequest } from "./compare.ts";

/** A dataset name (real ones must be prepared first with `deno task prep`). */
export type DatasetName = (typeof DATASET_CHOICES)[number];

/** A backbone name. */
export type ModelName = (typeof MODEL_CHOICES)[number];

/**
 * The options of a training run: the command line's flags by the same names (`epoch` is `--epoch`). The
 * runner's flags are typed here; a method's own flags (`cluster_k` of sa-mtl, ...) go in by name too and
 * are checked against the method's declarations. A flag the method does not read is refused.
 */
export interface TrainOptions {
  /** The run directory (default `runs/<method>-<datasets>-<time>`); it must not hold a run. */
  out?: string;
  /** Seed of every random choice (default 1). */
  seed?: number;
  /** TensorFlow.js backend (default `auto`: tensorflow > webgpu > wasm + kernel pack > cpu). */
  backend?: BackendName;
  /** Only errors and the final result (no progress lines). */
  quiet?: boolean;
  /** Validate the options, the datasets and `out`, build the model, and stop: nothing is written. */
  dry_run?: boolean;
  /** Accepted for symmetry with the command line, where it prints JSON; no effect here. */
  json?: boolean;
  /** CPU threads the backend may use (default 1). */
  threads?: number;
  /** Backbone network (default `mini_xception`). */
  model?: ModelName;
  /** Input side in pixels (default per backbone). */
  image_size?: number;
  /** Adam learning rate (default per schedule). */
  lr?: number;
  /** Where prepared datasets live (default `data`). */
  data_dir?: string;
  /** An existing run directory (with `resume`). */
  run?: string[];
  /** Continue the run given by `run` from its last checkpoint. */
  resume?: boolean;
  /** Rerun the options of a past run's `config.json` (these options override them). */
  config?: string;
  /** Load a method plugin from this `.ts` file (outside `methods/`). */
  plugin?: string;
  /** The as-coded profile of the original scripts. */
  compat?: boolean;
  /**
   * The original's split, fold 0 of 5 with validation = test (default: on with `compat`); false keeps this
   * toolkit's split or the held-out rows of `val_rows`/`test_rows`.
   */
  compat_split?: boolean;
  /** Datasets to train on (overrides the `dataset_*` options). */
  datasets?: DatasetName[];
  /** Rows generated per embedded synthetic dataset (training rows only with `val_rows` and `test_rows`). */
  train_size?: number;
  /** Embedded datasets: validation rows generated beyond the training rows (with `test_rows`). */
  val_rows?: number;
  /** Embedded datasets: test rows generated beyond the training and validation rows (with `val_rows`). */
  test_rows?: number;
  /** Seed of the embedded datasets' rows and of the splits (default: `seed`). */
  data_seed?: number;
  /** Domain shift between synth-emotion and synth-pose in [0, 1] (default 0.8). */
  domain_shift?: number;
  /** Nuisance knobs of the synthetic faces, `key=value` each (see docs/data.md). */
  synth_difficulty?: string[];
  /** Use at most this many training rows per dataset. */
  max_train_rows?: number;
  /** Start from weights: a checkpoint or run directory, or a tfjs layers `model.json`. */
  init_weights?: string;
  /** On a non-finite loss or gradient: `stop` the run (default) or `skip` the batch. */
  nan_policy?: "stop" | "skip";
  /** Skip and list bad rows instead of stopping. */
  skip_bad_samples?: boolean;
  /** Stop when validation loss has not improved for `patience` outer epochs. */
  early_stopping?: boolean;
  /** Multiply the learning rate by 0.1 after `patience` outer epochs without improvement. */
  reduce_lr?: boolean;
  /** Learning rate over the run's steps: `constant` (default) or `cosine` decay to zero. */
  lr_schedule?: "constant" | "cosine";
  /** Share of the run's steps with a linear learning-rate warm-up (default 0). */
  lr_warmup?: number;
  /** Re-estimate BatchNorm statistics before each evaluation (default true). */
  bn_recalibrate?: boolean;
  /** Per-epoch row shuffle (`rows`, default) or the original fixed batches (`batches`). */
  shuffle?: "rows" | "batches";
  /** Batch size of evaluation passes (default 128). */
  eval_batch_size?: number;
  /** Outer epochs (alternation steps for alternating methods). */
  epoch?: number;
  /** Batch size (joint methods: the total, split between datasets). */
  batch_size?: number;
  /** Outer epochs without improvement before early stopping or LR reduction. */
  patience?: number;
  /** Data augmentation (rotation, shift, zoom, horizontal flip). */
  is_augmentation?: boolean;
  /** Dropout 0.5 after the shared FC and the task branches. */
  is_dropout?: boolean;
  /** BatchNorm on the FC layers. */
  is_bn?: boolean;
  /** L2 weight decay on Dense kernels. */
  weights_decay?: number;
  /**
   * How task losses or gradients are weighted (core/task_weighting/): ew (default), uw, dwa, rlw, pcgrad,
   * mgda, cagrad, imtl, gradnorm, nash-mtl.
   */
  task_weighting?: string;
  /** Where gradient weightings compare task gradients: per row of the shared representation, or summed. */
  task_grad_space?: string;
  /** DWA's temperature. */
  dwa_temperature?: number;
  /** CAGrad's c (how far from the average gradient). */
  cagrad_c?: number;
  /** GradNorm's asymmetry alpha. */
  gradnorm_alpha?: number;
  /** GradNorm's learning rate for the task weights. */
  gradnorm_lr?: number;
  /** The shared architecture above the trunk: hps (default), cross-stitch or mmoe. */
  arch?: ArchName;
  /** MMoE: number of experts. */
  mmoe_experts?: number;
  /** Two-stage training: freeze the trunk first. */
  is_freezing?: boolean;
  /** Outer epoch at which the trunk is unfrozen. */
  no_freezing_epoch?: number;
  /** Loss weight of the emotion head. */
  E_loss_weights?: number;
  /** Loss weight of the pose head. */
  P_loss_weights?: number;
  /** Loss weight of the age head. */
  A_loss_weights?: number;
  /** Loss weight of the gender head. */
  G_loss_weights?: number;
  /** A named option set of the method (see `deno task methods`). */
  preset?: string;
  /** Single-task methods: the one dataset to train on. */
  dataset?: DatasetName;
  /** Single-task methods: the task code of the original script (0 emotion, 1 age, 5 pose, 10 gender). */
  task_type?: 0 | 1 | 5 | 10;
  /** Single-task methods: the task by name. */
  task?: TaskName;
  /** The emotion dataset of a multi-task run. */
  dataset_emotion?: DatasetName;
  /** The pose dataset of a multi-task run. */
  dataset_pose?: DatasetName;
  /** The age dataset (emotion/age runs). */
  dataset_age?: DatasetName;
  /** The gender + age dataset. */
  dataset_gender_age?: DatasetName;
  /** Multi-task runs: the heads to train (default: every task the datasets label; alternative-ea: emotion, age). */
  tasks?: TaskName[];
  /** Original scripts' entry tasks only: accepted for compatibility, unused. */
  num_worker?: number;
  /** Original scripts' entry tasks only: select the method without pseudo labels. */
  is_naive?: boolean;
  /** Original scripts' entry tasks only: select a pseudo-label method (spelled as in the original). */
  is_pesudo?: boolean;
  /** A method's own flag, by name (checked against the method's declaration). */
  [flag: string]: OptionValue;
}

/** What {@link train} takes. */
export interface TrainRequest {
  /**
   * The method to train: a plugin name or alias (`sa-mtl`), or an original script's entry task
   * (`alternative-ep`), which picks the method from the options as the script did. May be omitted when
   * `plugin` (or `options.plugin`, or `options.config`) names it.
   */
  method?: string;
  /** The flags, typed (see {@link TrainOptions}); defaults, the method's task and presets fill the rest. */
  options?: TrainOptions;
  /**
   * A method plugin object to train, besides the discovered ones. Its runs train and report like any
   * other, but `eval`, the demos and `config` find a run's method by name in `methods/` or in the run's
   * plugin file, so for runs you will open again give the file as `options.plugin` instead.
   */
  plugin?: MethodPlugin;
  /** Progress and warning lines (default: stderr). `options.quiet` keeps progress off. */
  log?: (line: string) => void;
  /** Test and embedding hooks (after loading the data, after each epoch). */
  hooks?: RunHooks;
}

/** What {@link train} returns. */
export interface TrainResult {
  /** The method that trained (a plugin name). */
  method: string;
  /** The datasets it trained on. */
  datasets: string[];
  /** The run directory (null after `dry_run`: nothing was written). */
  dir: string | null;
  /** The run's final numbers, as in its `summary.json` (null after `dry_run`). */
  summary: TrainSummary | null;
  /** The backend that ran it. */
  backend: BackendInfo;
  /** After `dry_run`: every setting with its value and source, the data and the heads. */
  dryRun?: DryRunReport;
  /** Warnings (repairs, ignored flags), also sent to `log`. */
  warnings: string[];
}

/**
 * Train a method: the typed form of `deno task <method> [flags]`. The options are checked against the
 * declarations of the runner and the method (an unknown name, a bad type, a value out of range or not
 * among the choices, or a flag the method does not read is an {@link OptionError} naming the flag), then
 * the datasets load, the model builds, and only then is the run directory written.
 */
export async function train(request: TrainRequest): Promise<TrainResult> {
  const options = { ...request.options };
  if (options.help !== undefined) {
    throw new OptionError("--help: a command-line flag; not an option of train()");
  }
  const task = request.method ?? "run";
  const run = await resolveTyped({ task, options, plugin: request.plugin }, {
    print: request.log ?? console.error,
  });
  // Only `help` returns no run, and it is refused above.
  if (!run) throw new Error("train: the request resolved to no run");
  return await trainResolved(run, { log: request.log, hooks: request.hooks });
}

/** Train a resolved run (the command line's path after parsing, and {@link train}'s after checking). */
export async function trainResolved(
  run: ResolvedRun,
  opts: { log?: (line: string) => void; hooks?: RunHooks } = {},
): Promise<TrainResult> {
  const log = opts.log ?? ((s: string) => console.error(s));
  if (!run.options.quiet) { for (const w of run.warnings) log(`warning: ${w}`); }
  const out = await executeRun(run, log, opts.hooks);
  return {
    method: run.plugin.name,
    datasets: run.datasets,
    dir: out.dir,
    summary: out.summary,
    backend: out.backend,
    dryRun: out.dryRun,
    warnings: run.warnings,
  };
}
