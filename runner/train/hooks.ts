/**
 * What happens around the trainer's epochs, as hooks on one shared loop state: freezing and its LR
 * switch, the log (log.csv, confusion matrices, the console line), LR reduction and early stopping on a
 * validation plateau, and checkpoints. The trainer (`trainer.ts`) is the loop: teacher targets, steps,
 * evaluation and model selection; each concern here can be read, tested and replaced on its own.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { join } from "node:path";
import type { MultiTaskModel } from "../../core/types.ts";
import type { EvalEntry } from "./evaluate.ts";
import type { TeacherTargets } from "./teacher.ts";
import type { CheckpointIO, TrainState } from "./checkpoint_io.ts";
import { type LogRow, type RunLog, writeConfusion } from "./run_log.ts";
import { testPredictionsPath, writeTestPredictions } from "./test_predictions.ts";

/** The best epoch so far (1-based; 0 before any). */
export interface BestEpoch {
  epoch: number;
  valAcc: number;
  row: LogRow;
}

/** Mutable state of one training loop, shared by the loop and its hooks. */
export interface LoopState {
  model: MultiTaskModel;
  /** Outer epochs of the run. */
  epochs: number;
  optimizer: tf.Optimizer;
  lr: number;
  best: BestEpoch;
  /** Outer epochs since the validation loss last improved. */
  sinceImprove: number;
  bestValLoss: number;
  imagesSeen: number;
  skipped: number;
  trainSeconds: number;
  targets: TeacherTargets[];
  log: (line: string) => void;
  /** The task weighting's state at the last epoch end (UW log-variances, DWA history, ...). */
  taskWeighting?: unknown;
}

/** What an epoch produced, as the hooks see it after evaluation and model selection. */
export interface EpochOutcome {
  /** 0-based outer epoch (outputs show `t + 1`). */
  t: number;
  row: LogRow;
  entries: EvalEntry[];
  /** Whether this epoch is the new best on validation accuracy. */
  improved: boolean;
}

/** The test split scored once at the end of a run, on the weights of the epoch chosen on validation. */
export interface TestOutcome {
  /** The selected outer epoch (1-based). */
  epoch: number;
  entries: EvalEntry[];
}

/** A hook of the training loop. `epochEnd` returning "stop" ends training after every hook has run. */
export interface TrainerHook {
  name: string;
  epochStart?(s: LoopState, t: number): void | Promise<void>;
  epochEnd?(s: LoopState, e: EpochOutcome): void | "stop" | Promise<void | "stop">;
  /** After the last epoch, once the test split has been scored on the selected weights. */
  tested?(s: LoopState, e: TestOutcome): void | Promise<void>;
}

/** The learning-rate field of tfjs' AdamOptimizer, which every applyGradients reads. */
interface WithLearningRate {
  learningRate: number;
}

/** The optimizer's current learning rate. */
export function optimizerLr(optimizer: tf.Optimizer): number {
  return (optimizer as unknown as WithLearningRate).learningRate;
}

/** Sets the learning rate the optimizer's next steps use. */
export function setOptimizerLr(optimizer: tf.Optimizer, lr: number): void {
  (optimizer as unknown as WithLearningRate).learningRate = lr;
}

/** A fresh Adam optimizer with the toolkit's constants. */
export function adam(lr: number): tf.Optimizer {
  return tf.train.adam(lr, 0.9, 0.999, 1e-7);
}

/** The trainer state a checkpoint stores. `batch` > 0 marks a mid-epoch stop, which keeps the targets. */
export function trainState(s: LoopState, epoch: number, batch: number): TrainState {
  return {
    epoch,
    batch,
    best: s.best,
    imagesSeen: s.imagesSeen,
    skipped: s.skipped,
    trainSeconds: s.trainSeconds,
    lr: s.lr,
    sinceImprove: s.sinceImprove,
    bestValLoss: s.bestValLoss,
    targets: batch > 0 ? s.targets : undefined,
    taskWeighting: s.taskWeighting,
  };
}

/**
 * Two-stage training (`--is_freezing`): the trunk is frozen until `until` (an outer epoch, 0-based), with
 * LR 1e-3 for the heads; then it is unfrozen and training continues at the run's LR with a fresh optimizer.
 */
export function freezingHook(opts: { until: number; lr: number }): TrainerHook {
  return {
    name: "freezing",
    epochStart(s, t) {
      if (opts.until === 0 || t !== opts.until) return;
      s.model.setTrunkTrainable(true);
      s.lr = opts.lr;
      s.optimizer.dispose();
      s.optimizer = adam(s.lr);
      s.log(`epoch ${t + 1}: trunk unfrozen, lr ${s.lr}`);
    },
  };
}

/**
 * Append the epoch's row to log.csv, write its confusion matrices and print the console line; at the end,
 * write the test split's confusion matrices and the per-row predictions behind them, under the selected
 * epoch's number (`epoch_<best>_<task>_<dataset>_test.csv`).
 */
export function logHook(opts: {
  runLog: RunLog;
  outDir: string;
  quiet: boolean;
  onEpochEnd?: (epoch: number, row: LogRow) => void;
}): TrainerHook {
  const confusions = async (s: LoopState, epoch: number, entries: EvalEntry[]) => {
    for (const entry of entries) {
      const labels = s.model.tasks.find((m) => m.name === entry.task)!.labels;
      const name = `epoch_${epoch}_${entry.task}_${entry.dataset}_${entry.split}.csv`;
      await writeConfusion(join(opts.outDir, "confusion", name), labels, entry.confusion);
      if (entry.split === "test" && entry.rows) {
        const path = testPredictionsPath(opts.outDir, epoch, entry.task, entry.dataset);
        await writeTestPredictions(path, entry.rows);
      }
    }
  };
  return {
    name: "log",
    async epochEnd(s, e) {
      await opts.runLog.append(e.row);
      await confusions(s, e.t + 1, e.entries);
      opts.onEpochEnd?.(e.t, e.row);
      if (opts.quiet) return;
      const val = e.entries.filter((x) => x.split === "val").map((x) =>
        `${x.task}/${x.dataset} val ${pct(x.acc)}`
      );
      s.log(`epoch ${e.t + 1}/${s.epochs}: ${val.join(", ")}${e.improved ? " (best)" : ""}`);
    },
    async tested(s, e) {
      await confusions(s, e.epoch, e.entries);
    },
  };
}

/**
 * On a validation-loss plateau of `patience` outer epochs: multiply the LR by 0.1 (`--reduce_lr`) and/or
 * stop (`--early_stopping`), as the original Keras callbacks did, per outer epoch.
 */
export function plateauHook(
  opts: { patience: number; reduceLr: boolean; earlyStopping: boolean },
): TrainerHook {
  return {
    name: "plateau",
    epochEnd(s, e) {
      if (s.sinceImprove < opts.patience) return;
      if (opts.reduceLr) {
        s.lr *= 0.1;
        setOptimizerLr(s.optimizer, s.lr);
        s.sinceImprove = 0;
        s.log(`epoch ${e.t + 1}: validation loss flat for ${opts.patience} epochs, lr -> ${s.lr}`);
      }
      if (opts.earlyStopping && s.sinceImprove >= opts.patience) {
        s.log(`early stopping after epoch ${e.t + 1}`);
        return "stop";
      }
    },
  };
}

/**
 * Save `checkpoint/best` at a new best and `checkpoint/last` after every epoch (after the LR is settled).
 * Best goes first: a run stopped between the two resumes from the previous `last`, whose state does not
 * name this epoch as best yet, so the best a resumed run reports always has its weights on disk.
 */
export function checkpointHook(io: CheckpointIO): TrainerHook {
  return {
    name: "checkpoint",
    async epochEnd(s, e) {
      const state = trainState(s, e.t + 1, 0);
      if (e.improved) await io.save("best", { model: s.model, optimizer: s.optimizer, state });
      await io.save("last", { model: s.model, optimizer: s.optimizer, state });
    },
  };
}

function pct(v: number): string {
  return Number.isFinite(v) ? `${(v * 100).toFixed(1)}%` : "n/a";
}
