/**
 * The batch contracts shared by the generators (datasets/), the schedules and the trainer: a data
 * source, a batch with per-head targets and masks, and an epoch-indexed generator. Types only.
 * @module
 */
import type { ImageSet, TaskName, TaskSpec } from "./types.ts";

/** Augmentation ranges. */
export interface AugmentOptions {
  /** Maximum rotation in degrees (uniform in +-rotation). Default 10. */
  rotation?: number;
  /** Maximum shift as a fraction of width/height (uniform in +-shift per axis). Default 0.1. */
  shift?: number;
  /** Zoom range [lo, hi]: factor > 1 enlarges the content. Default [0.9, 1.1]. */
  zoom?: [number, number];
  /** Random horizontal flip with probability 0.5. Default true. */
  flip?: boolean;
  /** How pixels from outside the source are filled: nearest edge (Keras default) or a constant. */
  fill?: "nearest" | "constant";
  /** Constant for `fill: "constant"` (in the preprocessed range; -1 = black). Default -1. */
  cval?: number;
}

/** Per-task targets indexed by dataset row: n*C floats (an all-zero row = no target). */
export type PseudoTargets = Partial<Record<TaskName, Float32Array>>;

/** One dataset and the rows a generator draws from it. */
export interface DataSource {
  /** The dataset rows are drawn from. */
  set: ImageSet;
  /** Row indices into `set` (e.g. `set.split.train`). */
  rows: Int32Array;
  /** Targets for tasks the rows lack (pseudo / distilled), indexed by dataset row. */
  pseudo?: PseudoTargets;
}

/** A training or evaluation batch. */
export interface Batch {
  /** Number of rows. */
  size: number;
  /** size*h*w*c, HWC. */
  x: Float32Array;
  /** Which dataset row each batch row is. */
  rows: { dataset: string; row: number }[];
  /** Index into the generator's sources per batch row. */
  source: Int32Array;
  /** Per head: size*C targets. */
  targets: Partial<Record<TaskName, Float32Array>>;
  /** Per head: 1 where the row has a target. */
  masks: Partial<Record<TaskName, Float32Array>>;
}

/** Row order within and across epochs. */
export type RowOrder = "shuffle" | "fixed" | "none";

/** Options shared by the generators. */
export interface GeneratorOptions {
  /** The model's heads: targets and masks are produced for each. */
  heads: TaskSpec[];
  /** Rows per batch. */
  batchSize: number;
  /** Seed for shuffles and augmentation (epoch e uses a stream derived from seed and e). */
  seed: number;
  /** Default `shuffle`. */
  order?: RowOrder;
  /** Augment every image (true = default ranges). Off by default. */
  augment?: boolean | AugmentOptions;
}

/** Per-epoch overrides. */
export interface EpochOptions {
  /** Replace the sources' pseudo targets for this epoch (index = source). */
  pseudo?: (PseudoTargets | undefined)[];
}

/** An epoch-indexed batch source. */
export interface EpochGenerator {
  /** The datasets and rows, in the order given to the generator. */
  readonly sources: DataSource[];
  /** Batches in epoch `epoch`. */
  steps(epoch: number): number;
  /** The batches of epoch `epoch`, in order. */
  epoch(epoch: number, opts?: EpochOptions): IterableIterator<Batch>;
}
