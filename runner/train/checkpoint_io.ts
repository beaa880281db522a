/**
 * What the trainer checkpoints besides weights: the position in the schedule (epoch and batch), the
 * best result so far, counters, the LR, and, for a mid-epoch stop, the current teacher targets, so a
 * resume recomputes nothing differently.
 * @module
 */
import type * as tf from "@tensorflow/tfjs-core";
import type { MultiTaskModel } from "../../core/types.ts";
import type { TeacherTargets } from "./teacher.ts";

/** Trainer state stored with a checkpoint. */
export interface TrainState {
  /** Outer epoch to continue with. */
  epoch: number;
  /** Batches of that epoch already done (0 = start of the epoch). */
  batch: number;
  best: { epoch: number; valAcc: number; row: Record<string, number | string> };
  imagesSeen: number;
  skipped: number;
  trainSeconds: number;
  lr: number;
  sinceImprove: number;
  bestValLoss: number;
  /** Teacher targets in use (mid-epoch checkpoints only). */
  targets?: TeacherTargets[];
  /** Mid-epoch checkpoints: the epoch's training-loss sums so far and the steps they cover. */
  lossSums?: Record<string, number>;
  lossSteps?: number;
  /** The task weighting's state (core/task_weighting/), JSON. */
  taskWeighting?: unknown;
}

/** Checkpoint storage as the trainer sees it. */
export interface CheckpointIO {
  save(
    which: "last" | "best",
    args: { model: MultiTaskModel; optimizer: tf.Optimizer; state: TrainState },
  ): Promise<void>;
  /** Load the optimizer slots of the checkpoint being resumed into a fresh optimizer. */
  restoreOptimizer(optimizer: tf.Optimizer): Promise<void>;
  /**
   * Load the weights of `checkpoint/best` into `model`; returns the outer epoch (1-based) they were
   * saved after, so the caller can check they are the epoch it selected.
   */
  restoreBest(model: MultiTaskModel): Promise<number>;
}
