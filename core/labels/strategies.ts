/**
 * Label strategies shared by several methods, built from the building blocks: distilled soft labels
 * (DML-LWF, distilling) and (scaled) pseudo labels, plus the option schemas they read. Strategies
 * that belong to one method live in that method's plugin file.
 * @module
 */
import { OptionError, optionReader, type Options, type OptionSpec } from "../options.ts";
import type { LabelStrategy, StrategyContext, TargetSet, TeacherView } from "../plugin.ts";
import { softmaxGlobal, softmaxRows } from "./distill.ts";
import { oneHot, pseudoLabels } from "./pseudo.ts";
import { distilledTargets } from "./targets.ts";

/**
 * The removed flag `--t2_scaling`: it multiplied the distilled targets (so their loss) by T² while the student
 * stayed at T = 1, which is not Hinton et al.'s loss. Still declared so that it fails with a pointer to
 * `--distill_loss` instead of as an unknown flag ({@link checkDistillOptions}).
 */
export const T2_SCALING_OPTION = "t2_scaling";

/** How the distilled rows enter the loss: `hinton` (student softened at T, loss × T²) or `plain`. */
export type DistillLoss = "hinton" | "plain";

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
    name: "distill_loss",
    type: "enum",
    default: "hinton",
    choices: ["hinton", "plain"],
    help: "loss on distilled rows: hinton = student softened at T too, loss x T^2 (Hinton et al.); " +
      "plain = student at T = 1, unscaled (the original code)",
    group: "labels",
  },
  {
    name: T2_SCALING_OPTION,
    type: "boolean",
    default: false,
    help: "removed (it scaled the targets by T^2 with the student at T = 1): use --distill_loss=hinton",
    group: "labels",
  },
];

/** Refuse the removed `--t2_scaling` with a pointer to its replacement. */
export function checkDistillOptions(o: Options): void {
  if (o[T2_SCALING_OPTION] === true) {
    throw new OptionError(
      "--t2_scaling was removed: it multiplied the targets by T^2 while the student stayed at T = 1; " +
        "--distill_loss=hinton (the default) softens the student at T and scales the loss by T^2",
    );
  }
}

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
 * Distilled soft labels softmax(z / T). Options: `distill_t`, and `distill_loss`: with `hinton` every row gets
 * the student temperature T ({@link TargetSet.temperature}), so the masked loss softens the student's logits at
 * T and scales the row's term by T² (Hinton et al.); with `plain` the student stays at T = 1.
 */
export const distilledStrategy: LabelStrategy = {
  name: "distilled",
  needsTeacher: true,
  needsLabelled: () => false,
  build(view: TeacherView, ctx: StrategyContext): TargetSet {
    checkDistillOptions(ctx.options);
    const set = distilledTargets(distilledVectors(view, ctx), view.task.classes);
    if (read.choice(ctx.options, "distill_loss") === "hinton") {
      set.temperature = new Float32Array(view.n).fill(read.num(ctx.options, "distill_t"));
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
