/**
 * Label strategies shared by several methods, built from the building blocks: distilled soft labels
 * (DML-LWF, distilling) and (scaled) pseudo labels, plus the option schemas they read. Strategies
 * that belong to one method live in that method's plugin file.
 * @module
 */
import { optionReader, type OptionSpec } from "../options.ts";
import type { LabelStrategy, StrategyContext, TargetSet, TeacherView } from "../plugin.ts";
import { softmaxGlobal, softmaxRows } from "./distill.ts";
import { oneHot, pseudoLabels } from "./pseudo.ts";
import { distilledTargets } from "./targets.ts";

/** Name of the option that multiplies the distillation targets (so their loss) by T^2. */
export const T2_SCALING_OPTION = "t2_scaling";

/** Options of {@link distilledStrategy}. */
export const DISTILL_OPTIONS: OptionSpec[] = [
  {
    name: "distill_t",
    type: "float",
    default: 2,
    min: 0.05,
    help: "distillation temperature T: targets are softmax(z / T) of the teacher logits (an int in the seed)",
    group: "seed",
  },
  {
    name: T2_SCALING_OPTION,
    type: "boolean",
    default: false,
    help: "multiply the distillation loss by T^2 (the usual scaling; not in the original code)",
    group: "labels",
  },
];

/** Options of {@link pseudoStrategy} (and of the pseudo-label baselines' targets). */
export const PSEUDO_OPTIONS: OptionSpec[] = [
  {
    name: "pseudo_target",
    type: "enum",
    default: "scaled",
    choices: ["scaled", "onehot"],
    help: "pseudo-label target: p_max * onehot(argmax) (scaled) or plain onehot(argmax)",
    group: "labels",
  },
];

const read = optionReader([...DISTILL_OPTIONS, ...PSEUDO_OPTIONS]);

/** The teacher's distilled vectors softmax(z / T) (one global softmax under compat, docs/original.md B6). */
export function distilledVectors(view: TeacherView, ctx: StrategyContext): Float32Array {
  const temperature = read.num(ctx.options, "distill_t");
  return ctx.compat
    ? softmaxGlobal(view.logits, { temperature })
    : softmaxRows(view.logits, view.task.classes, { temperature });
}

/**
 * Distilled soft labels softmax(z / T). Options: `distill_t`, and `t2_scaling`, which multiplies the
 * targets by T^2: the targets are not renormalised, so their cross-entropy (and its gradient) scales
 * by T^2 too.
 */
export const distilledStrategy: LabelStrategy = {
  name: "distilled",
  needsTeacher: true,
  needsLabelled: () => false,
  build(view: TeacherView, ctx: StrategyContext): TargetSet {
    const set = distilledTargets(distilledVectors(view, ctx), view.task.classes);
    if (read.bool(ctx.options, T2_SCALING_OPTION)) {
      const t2 = read.num(ctx.options, "distill_t") ** 2;
      for (let i = 0; i < set.targets.length; i++) set.targets[i] *= t2;
    }
    return set;
  },
};

/** Pseudo labels: p_max * onehot(argmax) (`pseudo_target=scaled`) or onehot(argmax) (`onehot`). */
export const pseudoStrategy: LabelStrategy = {
  name: "pseudo",
  needsTeacher: true,
  needsLabelled: () => false,
  build(view: TeacherView, ctx: StrategyContext): TargetSet {
    const C = view.task.classes;
    const { labels, confidence } = pseudoLabels(view.probs, C);
    const scaled = read.choice(ctx.options, "pseudo_target") === "scaled";
    const weights = scaled ? confidence : new Float32Array(labels.length).fill(1);
    const hist: Record<string, number> = {};
    for (let c = 0; c < C; c++) hist[`hist_${c}`] = 0;
    for (const k of labels) hist[`hist_${k}`]++;
    let s = 0;
    for (const w of weights) s += w;
    return {
      targets: oneHot(labels, C, scaled ? confidence : undefined),
      weights,
      stats: {
        mean_weight: labels.length > 0 ? s / labels.length : 0,
        kept_fraction: labels.length > 0 ? 1 : 0,
        ...hist,
      },
    };
  },
};
