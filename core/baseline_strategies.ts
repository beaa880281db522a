/**
 * Label strategies and option schema of the pseudo-label baselines: LEL-LTN (label transfer network
 * pseudo labels) and DCN-AP (teacher pseudo labels refined by a Potts MRF). Both are re-designs of
 * methods the original code never implemented (docs/original.md §6.3, §6.4, B8, B18); see docs/baselines.md.
 * @module
 */
import type { LabelStrategy, StrategyContext, TargetSet, TeacherView } from "./plugin.ts";
import { bool, OptionError, type Options, type OptionSpec } from "./options.ts";
import { TASK_NAMES, type TaskName } from "./types.ts";
import {
  concatRows,
  createLabelTransfer,
  predictLabelTransfer,
  trainLabelTransfer,
} from "./label_transfer.ts";
import { mrfRefine } from "./mrf.ts";
import { REGULARIZER_DEFAULTS } from "./regularizers.ts";

/** How a pseudo label becomes a target row. */
export type PseudoTargetMode = "scaled" | "onehot";

const SPECS: OptionSpec[] = [
  {
    name: "is_MRF",
    type: "boolean",
    default: false,
    help: "DCN-AP: refine the teacher's pseudo labels by a Potts MRF on a kNN graph of the task features",
    group: "seed",
  },
  {
    name: "mrf_k",
    type: "int",
    default: 10,
    min: 1,
    max: 1000,
    help: "MRF: neighbours per row of the kNN graph",
  },
  {
    name: "mrf_weight",
    type: "float",
    default: 1.0,
    min: 0,
    max: 100,
    help: "MRF: pairwise Potts weight λ (0 = keep the teacher's probabilities)",
  },
  { name: "mrf_iters", type: "int", default: 10, min: 1, max: 1000, help: "MRF: mean-field sweeps" },
  {
    name: "is_lnorm",
    type: "boolean",
    default: false,
    help: "add the l2,1 norm of the shared feature kernel (SFSMR, SLRM)",
    group: "seed",
  },
  {
    name: "lnorm_weight",
    type: "float",
    default: REGULARIZER_DEFAULTS.lnorm_weight,
    min: 0,
    max: 10,
    help: "coefficient of the l2,1 norm",
  },
  {
    name: "is_trace_norm",
    type: "boolean",
    default: false,
    help: "add the graph-Laplacian term tr(PᵀLP)/B on each batch (SFSMR, SLRM)",
    group: "seed",
  },
  {
    name: "trace_weight",
    type: "float",
    default: REGULARIZER_DEFAULTS.trace_weight,
    min: 0,
    max: 10,
    help: "coefficient of the Laplacian term",
  },
  {
    name: "is_nuclear_norm",
    type: "boolean",
    default: false,
    help: "add the nuclear norm of the stacked task-head kernels (SLRM)",
    group: "seed",
  },
  {
    name: "nuclear_weight",
    type: "float",
    default: REGULARIZER_DEFAULTS.nuclear_weight,
    min: 0,
    max: 10,
    help: "coefficient of the nuclear norm",
  },
  {
    name: "passes_per_refresh",
    type: "int",
    default: 4,
    min: 1,
    max: 100,
    help:
      "passes over the data between teacher refreshes (joint pseudo-label modes ran 4, docs/original.md B34)",
  },
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
    name: "ltn_epochs",
    type: "int",
    default: 20,
    min: 1,
    max: 1000,
    help: "LTN: Adam epochs over the labelled rows at each teacher refresh",
  },
  {
    name: "ltn_inputs",
    type: "enum",
    default: "all",
    choices: ["all", "others"],
    help:
      "LTN input: the teacher's own head plus the other tasks' distributions (all) or the other tasks only",
  },
  {
    name: "pseudo_target",
    type: "enum",
    default: "scaled",
    choices: ["scaled", "onehot"],
    help: "pseudo target row: p_max·onehot(argmax) (scaled) or onehot(argmax)",
  },
];

/** Every flag the baseline building blocks read (regularisers, MRF, label transfer, pseudo targets). */
export const BASELINE_OPTIONS: OptionSpec[] = SPECS.map((s) => ({ group: "baselines", ...s }));

function intOpt(o: Options, key: string, fallback: number, min: number): number {
  const v = o[key] ?? fallback;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min) {
    throw new OptionError(`--${key}: expected an integer >= ${min}, got ${JSON.stringify(v)}`);
  }
  return v;
}

function floatOpt(o: Options, key: string, fallback: number): number {
  const v = o[key] ?? fallback;
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
    throw new OptionError(`--${key}: expected a number >= 0, got ${JSON.stringify(v)}`);
  }
  return v;
}

function enumOpt<T extends string>(o: Options, key: string, choices: readonly T[]): T {
  const v = o[key] ?? choices[0];
  if (typeof v !== "string" || !(choices as readonly string[]).includes(v)) {
    throw new OptionError(`--${key}: expected one of ${choices.join("|")}, got ${JSON.stringify(v)}`);
  }
  return v as T;
}

/** `passes_per_refresh` (default 4): outer passes between teacher refreshes for the joint pseudo modes. */
export function passesPerRefresh(options: Options): number {
  return intOpt(options, "passes_per_refresh", 4, 1);
}

/** Options of {@link pseudoTargets}. */
export interface PseudoTargetOptions {
  classes: number;
  mode: PseudoTargetMode;
}

/**
 * Turn n*C label distributions into pseudo targets: onehot(argmax), scaled by p_max in `scaled` mode.
 * Weights are p_max per row. Rows whose distribution is all zero (or not finite) stay masked.
 */
export function pseudoTargets(dist: Float32Array, opts: PseudoTargetOptions): TargetSet {
  const c = opts.classes;
  const n = dist.length / c;
  if (!Number.isInteger(n)) {
    throw new Error(`pseudoTargets: ${dist.length} values is not a multiple of ${c} classes`);
  }
  const targets = new Float32Array(n * c);
  const weights = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let best = -1;
    let pmax = 0;
    for (let a = 0; a < c; a++) {
      const v = dist[i * c + a];
      if (Number.isFinite(v) && v > pmax) {
        pmax = v;
        best = a;
      }
    }
    if (best < 0) continue;
    weights[i] = Math.min(1, pmax);
    targets[i * c + best] = opts.mode === "scaled" ? weights[i] : 1;
  }
  return { targets, weights };
}

function argmaxRows(p: Float32Array, c: number): Int32Array {
  const n = p.length / c;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let a = 1; a < c; a++) if (p[i * c + a] > p[i * c + best]) best = a;
    out[i] = best;
  }
  return out;
}

function mean(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return a.length ? s / a.length : 0;
}

function checkView(view: TeacherView, who: string): void {
  const c = view.task.classes;
  if (view.probs.length !== view.n * c) {
    throw new Error(
      `${who} (${view.task.name}): ${view.probs.length} teacher probabilities for ${view.n} rows x ${c} classes`,
    );
  }
}

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
 * LEL-LTN: at each teacher refresh, train a label transfer MLP on the task's labelled rows (input: the
 * teacher's distributions of the other tasks, plus its own head's unless `--ltn_inputs=others`; output: the
 * true label), then label the rows that miss the task with its output; the target is
 * p_max·onehot(argmax) or onehot(argmax) (`--pseudo_target`).
 */
export const lelLtnStrategy: LabelStrategy = {
  name: "ltn-pseudo",
  needsTeacher: true,
  build(view: TeacherView, ctx: StrategyContext): TargetSet {
    const who = "lel-ltn";
    checkView(view, who);
    const o = ctx.options;
    const c = view.task.classes;
    const mode = enumOpt(o, "pseudo_target", ["scaled", "onehot"] as const);
    const useOwn = enumOpt(o, "ltn_inputs", ["all", "others"] as const) === "all";
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
    const net = createLabelTransfer({ inDim, classes: c, hidden: intOpt(o, "ltn_hidden", 32, 1) }, ctx.rng);
    const { losses } = trainLabelTransfer(net, { x: xTrain, labels: lab.labels }, {
      rng: ctx.rng,
      epochs: intOpt(o, "ltn_epochs", 20, 1),
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

/**
 * DCN-AP: the teacher's probabilities, refined by mean-field on a Potts MRF over the kNN graph of the
 * teacher's task features when `--is_MRF` is on, become p_max·onehot or onehot targets.
 */
export const dcnApStrategy: LabelStrategy = {
  name: "mrf-pseudo",
  needsTeacher: true,
  needsLabelled: () => false,
  async build(view: TeacherView, ctx: StrategyContext): Promise<TargetSet> {
    checkView(view, "dcn-ap");
    const o = ctx.options;
    const c = view.task.classes;
    const mode = enumOpt(o, "pseudo_target", ["scaled", "onehot"] as const);
    if (view.features.length !== view.n * view.d) {
      throw new Error(
        `dcn-ap (${view.task.name}): ${view.features.length} feature values for ${view.n} rows x ${view.d}`,
      );
    }
    let dist = view.probs;
    const stats: Record<string, number> = {};
    if (bool(o, "is_MRF") && view.n > 1) {
      const res = await mrfRefine(view.probs, view.features, {
        classes: c,
        d: view.d,
        k: intOpt(o, "mrf_k", 10, 1),
        weight: floatOpt(o, "mrf_weight", 1),
        iters: intOpt(o, "mrf_iters", 10, 1),
      });
      dist = res.q;
      const before = argmaxRows(view.probs, c);
      stats.mrf_changed = mean(argmaxRows(dist, c).map((y, i) => (y !== before[i] ? 1 : 0)));
      stats.mrf_sweeps = res.deltas.length;
      stats.mrf_last_delta = res.deltas[res.deltas.length - 1] ?? 0;
      stats.mrf_mean_degree = res.graph.cols.length / Math.max(1, view.n);
      stats.mrf_sigma2 = res.graph.sigma2;
    }
    const out = pseudoTargets(dist, { classes: c, mode });
    out.stats = { ...stats, mean_pmax: mean(out.weights!) };
    return out;
  },
};
