/**
 * Inference passes over dataset rows: logits, probabilities and feature taps per task, in batches,
 * read back asynchronously (WebGPU in Deno cannot `dataSync`).
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { ImageSet, MultiTaskModel, TaskName } from "./types.ts";

/** Outputs of {@link predictRows}: n*C (logits, probs) and n*d (features) per task. */
export interface RowPredictions {
  n: number;
  logits: Partial<Record<TaskName, Float32Array>>;
  probs: Partial<Record<TaskName, Float32Array>>;
  features: Partial<Record<TaskName, Float32Array>>;
  featureDim: Partial<Record<TaskName, number>>;
  /** The model's extra outputs of rank 2 (n*width each), when asked for (`extra: true`). */
  extra?: Record<string, Float32Array>;
}

/** Copy the images of `rows` into one batch tensor. */
export function gatherImages(set: ImageSet, rows: ArrayLike<number>): tf.Tensor4D {
  const per = set.height * set.width * set.channels;
  const buf = new Float32Array(rows.length * per);
  for (let i = 0; i < rows.length; i++) {
    buf.set(set.images.subarray(rows[i] * per, (rows[i] + 1) * per), i * per);
  }
  return tf.tensor4d(buf, [rows.length, set.height, set.width, set.channels]);
}

/** Run the model in inference mode over `rows` of `set`. */
export async function predictRows(
  model: MultiTaskModel,
  set: ImageSet,
  opts: { rows: Int32Array; batchSize?: number; features?: boolean; extra?: boolean },
): Promise<RowPredictions> {
  const { rows } = opts;
  const bs = opts.batchSize ?? 128;
  const n = rows.length;
  const out: RowPredictions = { n, logits: {}, probs: {}, features: {}, featureDim: {} };
  for (const t of model.tasks) {
    out.logits[t.name] = new Float32Array(n * t.classes);
    out.probs[t.name] = new Float32Array(n * t.classes);
  }
  for (let s = 0; s < n; s += bs) {
    const idx = rows.subarray(s, Math.min(n, s + bs));
    const x = gatherImages(set, idx);
    const res = model.apply(x, false);
    x.dispose();
    for (const t of model.tasks) {
      const z = res.logits[t.name]!;
      const p = tf.softmax(z);
      out.logits[t.name]!.set(await z.data() as Float32Array, s * t.classes);
      out.probs[t.name]!.set(await p.data() as Float32Array, s * t.classes);
      p.dispose();
      const f = res.features[t.name];
      if (opts.features !== false && f) {
        const d = f.shape[1];
        out.featureDim[t.name] = d;
        if (!out.features[t.name]) out.features[t.name] = new Float32Array(n * d);
        out.features[t.name]!.set(await f.data() as Float32Array, s * d);
      }
    }
    if (opts.extra) {
      for (const [k, e] of Object.entries(res.extra)) {
        if (e.rank !== 2) continue;
        const w = e.shape[1] as number;
        out.extra ??= {};
        out.extra[k] ??= new Float32Array(n * w);
        out.extra[k].set(await e.data() as Float32Array, s * w);
      }
    }
    tf.dispose([...Object.values(res.logits), ...Object.values(res.features), ...Object.values(res.extra)]);
  }
  return out;
}
