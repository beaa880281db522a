/**
 * Classification metrics from predicted and true class ids: accuracy, mean-class accuracy and the
 * confusion matrix (rows = true class, columns = predicted class, every class of the label space).
 * @module
 */

/** Metrics of one head on one split. */
export interface ClassMetrics {
  n: number;
  acc: number;
  meanClassAcc: number;
  confusion: number[][];
}

/** Confusion matrix over `classes` classes; rows with a true label < 0 are skipped. */
export function confusionMatrix(truth: Int32Array, pred: Int32Array, classes: number): number[][] {
  const m = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < truth.length; i++) {
    const t = truth[i];
    if (t < 0) continue;
    m[t][pred[i]]++;
  }
  return m;
}

/** Accuracy, mean-class accuracy (over classes present in `truth`) and confusion matrix. */
export function classMetrics(truth: Int32Array, pred: Int32Array, classes: number): ClassMetrics {
  const confusion = confusionMatrix(truth, pred, classes);
  let n = 0;
  let hit = 0;
  let sumRecall = 0;
  let present = 0;
  for (let c = 0; c < classes; c++) {
    const row = confusion[c];
    const total = row.reduce((a, b) => a + b, 0);
    n += total;
    hit += row[c];
    if (total > 0) {
      present++;
      sumRecall += row[c] / total;
    }
  }
  return { n, acc: n ? hit / n : NaN, meanClassAcc: present ? sumRecall / present : NaN, confusion };
}

/** Index of the largest entry of row `i` of an n*C array (first one on ties). */
export function argmaxRow(a: Float32Array, i: number, classes: number): number {
  let best = 0;
  let bv = -Infinity;
  const o = i * classes;
  for (let c = 0; c < classes; c++) {
    if (a[o + c] > bv) {
      bv = a[o + c];
      best = c;
    }
  }
  return best;
}

/** Argmax of every row of an n*C array (first one on ties). The toolkit's one argmax. */
export function argmaxRows(a: Float32Array, classes: number): Int32Array {
  const n = a.length / classes;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = argmaxRow(a, i, classes);
  return out;
}
