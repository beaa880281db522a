/**
 * LEL-LTN's label transfer network trained jointly with the model, as Augenstein, Ruder & Søgaard (NAACL 2018,
 * arXiv 1802.09913) train it: the LTN is part of the network, and every training step also takes a step on
 * its loss over the batch rows that carry a true label of the task. Its input is the model's own current
 * predictions with the gradient stopped (the authors' code feeds them to the LTN as data, so the LTN loss
 * never trains the main model). At each teacher refresh the frozen snapshot's LTN output is the pseudo label
 * of the rows that miss the task. `--ltn_training=refit` keeps the earlier variant (a separate MLP refit on
 * the snapshot, `core/label_transfer.ts`).
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import type { LossContext, LossTerm } from "./plugin.ts";
import type { ExtensionContext, ExtensionResult, ModelExtension, TaskName } from "./types.ts";
import { maskedCrossEntropy } from "./loss.ts";
import type { Options } from "./options.ts";

/** Identity in the forward pass with a zero gradient, as a (de)serialisable layer. */
export class StopGradient extends tfl.layers.Layer {
  /** Name under which the layer is (de)serialised. */
  static className = "StopGradient";

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
      value: tf.clone(args[0] as tf.Tensor),
      gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
    }));
    return f(x) as tf.Tensor;
  }
}
tf.serialization.registerClass(StopGradient);

/** Name of the extra output holding task t's LTN logits. */
export function ltnOutputName(task: TaskName): string {
  return `ltn_${task}`;
}

/** Options of {@link jointLabelTransferExtension}. */
export interface JointLtnOptions {
  /** Hidden ReLU units (`ltn_hidden`, default 32). */
  hidden?: number;
  /** LTN input: every task's distribution (`all`, default) or the other tasks' only (`others`). */
  inputs?: "all" | "others";
  /** An extension applied first (LEL's label embedding); the LTN reads the logits it leaves. */
  inner?: ModelExtension;
}

/**
 * Model extension: per task t an LTN `ltn_<t>` = Dense C_t(ReLU(Dense hidden(x))) on
 * x = [stop_gradient(softmax(logits_t')) for t' in the tasks (or the other tasks)], as extra outputs.
 */
export function jointLabelTransferExtension(opts: JointLtnOptions = {}): ModelExtension {
  const hidden = opts.hidden ?? 32;
  const inputs = opts.inputs ?? "all";
  return (ctx: ExtensionContext): ExtensionResult => {
    const inner = opts.inner?.(ctx) ?? {};
    const logits = { ...ctx.logits, ...(inner.logits ?? {}) };
    const tasks = ctx.tasks.filter((t) => logits[t.name] !== undefined);
    if (inputs === "others" && tasks.length < 2) {
      throw new Error("--ltn_inputs=others: the label transfer network needs at least two tasks");
    }
    // One softmax and one gradient stop per task, shared by the LTNs that read it.
    const dist: Partial<Record<TaskName, tfl.SymbolicTensor>> = {};
    for (const t of tasks) {
      const p = tfl.layers.softmax({ name: `ltn_in_softmax_${t.name}` }).apply(logits[t.name]!);
      dist[t.name] = new StopGradient({ name: `ltn_in_stop_${t.name}` }).apply(p) as tfl.SymbolicTensor;
    }
    const extra: Record<string, tfl.SymbolicTensor> = { ...(inner.extra ?? {}) };
    tasks.forEach((t, i) => {
      const parts = tasks.filter((s) => inputs === "all" || s.name !== t.name).map((s) => dist[s.name]!);
      const x = parts.length === 1
        ? parts[0]
        : tfl.layers.concatenate({ name: `ltn_${t.name}_input` }).apply(parts) as tfl.SymbolicTensor;
      const h = tfl.layers.dense({
        units: hidden,
        activation: "relu",
        name: `ltn_${t.name}_hidden`,
        kernelInitializer: tfl.initializers.heUniform({ seed: ctx.seed + 101 + 2 * i }),
      }).apply(x) as tfl.SymbolicTensor;
      extra[ltnOutputName(t.name)] = tfl.layers.dense({
        units: t.classes,
        name: `ltn_${t.name}_out`,
        kernelInitializer: tfl.initializers.glorotUniform({ seed: ctx.seed + 102 + 2 * i }),
      }).apply(h) as tfl.SymbolicTensor;
    });
    return { logits: inner.logits, extra };
  };
}

/**
 * LossTerm `ltn`: Σ over the tasks of the masked cross-entropy of `ltn_<t>` against the batch's true labels of t
 * (rows whose target is a pseudo or distilled label are left out: the LTN learns from labelled data only).
 * Coefficient `ltn_weight` (default 1) while `ltn_training` is `joint`, else 0.
 */
export function jointLabelTransferTerm(): LossTerm {
  return {
    name: "ltn",
    coefficient: (o: Options) => {
      if ((o.ltn_training ?? "joint") !== "joint") return 0;
      const w = o.ltn_weight ?? 1;
      if (typeof w !== "number" || !(w >= 0)) {
        throw new Error(`--ltn_weight: expected a number >= 0, got ${w}`);
      }
      return w;
    },
    compute(ctx: LossContext): tf.Scalar {
      if (!ctx.targets || !ctx.labelled) {
        throw new Error("ltn term: the step did not pass the batch's targets and true-label masks");
      }
      return tf.tidy(() => {
        const parts: tf.Scalar[] = [];
        for (const t of ctx.model.tasks) {
          const z = ctx.outputs.extra[ltnOutputName(t.name)];
          const y = ctx.targets![t.name];
          const m = ctx.labelled![t.name];
          if (!z) throw new Error(`ltn term: the model has no ${ltnOutputName(t.name)} output`);
          if (!y || !m) continue;
          parts.push(maskedCrossEntropy(z as tf.Tensor2D, y, m));
        }
        return (parts.length ? tf.addN(parts) : tf.scalar(0)) as tf.Scalar;
      });
    },
  };
}
