/**
 * One training step: masked multi-head loss + plugin loss terms + weight decay, gradients checked
 * for non-finite values before they are applied (never trains on NaN).
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { LossTerm } from "../../core/plugin.ts";
import type { Options } from "../../core/options.ts";
import type { MultiTaskModel, TaskName } from "../../core/types.ts";
import { maskedCrossEntropy } from "../../core/loss.ts";

/** One batch as the trainer feeds it to a step. */
export interface StepBatch {
  x: tf.Tensor4D;
  targets: Partial<Record<TaskName, tf.Tensor2D>>;
  masks: Partial<Record<TaskName, tf.Tensor1D>>;
}

/** Result of a step: per-head losses, total, and whether it was applied. */
export interface StepResult {
  total: number;
  heads: Partial<Record<TaskName, number>>;
  terms: Record<string, number>;
  /** Why the step was not applied (non-finite loss or gradient), naming the head when known. */
  fault?: string;
}

/** Options of {@link trainStep}. */
export interface StepOptions {
  model: MultiTaskModel;
  optimizer: tf.Optimizer;
  lossWeights: Partial<Record<TaskName, number>>;
  terms: LossTerm[];
  options: Options;
  /** Extra scalar added to the loss (e.g. L2 weight decay), built inside the gradient scope. */
  regularizer?: () => tf.Scalar | null;
}

/** Compute the loss, check it and the gradients, and apply them. */
export async function trainStep(batch: StepBatch, opts: StepOptions): Promise<StepResult> {
  const { model, optimizer } = opts;
  const vars = model.trainableWeights();
  const headLoss: Partial<Record<TaskName, tf.Scalar>> = {};
  const termLoss: Record<string, tf.Scalar> = {};
  const { value, grads } = tf.variableGrads(() => {
    const out = model.apply(batch.x, true);
    let total: tf.Scalar = tf.scalar(0);
    const probs: Partial<Record<TaskName, tf.Tensor2D>> = {};
    for (const t of model.tasks) {
      const z = out.logits[t.name];
      const y = batch.targets[t.name];
      const m = batch.masks[t.name];
      if (!z || !y || !m) continue;
      probs[t.name] = tf.softmax(z);
      const l = maskedCrossEntropy(z, y, m);
      headLoss[t.name] = tf.keep(l.clone());
      const w = opts.lossWeights[t.name] ?? 1;
      if (w !== 0) total = tf.add(total, tf.mul(l, w));
    }
    for (const term of opts.terms) {
      const c = term.coefficient(opts.options);
      if (c === 0) continue;
      const v = term.compute({ model, outputs: out, probs, masks: batch.masks, options: opts.options });
      termLoss[term.name] = tf.keep(v.clone());
      total = tf.add(total, tf.mul(v, c));
    }
    const reg = opts.regularizer?.();
    if (reg) {
      termLoss["weight_decay"] = tf.keep(reg.clone());
      total = tf.add(total, reg);
    }
    return total;
  }, vars);

  const result: StepResult = { total: (await value.data())[0], heads: {}, terms: {} };
  for (const [k, v] of Object.entries(headLoss)) {
    result.heads[k as TaskName] = (await v.data())[0];
    v.dispose();
  }
  for (const [k, v] of Object.entries(termLoss)) {
    result.terms[k] = (await v.data())[0];
    v.dispose();
  }
  value.dispose();

  if (!Number.isFinite(result.total)) {
    const bad = Object.entries(result.heads).find(([, v]) => !Number.isFinite(v)) ??
      Object.entries(result.terms).find(([, v]) => !Number.isFinite(v));
    result.fault = `non-finite loss${bad ? ` in ${bad[0]} (${bad[1]})` : ""}`;
  } else {
    const norms = tf.tidy(() => tf.stack(Object.values(grads).map((g) => tf.sum(tf.square(g)))));
    const arr = await norms.data();
    norms.dispose();
    const names = Object.keys(grads);
    const badIdx = arr.findIndex((v) => !Number.isFinite(v));
    if (badIdx >= 0) result.fault = `non-finite gradient of ${names[badIdx]}`;
  }
  if (!result.fault) optimizer.applyGradients(grads);
  tf.dispose(Object.values(grads));
  return result;
}
