/**
 * One training step: masked multi-head loss combined by the run's task weighting + plugin loss terms +
 * weight decay, gradients checked for non-finite values before they are applied (never trains on NaN).
 *
 * Task weighting (core/task_weighting/): only tasks *present* in the batch (a row with a target, and a
 * non-zero `--*_loss_weights`) are handed to the strategy. A loss strategy combines their losses inside the
 * gradient scope. A gradient strategy (with two or more present tasks) gets each task's gradient with respect
 * to the shared representation: the model's representation tap routes the trunk output through an identity
 * op whose backward pass adds (combined - sum of the task gradients), so the trunk is trained on the
 * combined gradient while every head keeps its own task's gradient, all in one forward pass, one backward
 * pass through the trunk and one small backward pass per head (LibMTL's `rep_grad`).
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { LossTerm } from "../../core/plugin.ts";
import { TASK_WEIGHTING_OPTIONS, type TaskWeighting } from "../../core/task_weighting/mod.ts";
import { optionReader } from "../../core/options.ts";
import type { Options } from "../../core/options.ts";
import type { MultiTaskModel, TaskName } from "../../core/types.ts";
import { maskedCrossEntropy } from "../../core/loss.ts";

/** One batch as the trainer feeds it to a step. */
export interface StepBatch {
  x: tf.Tensor4D;
  targets: Partial<Record<TaskName, tf.Tensor2D>>;
  masks: Partial<Record<TaskName, tf.Tensor1D>>;
  /** Per head: 1 for rows whose target is a true label (handed to the loss terms; absent: not known). */
  labelled?: Partial<Record<TaskName, tf.Tensor1D>>;
  /** Per head: the rows' student temperatures (absent: 1; Hinton distillation, see `maskedCrossEntropy`). */
  temperatures?: Partial<Record<TaskName, tf.Tensor1D>>;
}

/** Result of a step: per-head losses, total, and whether it was applied. */
export interface StepResult {
  total: number;
  heads: Partial<Record<TaskName, number>>;
  terms: Record<string, number>;
  /** The weight the task weighting gave each present task. */
  weights: Partial<Record<TaskName, number>>;
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
  /** The run's task weighting (absent: the plain sum of the task losses). */
  weighting?: TaskWeighting;
  /** The step's learning rate (the task weighting's own parameters use it; default 1e-3). */
  lr?: number;
}

/** A [rows, rest] gradient summed over its rows (the gradient of a bias shared by every row). */
function sumRows(g: Float32Array, rows: number): Float32Array {
  const width = g.length / rows;
  const out = new Float32Array(width);
  for (let r = 0; r < rows; r++) for (let i = 0; i < width; i++) out[i] += g[r * width + i];
  return out;
}

/** Tasks with a target row in the batch and a non-zero loss weight, in head order. */
async function presentTasks(batch: StepBatch, opts: StepOptions): Promise<TaskName[]> {
  const cand = opts.model.tasks.map((t) => t.name).filter((t) =>
    batch.targets[t] && batch.masks[t] && (opts.lossWeights[t] ?? 1) !== 0
  );
  if (cand.length === 0) return [];
  const sums = tf.tidy(() => tf.stack(cand.map((t) => tf.sum(batch.masks[t]!))));
  const v = await sums.data();
  sums.dispose();
  return cand.filter((_, i) => v[i] > 0);
}

/** Compute the loss, check it and the gradients, and apply them. */
export async function trainStep(batch: StepBatch, opts: StepOptions): Promise<StepResult> {
  const { model, optimizer } = opts;
  const tw = opts.weighting;
  const present = tw ? await presentTasks(batch, opts) : [];
  const surgery = tw?.needsGradients === true && present.length >= 2;
  const tap = model.representation;
  if (surgery && !tap) {
    throw new Error(`--task_weighting=${tw!.name} needs a model with a shared representation tap`);
  }
  const vars = model.trainableWeights();
  const headLoss: Partial<Record<TaskName, tf.Scalar>> = {};
  const termLoss: Record<string, tf.Scalar> = {};
  const weights: Partial<Record<TaskName, number>> = {};
  // Gradient strategies: the representation tensor of this forward pass and the correction its backward
  // pass adds (combined gradient - sum of the task gradients), filled in inside the gradient scope.
  const gate = { rep: null as tf.Tensor | null, delta: null as tf.Tensor | null };
  if (surgery) {
    const identity = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
      value: tf.clone(args[0] as tf.Tensor),
      gradFunc: (dy: tf.Tensor) => (gate.delta ? tf.add(dy, gate.delta) : dy),
    }));
    tap!.intercept((rep) => (gate.rep = identity(rep) as tf.Tensor));
  }
  let grads: tf.NamedTensorMap;
  let value: tf.Scalar;
  try {
    ({ value, grads } = tf.variableGrads(() => {
      const out = model.apply(batch.x, true);
      const probs: Partial<Record<TaskName, tf.Tensor2D>> = {};
      const losses: tf.Scalar[] = [];
      // Absent tasks' losses are exactly 0 with a zero gradient; they are still added so every head keeps
      // a gradient entry (tfjs optimisers keep their moments by position in the gradient map).
      let absent: tf.Scalar = tf.scalar(0);
      let total: tf.Scalar = tf.scalar(0);
      for (const t of model.tasks) {
        const z = out.logits[t.name];
        const y = batch.targets[t.name];
        const m = batch.masks[t.name];
        if (!z || !y || !m) continue;
        probs[t.name] = tf.softmax(z);
        const l = maskedCrossEntropy(z, y, m, batch.temperatures?.[t.name]);
        headLoss[t.name] = tf.keep(l.clone());
        const w = opts.lossWeights[t.name] ?? 1;
        if (!tw) {
          if (w !== 0) total = tf.add(total, tf.mul(l, w));
        } else if (present.includes(t.name)) losses.push(tf.mul(l, w));
        else if (w !== 0) absent = tf.add(absent, l);
      }
      if (tw && losses.length > 0) {
        if (surgery) {
          // Heads: each its own loss; trunk: the strategy's combined representation gradient.
          total = tf.addN(losses) as tf.Scalar;
          const rep = gate.rep!;
          const g = losses.map((l) => {
            const r = tf.engine().gradients(() => l, [rep]);
            return r.grads[0].dataSync() as Float32Array;
          });
          const lv = losses.map((l) => l.dataSync()[0]);
          const space = optionReader(TASK_WEIGHTING_OPTIONS).choice(opts.options, "task_grad_space");
          const c = tw.combineGradients!(
            space === "rep_sum" ? g.map((gk) => sumRows(gk, rep.shape[0])) : g,
            present,
            lv,
          );
          // delta = sum_k (beta_k - 1) g_k: the combined update minus what plain backprop already carries.
          const delta = new Float32Array(g[0].length);
          g.forEach((gk, k) => {
            const b = c.coefficients[k] - 1;
            if (b !== 0) { for (let i = 0; i < delta.length; i++) delta[i] += b * gk[i]; }
          });
          gate.delta = tf.keep(tf.tensor(delta, rep.shape));
          present.forEach((t, i) => (weights[t] = c.weights[i]));
        } else if (tw.combineLosses) {
          const c = tw.combineLosses(losses, present);
          total = c.loss;
          present.forEach((t, i) => (weights[t] = c.weights[i]));
        } else {
          total = tf.addN(losses) as tf.Scalar;
          present.forEach((t) => (weights[t] = 1));
        }
      }
      if (tw) total = tf.add(total, absent);
      for (const term of opts.terms) {
        const c = term.coefficient(opts.options);
        if (c === 0) continue;
        const v = term.compute({
          model,
          outputs: out,
          probs,
          masks: batch.masks,
          targets: batch.targets,
          labelled: batch.labelled,
          options: opts.options,
        });
        termLoss[term.name] = tf.keep(v.clone());
        total = tf.add(total, tf.mul(v, c));
      }
      const reg = opts.regularizer?.();
      if (reg) {
        termLoss["weight_decay"] = tf.keep(reg.clone());
        total = tf.add(total, reg);
      }
      return total;
    }, vars));
  } finally {
    if (surgery) tap!.intercept(null);
    gate.delta?.dispose();
  }

  const result: StepResult = { total: (await value.data())[0], heads: {}, terms: {}, weights };
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
  if (!result.fault) {
    optimizer.applyGradients(grads);
    tw?.observe?.(present, present.map((t) => (result.heads[t] ?? 0) * (opts.lossWeights[t] ?? 1)), {
      lr: opts.lr ?? 1e-3,
    });
  }
  tf.dispose(Object.values(grads));
  return result;
}
