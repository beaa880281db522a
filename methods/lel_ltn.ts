/**
 * LEL-LTN (Augenstein, Ruder & Sogaard, NAACL 2018): joint training with label-embedding logits (every
 * task's labels embedded in one space) and a label transfer network that maps the tasks' predicted label
 * distributions to this task's labels; its output is the pseudo label of rows that miss the task. By default
 * the LTN is part of the network and trained at every step with the model, on the batch's labelled rows and
 * the model's gradient-stopped predictions (`--ltn_training=joint`, `core/label_transfer_joint.ts`);
 * `--ltn_training=refit` fits a separate MLP on the frozen teacher at each refresh instead.
 * The teacher is refreshed once per outer epoch, each of `--passes_per_refresh` passes (docs/original.md B34: default 4).
 * @module
 */
import type { LabelStrategy, MethodPlugin, StrategyContext, TargetSet, TeacherView } from "../core/plugin.ts";
import { bool, optionReader, type OptionSpec } from "../core/options.ts";
import { TASK_NAMES, type TaskName } from "../core/types.ts";
import { argmaxRows } from "../core/metrics.ts";
import { PSEUDO_OPTIONS, softmaxRows } from "../core/labels/mod.ts";
import {
  checkView,
  mean,
  PASSES_PER_REFRESH_OPTION,
  passesPerRefresh,
  pseudoTargetMode,
  pseudoTargets,
} from "../core/labels/pseudo_targets.ts";
import {
  concatRows,
  createLabelTransfer,
  predictLabelTransfer,
  trainLabelTransfer,
} from "../core/label_transfer.ts";
import { labelEmbeddingExtension } from "../core/label_embedding.ts";
import {
  jointLabelTransferExtension,
  jointLabelTransferTerm,
  ltnOutputName,
} from "../core/label_transfer_joint.ts";

/** The label embedding and label transfer network's own flags. */
const LTN_OPTIONS: OptionSpec[] = [
  {
    name: "label_embedding_dim",
    type: "int",
    default: 64,
    min: 1,
    max: 4096,
    help: "LEL: width of the shared label embedding space",
  },
  {
    name: "ltn_hidden",
    type: "int",
    default: 32,
    min: 1,
    max: 4096,
    help: "LTN: hidden units of the label transfer MLP",
  },
  {
    name: "ltn_training",
    type: "enum",
    default: "joint",
    choices: ["joint", "refit"],
    help:
      "LTN: part of the network, trained at every step on the batch's labelled rows (joint, the paper's) " +
      "or a separate MLP refit on the frozen teacher at each refresh (refit)",
  },
  {
    name: "ltn_weight",
    type: "float",
    default: 1,
    min: 0,
    max: 100,
    help: "LTN (joint): coefficient of the label transfer network's loss",
  },
  {
    name: "ltn_epochs",
    type: "int",
    default: 20,
    min: 1,
    max: 1000,
    help: "LTN (refit): Adam epochs over the labelled rows at each teacher refresh",
  },
  {
    name: "ltn_inputs",
    type: "enum",
    default: "all",
    choices: ["all", "others"],
    help:
      "LTN input: the teacher's own head plus the other tasks' distributions (all) or the other tasks only",
  },
];

const OPTIONS = [...LTN_OPTIONS, ...PSEUDO_OPTIONS, PASSES_PER_REFRESH_OPTION];
const read = optionReader(OPTIONS);

/** Other tasks with predictions on both the target rows and the labelled rows, in canonical order. */
function transferTasks(view: TeacherView, who: string): TaskName[] {
  const lab = view.labelled.otherProbs;
  const names = TASK_NAMES.filter((t) => t !== view.task.name && view.otherProbs[t] !== undefined);
  if (names.length > 0 && !lab) {
    throw new Error(
      `${who} (${view.task.name}): the teacher view lacks labelled.otherProbs (the other tasks' predictions on the labelled rows)`,
    );
  }
  for (const t of names) {
    if (!lab?.[t]) {
      throw new Error(`${who} (${view.task.name}): labelled.otherProbs has no "${t}" predictions`);
    }
  }
  return names;
}

/**
 * LEL-LTN: the rows that miss the task are labelled by a label transfer network (input: the teacher's
 * distributions of the other tasks, plus its own head's unless `--ltn_inputs=others`); the target is
 * p_max·onehot(argmax) or onehot(argmax) (`--pseudo_target`). `--ltn_training=joint`: the snapshot's own LTN
 * output `ltn_<task>`, trained with the model; `refit`: at each refresh an MLP is trained on the task's labelled
 * rows (output: the true label) and then applied.
 */
export const lelLtnStrategy: LabelStrategy = {
  name: "ltn-pseudo",
  needsTeacher: true,
  // Only the refit LTN trains on the labelled rows at the refresh; the joint one learnt from them in training.
  needsLabelled: (o) => read.choice(o, "ltn_training") === "refit",
  build(view: TeacherView, ctx: StrategyContext): TargetSet {
    const who = "lel-ltn";
    checkView(view, who);
    const o = ctx.options;
    const c = view.task.classes;
    const mode = pseudoTargetMode(o);
    if (read.choice(o, "ltn_training") === "joint") return jointTargets(view, c, mode);
    const useOwn = read.choice(o, "ltn_inputs") === "all";
    const names = transferTasks(view, who);
    if (!useOwn && names.length === 0) {
      throw new Error(
        `${who} (${view.task.name}): --ltn_inputs=others but the teacher predicts no other task`,
      );
    }
    if (view.n === 0) return { targets: new Float32Array(0), weights: new Float32Array(0) };
    const lab = view.labelled;
    if (lab.n === 0 || lab.labels.length !== lab.n) {
      throw new Error(`${who} (${view.task.name}): no labelled rows to train the label transfer network on`);
    }
    const labParts = [...(useOwn ? [lab.probs] : []), ...names.map((t) => lab.otherProbs![t]!)];
    const rowParts = [...(useOwn ? [view.probs] : []), ...names.map((t) => view.otherProbs[t]!)];
    const xTrain = concatRows(labParts, lab.n);
    const inDim = xTrain.length / lab.n;
    const net = createLabelTransfer({ inDim, classes: c, hidden: read.num(o, "ltn_hidden") }, ctx.rng);
    const { losses } = trainLabelTransfer(net, { x: xTrain, labels: lab.labels }, {
      rng: ctx.rng,
      epochs: read.num(o, "ltn_epochs"),
    });
    const fitY = argmaxRows(predictLabelTransfer(net, xTrain), c);
    let hits = 0;
    let known = 0;
    lab.labels.forEach((y, i) => {
      if (y < 0) return;
      known++;
      if (fitY[i] === y) hits++;
    });
    const dist = predictLabelTransfer(net, concatRows(rowParts, view.n));
    const out = pseudoTargets(dist, { classes: c, mode });
    const teacherY = argmaxRows(view.probs, c);
    const ltnY = argmaxRows(dist, c);
    out.stats = {
      ltn_train_loss: losses[losses.length - 1],
      ltn_train_acc: hits / Math.max(1, known),
      ltn_agree_teacher: mean(ltnY.map((y, i) => (y === teacherY[i] ? 1 : 0))),
      mean_pmax: mean(out.weights!),
    };
    return out;
  },
};

/** Targets from the snapshot's own LTN output `ltn_<task>` (the joint variant). */
function jointTargets(view: TeacherView, c: number, mode: ReturnType<typeof pseudoTargetMode>): TargetSet {
  const z = view.extra?.[ltnOutputName(view.task.name)];
  if (!z || z.length !== view.n * c) {
    throw new Error(
      `lel-ltn (${view.task.name}): the teacher has no ${ltnOutputName(view.task.name)} output ` +
        `for its ${view.n} rows (--ltn_training=joint builds it into the model)`,
    );
  }
  const dist = softmaxRows(z, c);
  const out = pseudoTargets(dist, { classes: c, mode });
  const teacherY = argmaxRows(view.probs, c);
  out.stats = {
    ltn_agree_teacher: mean(argmaxRows(dist, c).map((y, i) => (y === teacherY[i] ? 1 : 0))),
    mean_pmax: mean(out.weights!),
  };
  return out;
}

const lelLtn: MethodPlugin = {
  name: "lel-ltn",
  aliases: ["LEL-LTN", "ltn"],
  summary: "Joint; label-embedding logits + label-transfer-network pseudo labels.",
  reference: "Augenstein, Ruder & Sogaard, NAACL 2018 (arXiv 1802.09913); docs/original.md §6.3",
  dataMode: "joint",
  labels: lelLtnStrategy,
  // The joint LTN's own loss on the batch's labelled rows (coefficient 0 under --ltn_training=refit).
  loss: { terms: [jointLabelTransferTerm()] },
  options: OPTIONS,
  presets: { default: { pseudo_target: "scaled", ltn_training: "joint" } },
  passesPerRefresh,
  extendModel: (o) => {
    const lel = labelEmbeddingExtension({ dim: read.num(o, "label_embedding_dim") });
    if (read.choice(o, "ltn_training") !== "joint") return lel;
    return jointLabelTransferExtension({
      inner: lel,
      hidden: read.num(o, "ltn_hidden"),
      inputs: read.choice(o, "ltn_inputs"),
    });
  },
  // CONFUSION_EP_multitask.py: --is_pesudo (or --is_interpolation) without --is_MRF.
  selectedBy: [{
    script: "confusion",
    rank: 10,
    when: (o) => bool(o, "is_pesudo") || bool(o, "is_interpolation"),
  }],
};

export default lelLtn;
