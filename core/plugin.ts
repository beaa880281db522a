/**
 * The method plugin contract. A plugin is a file in `methods/` whose default export is a
 * {@link MethodPlugin}: data mode, label strategy, loss terms, option schema, presets and an
 * optional model extension. The runner discovers plugins at run time; the core never imports one.
 * @module
 */
import type { Scalar, Tensor1D, Tensor2D } from "./tensors.ts";
import type { Options, OptionSpec } from "./options.ts";
import type { ArchName, ModelExtension, ModelOutputs, MultiTaskModel, TaskName, TaskSpec } from "./types.ts";
import type { Rng } from "./rng.ts";
import type { DataSource, EpochGenerator, GeneratorOptions } from "./batches.ts";
import type { ImageSet } from "./types.ts";

/** The name of a schedule: a built-in one (`single`, `joint`, `alternating`) or a plugin's own. */
export type DataMode = string;

/** How a comparison's budget (passes over every dataset) becomes a run's outer epochs. */
export interface ScheduleBudget {
  /** Passes over each dataset the comparison grants. */
  passes: number;
  /** Datasets of the run. */
  datasets: number;
  /** The method's passes per outer epoch (teacher refreshes every outer epoch). */
  passesPerRefresh: number;
}

/**
 * A training schedule: which datasets an outer epoch trains, how its batches are drawn, when the teacher
 * is refreshed, and how a budget becomes outer epochs. The built-in ones live in `datasets/schedules.ts`;
 * a plugin may bring its own (`MethodPlugin.schedule`).
 */
export interface Schedule {
  /** Name a plugin's `dataMode` refers to. */
  name: string;
  /** `one`: a single dataset and head (single-task); `many`: a multi-task run over two or more datasets. */
  datasets: "one" | "many";
  /** Datasets trained in outer epoch `epoch` (0-based). */
  active(sets: readonly ImageSet[], epoch: number): ImageSet[];
  /** The batch generator over the run's training sources. */
  generator(sources: DataSource[], opts: GeneratorOptions): EpochGenerator;
  /** Whether the teacher targets are rebuilt at the start of outer epoch `epoch` (0-based). */
  refreshAt(epoch: number): boolean;
  /** Outer epochs that spend a comparison's budget. */
  epochsFor(budget: ScheduleBudget): number;
}

/**
 * What a label strategy sees when it builds targets for a task that a set of rows does not label:
 * the frozen teacher's outputs on those rows, and the task's own labelled training rows.
 */
export interface TeacherView {
  /** The task whose missing targets are built. */
  task: TaskSpec;
  /** Rows that need targets. */
  n: number;
  /** n*C teacher logits for `task`. */
  logits: Float32Array;
  /** n*C teacher probabilities (row softmax, T = 1). */
  probs: Float32Array;
  /** n*d teacher feature tap of `task` (pre-cross-stitch 128-d branch feature). */
  features: Float32Array;
  /** Feature width. */
  d: number;
  /** The task's own labelled training rows, seen by the same teacher. */
  labelled: {
    n: number;
    features: Float32Array;
    labels: Int32Array;
    probs: Float32Array;
    /** Teacher probabilities of the other tasks on the labelled rows (trains LEL-LTN's label transfer net). */
    otherProbs?: Partial<Record<TaskName, Float32Array>>;
  };
  /**
   * The training rows of the run's other datasets that miss the task too, seen by the same teacher (filled only
   * when the strategy's `needsPeers` asks; absent otherwise). A graph over them and these n rows spans every
   * dataset the task is missing from.
   */
  peers?: { n: number; features: Float32Array; probs: Float32Array };
  /** The teacher's extra outputs of rank 2 on the same n rows (n*width each; e.g. the joint LTN's `ltn_<task>`). */
  extra?: Record<string, Float32Array>;
  /** Teacher probabilities of the other tasks on the same n rows (label transfer input). */
  otherProbs: Partial<Record<TaskName, Float32Array>>;
  /** True labels the rows do carry for other tasks (-1 = missing). */
  otherLabels: Partial<Record<TaskName, Int32Array>>;
  /** Hidden truth of `task` for these rows, when known (synthetic data). Strategies must not read it;
   * it is only used by the core to score the targets. */
}

/** Targets built by a label strategy: n*C rows; an all-zero row means "masked". */
export interface TargetSet {
  /** n*C targets, row-major; an all-zero row is masked. */
  targets: Float32Array;
  /** Per-row sample weight in [0, 1] (for statistics), when the strategy has one. */
  weights?: Float32Array;
  /** 1 where the row's pseudo label was kept (hard selection), when the strategy selects. */
  kept?: Uint8Array;
  /** Scalar statistics to log (e.g. mean weight, kept fraction). */
  stats?: Record<string, number>;
  /**
   * Per-row student temperature τ_i (absent: 1): the masked loss divides the row's logits by τ_i and scales
   * its term by τ_i² (Hinton et al.'s soft-target loss, `maskedCrossEntropy`).
   */
  temperature?: Float32Array;
}

/** Context a label strategy receives besides the teacher view. */
export interface StrategyContext {
  /** The run's resolved options. */
  options: Options;
  /** The run's seeded random stream (for strategies that sample). */
  rng: Rng;
  /** Whether the run uses the as-coded profile of the original scripts (`--compat`). */
  compat: boolean;
}

/** How a sample's missing-task target is made. `build` is absent for "none" (masked). */
export interface LabelStrategy {
  /** Short id shown in `deno task methods`, e.g. `none`, `distilled(T)`, `weighted-pseudo`. */
  name: string;
  /** Whether the strategy needs a teacher snapshot at all. */
  needsTeacher: boolean;
  /**
   * Whether `build` reads `view.labelled` (the task's own labelled rows seen by the teacher). When it
   * returns false the trainer skips that inference pass and leaves `labelled` empty. Default: true.
   */
  needsLabelled?: (options: Options) => boolean;
  /** Whether `build` reads `view.peers` (the other datasets' rows that miss the task). Default: false. */
  needsPeers?: (options: Options) => boolean;
  /** Build the targets of the missing task from the teacher's view (absent: the task stays masked). */
  build?(view: TeacherView, ctx: StrategyContext): TargetSet | Promise<TargetSet>;
}

/** Inputs of a loss term, for one training batch. */
export interface LossContext {
  /** The model being trained. */
  model: MultiTaskModel;
  /** Its outputs on the batch (logits, feature taps, extension outputs). */
  outputs: ModelOutputs;
  /** Softmax probabilities per head for the batch. */
  probs: Partial<Record<TaskName, Tensor2D>>;
  /** Per head: 1 for rows with a (true or pseudo) target. */
  masks: Partial<Record<TaskName, Tensor1D>>;
  /** Per head: the batch's targets (true, pseudo or distilled rows; all-zero rows have none). */
  targets?: Partial<Record<TaskName, Tensor2D>>;
  /** Per head: 1 for rows whose target is a true label of their dataset (not a pseudo or distilled one). */
  labelled?: Partial<Record<TaskName, Tensor1D>>;
  /** The run's resolved options. */
  options: Options;
}

/** A differentiable term added to the masked cross-entropy. */
export interface LossTerm {
  /** Short id; its value is logged per epoch as `all/all/train/<name>`. */
  name: string;
  /** Coefficient read from the options (0 disables the term). */
  coefficient(options: Options): number;
  /** The term's value on the batch (unweighted; the trainer multiplies by the coefficient). */
  compute(ctx: LossContext): Scalar;
}

/** A method's part in a comparison: the single-task reference, a baseline, or the proposed method. */
export type MethodRole = "reference" | "baseline" | "proposed";

/**
 * How one of the original scripts' flag combinations selects this method. The runner asks every
 * plugin that names a script and runs the highest-ranked one whose `when` holds; a selector without
 * `when` is the script's fallback (it runs when no flag selects anything, with a warning).
 */
export interface ScriptSelector {
  /** Script family id, e.g. `alternative` (ALTERNATIVE_*.py) or `confusion` (CONFUSION_EP_multitask.py). */
  script: string;
  /** Whether the resolved options select this method. */
  when?: (options: Options) => boolean;
  /** Higher wins when several selectors hold (the original scripts' if-chain order). */
  rank?: number;
}

/** The method plugin contract. */
export interface MethodPlugin {
  /** kebab-case id used by `deno task NAME` and `deno task run NAME`. */
  name: string;
  /** Other names `deno task run` and `train({ method })` accept (case-insensitive). */
  aliases: string[];
  /** One line shown by `deno task methods` and `--help`. */
  summary: string;
  /** The paper or source the method follows. */
  reference: string;
  /** The schedule, by name (see {@link Schedule}); `single`, `joint` and `alternating` are built in. */
  dataMode: DataMode;
  /** A schedule of the plugin's own, named by `dataMode`. */
  schedule?: Schedule;
  /** How the missing task's targets are made. */
  labels: LabelStrategy;
  /** Loss terms added to the masked cross-entropy. */
  loss: { terms: LossTerm[] };
  /** Flags this plugin reads beyond the common schema. */
  options: OptionSpec[];
  /** Named option sets that reproduce seed command lines; `default` applies when none is named. */
  presets?: Record<string, Partial<Options>>;
  /** Outer-epoch passes over the data between teacher refreshes (LEL-LTN: 4). */
  passesPerRefresh?: (options: Options) => number;
  /** Extra layers or heads the method needs. */
  extendModel?: (options: Options) => ModelExtension | undefined;
  /**
   * The model carries the manifold outputs `manifold_<task>` = [post-ReLU, pre-cross-stitch branch features ‖
   * softmax] (docs/original.md §4.2 item 10), the features the graph-Laplacian term builds its graph on.
   */
  manifold?: boolean;
  /** Optional validation of option combinations; throw an OptionError to refuse. */
  validate?: (options: Options) => void;
  /** The method's part in a comparison (default `baseline`). */
  role?: MethodRole;
  /** Which original scripts' flags select this method (see {@link ScriptSelector}). */
  selectedBy?: ScriptSelector[];
  /**
   * The ablation the method invites (`deno task compare --profile=ablation`): named variants, each the method
   * with fixed flags, the first being the full method the others change one factor of.
   */
  ablation?: { name: string; flags: string[] }[];
  /** The shared architectures (`--arch`) the method can use; absent: all of them. */
  architectures?: ArchName[];
}
