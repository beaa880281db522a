/**
 * Shared contracts between datasets, models, the training core and method plugins.
 * Everything here is a type: this module has no runtime dependencies, so any module may import it.
 * @module
 */
import type { LayersModel, Scalar, SymbolicTensor, Tensor, Tensor2D, Tensor4D, Variable } from "./tensors.ts";

/** A prediction task. Face tasks plus the two tasks of the digits-rot benchmark. */
export type TaskName = "emotion" | "pose" | "gender" | "age" | "digit" | "rotation";

/** All task names in canonical head order. */
export const TASK_NAMES: readonly TaskName[] = ["emotion", "pose", "gender", "age", "digit", "rotation"];

/** A task with its label space (class count and class names, index = class id). */
export interface TaskSpec {
  /** The task's name. */
  name: TaskName;
  /** Number of classes. */
  classes: number;
  /** Class names, index = class id. */
  labels: string[];
}

/** Backbone names accepted by `--model`. */
export type BackboneName = "mini_xception" | "vggFace" | "big_xception";

/**
 * A dataset loaded into memory: decoded, resized and preprocessed images plus per-task labels.
 * Labels use -1 for "not labelled". A dataset from disk carries only its own task labels;
 * the hidden truth of synthetic data is NOT here (see {@link HiddenTruth}).
 */
export interface ImageSet {
  /** Dataset name as given on the command line, e.g. `synth-emotion` or `ferplus`. */
  name: string;
  /** The tasks this dataset labels. */
  tasks: TaskSpec[];
  /** Number of rows (images). */
  n: number;
  /** Image height in pixels. */
  height: number;
  /** Image width in pixels. */
  width: number;
  /** Channels per pixel: 1 (grayscale) or 3 (BGR). */
  channels: number;
  /** n*h*w*c floats, HWC, preprocessed with the shared preprocessing function (x/128 - 1). */
  images: Float32Array;
  /** Class id per row for every labelled task (-1 = missing). */
  labels: Partial<Record<TaskName, Int32Array>>;
  /** Row indices of the train / validation / test splits (disjoint). */
  split: { train: Int32Array; val: Int32Array; test: Int32Array };
  /** Source file per row, when the rows came from files (for error messages and demos). */
  paths?: string[];
}

/**
 * Hidden ground truth for every task of every row (synthetic datasets only). Stored in a
 * separate file that only evaluation code reads; training never sees it.
 */
export interface HiddenTruth {
  /** The dataset these labels belong to. */
  dataset: string;
  /** True class id per row for every task (-1 where the generator has none). */
  labels: Partial<Record<TaskName, Int32Array>>;
}

/** Options every dataset loader accepts. */
export interface LoadOptions {
  /** Where prepared datasets live (default `data/`). */
  dataDir?: string;
  /** Square side the images are resized to. */
  imageSize: number;
  /** 1 = grayscale (mini-Xception), 3 = BGR (VGGFace). */
  channels: 1 | 3;
  /** Seed for generated data and splits. */
  seed: number;
  /** Rows to generate for synthetic datasets (ignored by real datasets); with `heldOutRows`, the training rows. */
  size?: number;
  /**
   * Embedded datasets: validation and test rows generated beyond the `size` training rows (contiguous parts:
   * train `[0, size)`, then val, then test) instead of a fractional split of `size` rows. Rows are drawn
   * independently, so the held-out rows come from the same distribution and never repeat a training row.
   */
  heldOutRows?: { val: number; test: number };
  /** Split fractions (val, test); the rest is train. */
  valFraction?: number;
  /** Fraction of the rows held out for test. */
  testFraction?: number;
  /** The original fold-0 K-fold split (no test set; val = test) instead of train/val/test. */
  compatSplit?: boolean;
  /** Skip and list bad rows instead of stopping. */
  skipBadSamples?: boolean;
}

/** Outputs of a multi-task model for one batch: per task, logits and the 128-d feature tap. */
export interface ModelOutputs {
  /** Per task: logits `[batch, classes]`. */
  logits: Partial<Record<TaskName, Tensor2D>>;
  /** Per task: the feature tap `[batch, 128]` the heads read. */
  features: Partial<Record<TaskName, Tensor2D>>;
  /** Extra named outputs that a model extension added (e.g. label-embedding logits). */
  extra: Record<string, Tensor>;
}

/** Roles of {@link MultiTaskModel.weightsByRole}. */
export type WeightRole = "shared_fc" | "task_heads" | "task_fc";

/** A built multi-task network. */
export interface MultiTaskModel {
  /** The backbone the model was built on. */
  backbone: BackboneName;
  /** Its heads, in output order. */
  tasks: TaskSpec[];
  /** Input shape `[height, width, channels]`. */
  inputShape: [number, number, number];
  /** The underlying layers model; its outputs are described by `outputNames`. */
  model: LayersModel;
  /** Run the model; `training` switches dropout/BN to training behaviour. */
  apply(x: Tensor4D, training: boolean): ModelOutputs;
  /** Variables trained by the optimiser (respects freezing). */
  trainableWeights(): Variable[];
  /** Freeze or unfreeze the shared trunk (two-stage training). */
  setTrunkTrainable(trainable: boolean): void;
  /**
   * Kernels of the Dense/Conv layers that the method regularisers read, by role: `shared_fc` the last shared
   * kernel before the heads, `task_heads` the task logit kernels, `task_fc` the first kernel of every task
   * branch, each reading the one shared representation (so row i of every `task_fc` kernel weighs the same
   * shared feature; a model whose branches read per-task inputs throws for it).
   */
  weightsByRole(role: WeightRole): Variable[];
  /** L2 weight-decay penalty of the Dense kernels (`--weights_decay`), or null when off. */
  regularizationLoss?(): Scalar | null;
  /**
   * The point where the shared trunk ends and the task heads begin. `intercept(fn)` routes the shared
   * representation through `fn` during the following forward passes (null restores the identity); the
   * gradient-based task weightings use it. Absent on models without a single shared representation.
   */
  representation?: { intercept(fn: ((rep: Tensor) => Tensor) | null): void };
}

/**
 * How the task heads share parameters above the trunk: `hps` (hard parameter sharing, the toolkit's network:
 * per-task branches on the shared trunk, with the original network's cross-stitch unit between the emotion
 * and pose branches), `cross-stitch` (one cross-stitch unit mixing every task branch), `mmoe` (multi-gate
 * mixture of experts on the trunk's features).
 */
export type ArchName = "hps" | "cross-stitch" | "mmoe";

/** Every {@link ArchName}. */
export const ARCH_NAMES: readonly ArchName[] = ["hps", "cross-stitch", "mmoe"];

/** Builder options for {@link MultiTaskModel}. */
export interface ModelOptions {
  /** The backbone to build. */
  backbone: BackboneName;
  /** One head per task. */
  tasks: TaskSpec[];
  /** Input shape `[height, width, channels]`. */
  inputShape: [number, number, number];
  /** Dropout 0.5 after the shared FC and the task branches. */
  isDropout?: boolean;
  /** BatchNorm on the FC layers. */
  isBn?: boolean;
  /** L2 weight decay on the Dense kernels (0 = off). */
  weightsDecay?: number;
  /** Cross-stitch units between the task branches. */
  crossStitch?: boolean;
  /** Shared architecture above the trunk (default `hps`). */
  arch?: ArchName;
  /** MMoE: number of experts (default 4). */
  experts?: number;
  /** Seed for every initialiser. */
  seed: number;
  /** BatchNorm momentum (the toolkit default 0.9; Keras 0.99 in compat mode). */
  bnMomentum?: number;
  /** Hook that lets a plugin add layers or heads (see {@link ModelExtension}). */
  extension?: ModelExtension;
}

/** Symbolic tensors a model extension can build on. */
export interface ExtensionContext {
  /** The model's heads. */
  tasks: TaskSpec[];
  /** Per task: the feature tap (128-d) and the default logits. */
  features: Partial<Record<TaskName, SymbolicTensor>>;
  /** Per task: the default logits. */
  logits: Partial<Record<TaskName, SymbolicTensor>>;
  /** Seed for the extension's initialisers. */
  seed: number;
}

/** What a model extension returns: replacement logits per task and extra named outputs. */
export interface ExtensionResult {
  /** Logits that replace the default ones, per task. */
  logits?: Partial<Record<TaskName, SymbolicTensor>>;
  /** Extra named outputs (read back as `ModelOutputs.extra`). */
  extra?: Record<string, SymbolicTensor>;
}

/** A plugin's hook into the model builder. */
export type ModelExtension = (ctx: ExtensionContext) => ExtensionResult;
