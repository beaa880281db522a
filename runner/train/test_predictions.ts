/**
 * Per-row test predictions of a run: for each (task, dataset) and each epoch whose test split was
 * evaluated (a new best on validation), `predictions/epoch_<E>_<task>_<dataset>_test.csv` with one line
 * per labelled test row: `row` (the dataset's row index), `true` and `pred` (class ids). They are the
 * same predictions as the accuracy and the confusion matrix of that epoch, so two runs on the same test
 * rows can be paired row by row (the report's bootstrap over test rows).
 * @module
 */
import { join } from "node:path";
import { parseCsv, stringifyCsv } from "../../core/csv.ts";
import { writeFileAtomic } from "../../core/fs.ts";
import { hashString } from "../../core/rng.ts";

/** The labelled test rows of one (task, dataset) at one epoch, in split order. */
export interface TestPredictions {
  /** Dataset row index of each labelled test row. */
  row: Int32Array;
  /** True class id. */
  truth: Int32Array;
  /** Predicted class id (argmax). */
  pred: Int32Array;
}

/** Path of the predictions file of an epoch (1-based), task and dataset. */
export function testPredictionsPath(dir: string, epoch: number, task: string, dataset: string): string {
  return join(dir, "predictions", `epoch_${epoch}_${task}_${dataset}_test.csv`);
}

/** Write the file atomically. */
export async function writeTestPredictions(path: string, p: TestPredictions): Promise<void> {
  if (p.row.length !== p.truth.length || p.row.length !== p.pred.length) {
    throw new RangeError(
      `${path}: ${p.row.length} rows, ${p.truth.length} labels, ${p.pred.length} predictions`,
    );
  }
  const rows = Array.from(p.row, (r, i) => [r, p.truth[i], p.pred[i]]);
  await writeFileAtomic(path, stringifyCsv(["row", "true", "pred"], rows));
}

/** Read a file written by {@link writeTestPredictions}; a malformed line is an error naming it. */
export async function readTestPredictions(path: string): Promise<TestPredictions> {
  const t = parseCsv(await Deno.readTextFile(path), path);
  for (const c of ["row", "true", "pred"]) {
    if (!t.columns.includes(c)) throw new RangeError(`${path}: no column "${c}"`);
  }
  const n = t.rows.length;
  const out = { row: new Int32Array(n), truth: new Int32Array(n), pred: new Int32Array(n) };
  t.rows.forEach((r, i) => {
    const v = [Number(r.row), Number(r.true), Number(r.pred)];
    if (!v.every((x) => Number.isInteger(x) && x >= 0)) {
      throw new RangeError(
        `${path}: line ${i + 2}: expected three class/row ids >= 0, got ${Object.values(r).join(",")}`,
      );
    }
    [out.row[i], out.truth[i], out.pred[i]] = v;
  });
  return out;
}

/** Per-row correctness as a string of `0`/`1`, one character per labelled test row in split order. */
export function correctnessString(p: TestPredictions): string {
  let s = "";
  for (let i = 0; i < p.truth.length; i++) s += p.truth[i] === p.pred[i] ? "1" : "0";
  return s;
}

/**
 * Fingerprint of the test rows: count and a hash of the row indices and their true classes, in order.
 * Two runs whose fingerprints agree scored the same rows (same labels, so the same data, not only the
 * same indices of differently generated data) in the same order, so their correctness vectors pair up.
 */
export function rowsFingerprint(p: Pick<TestPredictions, "row" | "truth">): string {
  const text = Array.from(p.row, (r, i) => `${r}:${p.truth[i]}`).join(",");
  return `${p.row.length}:${(hashString(text) >>> 0).toString(16).padStart(8, "0")}`;
}

/**
 * What a report needs of a run's test predictions at its chosen epoch: the correctness string, the rows'
 * fingerprint and the count; empty when the run wrote no predictions file (runs of older versions).
 */
export async function testRowFields(
  dir: string,
  epoch: number,
  task: string,
  dataset: string,
): Promise<{ testCorrect?: string; testRows?: string; nTest?: number }> {
  const path = testPredictionsPath(dir, epoch, task, dataset);
  let p: TestPredictions;
  try {
    p = await readTestPredictions(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return {};
    throw e;
  }
  return { testCorrect: correctnessString(p), testRows: rowsFingerprint(p), nTest: p.row.length };
}
