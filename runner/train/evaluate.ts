/**
 * Evaluation on held-out splits: per dataset and each task it labels, accuracy, mean-class accuracy,
 * cross-entropy and the confusion matrix. Metric names follow `task/dataset/split/metric`.
 * @module
 */
import type { ImageSet, MultiTaskModel, TaskName } from "../../core/types.ts";
import { predictRows } from "../../core/infer.ts";
import { argmaxRows, type ClassMetrics, classMetrics } from "../../core/metrics.ts";

/** Metrics of one (task, dataset, split). */
export interface EvalEntry extends ClassMetrics {
  task: TaskName;
  dataset: string;
  split: "val" | "test";
  loss: number;
  /**
   * The labelled rows behind the metrics, in split order: dataset row index, true and predicted class
   * (the same predictions as `acc` and `confusion`; `test_predictions.ts` persists the test split's).
   */
  rows?: { row: Int32Array; truth: Int32Array; pred: Int32Array };
}

/** Evaluate every labelled task of every dataset on the given splits. */
export async function evaluate(
  model: MultiTaskModel,
  opts: { sets: ImageSet[]; splits?: ("val" | "test")[]; batchSize?: number },
): Promise<EvalEntry[]> {
  const out: EvalEntry[] = [];
  for (const set of opts.sets) {
    for (const split of opts.splits ?? ["val", "test"]) {
      const rows = set.split[split];
      if (rows.length === 0) continue;
      const pred = await predictRows(model, set, { rows, batchSize: opts.batchSize, features: false });
      for (const t of set.tasks) {
        if (!model.tasks.some((m) => m.name === t.name)) continue;
        const probs = pred.probs[t.name]!;
        const lab = set.labels[t.name]!;
        const truth = new Int32Array(rows.length);
        for (let i = 0; i < rows.length; i++) truth[i] = lab[rows[i]];
        const predicted = argmaxRows(probs, t.classes);
        const m = classMetrics(truth, predicted, t.classes);
        let ce = 0;
        let n = 0;
        for (let i = 0; i < rows.length; i++) {
          if (truth[i] < 0) continue;
          ce -= Math.log(Math.max(probs[i * t.classes + truth[i]], 1e-7));
          n++;
        }
        out.push({
          ...m,
          task: t.name,
          dataset: set.name,
          split,
          loss: n ? ce / n : NaN,
          rows: labelledRows(rows, truth, predicted),
        });
      }
    }
  }
  return out;
}

/** The labelled rows (truth >= 0) of a split, in split order. */
function labelledRows(rows: Int32Array, truth: Int32Array, pred: Int32Array): NonNullable<EvalEntry["rows"]> {
  const keep: number[] = [];
  for (let i = 0; i < rows.length; i++) if (truth[i] >= 0) keep.push(i);
  return {
    row: Int32Array.from(keep, (i) => rows[i]),
    truth: Int32Array.from(keep, (i) => truth[i]),
    pred: Int32Array.from(keep, (i) => pred[i]),
  };
}

/** Flatten entries into `task/dataset/split/metric` columns. */
export function evalColumns(entries: EvalEntry[]): Record<string, number> {
  const row: Record<string, number> = {};
  for (const e of entries) {
    const p = `${e.task}/${e.dataset}/${e.split}`;
    row[`${p}/acc`] = e.acc;
    row[`${p}/mean_class_acc`] = e.meanClassAcc;
    row[`${p}/loss`] = e.loss;
  }
  return row;
}

/** Mean over tasks of the validation accuracy (model selection) and the summed validation loss. */
export function selectionScore(entries: EvalEntry[]): { valAcc: number; valLoss: number } {
  const val = entries.filter((e) => e.split === "val");
  if (val.length === 0) return { valAcc: NaN, valLoss: NaN };
  return {
    valAcc: val.reduce((a, e) => a + e.acc, 0) / val.length,
    valLoss: val.reduce((a, e) => a + e.loss, 0),
  };
}
