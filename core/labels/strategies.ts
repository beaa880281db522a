/**
 * Label strategies built from the building blocks: distilled soft labels, (scaled) pseudo labels and
 * SA-MTL's weighted pseudo labels, plus the option schemas they read.
 * @module
 */
import { OptionError, type Options, type OptionSpec } from "../options.ts";
import type { LabelStrategy, StrategyContext, TargetSet, TeacherView } from "../plugin.ts";
import { softmaxGlobal, softmaxRows } from "./distill.ts";
import { oneHot, pseudoLabels } from "./pseudo.ts";
import { distilledTargets } from "./targets.ts";
import { type SaMtlSettings, saMtlTargets } from "./weighting.ts";

/** Name of the option that multiplies the distillation loss by T^2 (read by the loss, not here). */
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

/** Options of {@link pseudoStrategy}. */
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

/** Every option {@link weightedPseudoStrategy} reads (seed defaults from docs/original.md §1.3). */
export const SA_MTL_OPTIONS: OptionSpec[] = [
  {
    name: "is_distilled",
    type: "boolean",
    default: false,
    help: "targets are the distilled vectors only; the weighting flags are ignored",
    group: "seed",
  },
  {
    name: "is_pesudo_confidence",
    type: "boolean",
    default: false,
    help: "include the confidence factor (teacher max probability) in the sample weight",
    group: "seed",
  },
  {
    name: "is_pesudo_density",
    type: "boolean",
    default: false,
    help: "include the local-density factor (per pseudo class, cutoff quantile --density_t)",
    group: "seed",
  },
  {
    name: "is_pesudo_distribution",
    type: "boolean",
    default: false,
    help: "include the distribution factor (--cluster_k mixtures, EMD or MMD to the labelled set)",
    group: "seed",
  },
  {
    name: "is_interpolation",
    type: "boolean",
    default: false,
    help: "soft mode: interpolate weighted one-hot and distilled vectors instead of hard selection",
    group: "seed",
  },
  {
    name: "density_t",
    type: "float",
    default: 0.6,
    min: 0,
    max: 0.999999,
    help: "quantile of the pairwise feature distances used as the density cutoff, in [0, 1)",
    group: "seed",
  },
  DISTILL_OPTIONS[0],
  {
    name: "selection_threshold",
    type: "float",
    default: 0.9,
    min: 0,
    max: 1,
    help: "hard selection: drop rows with weight <= tau (quantile mode: tau = the s-quantile, s < 1)",
    group: "seed",
  },
  {
    name: "interpolation_weights",
    type: "float",
    default: 0.9,
    min: 0,
    max: 1,
    help: "lambda of --interpolation_mode=lambda: lambda*(w*onehot) + (1-lambda)*distilled (unused by ep)",
    group: "seed",
  },
  {
    name: "cluster_k",
    type: "int",
    default: 4,
    min: 1,
    max: 64,
    help: "Gaussian-mixture components for the distribution factor",
    group: "seed",
  },
  {
    name: "selection_mode",
    type: "enum",
    default: "quantile",
    choices: ["quantile", "absolute"],
    help: "read --selection_threshold as a quantile of the weights (EP code) or an absolute weight (EA)",
    group: "sa-mtl",
  },
  {
    name: "reject",
    type: "enum",
    default: "distill",
    choices: ["distill", "zero"],
    help: "target of rows rejected by hard selection: the distilled vector (README/EA) or masked (EP code)",
    group: "sa-mtl",
  },
  {
    name: "interpolation_mode",
    type: "enum",
    default: "ep",
    choices: ["ep", "lambda"],
    help:
      "soft mode formula: ep = w*onehot + (1-w)*distilled; lambda = EA formula with --interpolation_weights",
    group: "sa-mtl",
  },
  {
    name: "distribution_metric",
    type: "enum",
    default: "emd",
    choices: ["emd", "mmd"],
    help: "distance of a pseudo feature cluster to the labelled set: closed-form EMD (code) or RBF MMD",
    group: "sa-mtl",
  },
  {
    name: "gmm_max_fit",
    type: "int",
    default: 2048,
    min: 0,
    help: "rows (seeded subsample) used to fit each mixture; 0 = all rows",
    group: "sa-mtl",
  },
  {
    name: "density_exact_max",
    type: "int",
    default: 2048,
    min: 2,
    help: "pseudo classes up to this size get the exact density; larger ones a sampled estimate",
    group: "sa-mtl",
  },
  {
    name: "density_samples",
    type: "int",
    default: 1024,
    min: 2,
    help: "reference rows per large class for the sampled neighbour counts (error ~ 1/sqrt(n))",
    group: "sa-mtl",
  },
];

const SPECS = new Map([...SA_MTL_OPTIONS, ...DISTILL_OPTIONS, ...PSEUDO_OPTIONS].map((s) => [s.name, s]));

function spec(name: string): OptionSpec {
  const s = SPECS.get(name);
  if (!s) throw new Error(`labels: no schema for option ${name}`);
  return s;
}

function readBool(o: Options, name: string): boolean {
  const v = o[name] ?? spec(name).default ?? false;
  if (typeof v !== "boolean") {
    throw new OptionError(`--${name}: expected a boolean, got ${JSON.stringify(v)}`);
  }
  return v;
}

function readNum(o: Options, name: string): number {
  const s = spec(name);
  const v = o[name] ?? s.default;
  if (typeof v !== "number" || !Number.isFinite(v)) {
    throw new OptionError(`--${name}: expected a number, got ${JSON.stringify(v)}`);
  }
  if (s.type === "int" && !Number.isInteger(v)) {
    throw new OptionError(`--${name}: expected an integer, got ${v}`);
  }
  if ((s.min !== undefined && v < s.min) || (s.max !== undefined && v > s.max)) {
    throw new OptionError(`--${name}: ${v} outside [${s.min ?? "-inf"}, ${s.max ?? "inf"}]`);
  }
  return v;
}

function readEnum<T extends string>(o: Options, name: string): T {
  const s = spec(name);
  const v = o[name] ?? s.default;
  if (typeof v !== "string" || !s.choices?.includes(v)) {
    throw new OptionError(`--${name}: expected one of ${s.choices?.join("|")}, got ${JSON.stringify(v)}`);
  }
  return v as T;
}

/**
 * Parse and validate the SA-MTL settings. `compat` reproduces the as-coded EP behaviour: global softmax
 * (docs/original.md B6), quantile selection, rejected rows zeroed (B12), `interpolation_weights` ignored (B11).
 */
export function readSaMtlSettings(options: Options, compat: boolean): SaMtlSettings {
  const s: SaMtlSettings = {
    distilledOnly: readBool(options, "is_distilled"),
    confidence: readBool(options, "is_pesudo_confidence"),
    density: readBool(options, "is_pesudo_density"),
    distribution: readBool(options, "is_pesudo_distribution"),
    interpolation: readBool(options, "is_interpolation"),
    densityT: readNum(options, "density_t"),
    clusterK: readNum(options, "cluster_k"),
    metric: readEnum(options, "distribution_metric"),
    distillT: readNum(options, "distill_t"),
    selectionThreshold: readNum(options, "selection_threshold"),
    selectionMode: readEnum(options, "selection_mode"),
    reject: readEnum(options, "reject"),
    interpolationMode: readEnum(options, "interpolation_mode"),
    lambda: readNum(options, "interpolation_weights"),
    globalSoftmax: false,
    gmmMaxFit: readNum(options, "gmm_max_fit"),
    densityExactMax: readNum(options, "density_exact_max"),
    densitySamples: readNum(options, "density_samples"),
  };
  if (compat) {
    Object.assign(s, {
      globalSoftmax: true,
      selectionMode: "quantile",
      reject: "zero",
      interpolationMode: "ep",
    });
  }
  if (s.densityT >= 1) throw new OptionError(`--density_t: must be in [0, 1), got ${s.densityT}`);
  if (s.selectionMode === "quantile" && s.selectionThreshold >= 1) {
    throw new OptionError(
      `--selection_threshold: must be in [0, 1) with --selection_mode=quantile, got ${s.selectionThreshold}`,
    );
  }
  return s;
}

function distilledVectors(view: TeacherView, ctx: StrategyContext): Float32Array {
  const temperature = readNum(ctx.options, "distill_t");
  return ctx.compat
    ? softmaxGlobal(view.logits, { temperature })
    : softmaxRows(view.logits, view.task.classes, { temperature });
}

/** Distilled soft labels softmax(z / T) (global softmax under compat, docs/original.md B6). Option: `distill_t`. */
export const distilledStrategy: LabelStrategy = {
  name: "distilled",
  needsTeacher: true,
  needsLabelled: () => false,
  build(view: TeacherView, ctx: StrategyContext): TargetSet {
    return distilledTargets(distilledVectors(view, ctx), view.task.classes);
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
    const scaled = readEnum(ctx.options, "pseudo_target") === "scaled";
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

/**
 * SA-MTL weighted pseudo labels (docs/original.md §6.8): confidence x density x distribution weights from the
 * teacher's pseudo-set features and the task's labelled features, then hard selection or interpolation
 * with distilled vectors (options: {@link SA_MTL_OPTIONS}).
 */
export const weightedPseudoStrategy: LabelStrategy = {
  name: "weighted-pseudo",
  needsTeacher: true,
  // Only the distribution factor compares the pseudo set with the labelled set.
  needsLabelled: (o) => o.is_pesudo_distribution === true && o.is_distilled !== true,
  build(view: TeacherView, ctx: StrategyContext): TargetSet {
    if (view.labelled.features.length !== view.labelled.n * view.d) {
      throw new RangeError(
        `weighted-pseudo: labelled features hold ${view.labelled.features.length} values, expected ${view.labelled.n}x${view.d}`,
      );
    }
    return saMtlTargets({
      classes: view.task.classes,
      logits: view.logits,
      probs: view.probs,
      features: view.features,
      d: view.d,
      labelledFeatures: view.labelled.features,
    }, { settings: readSaMtlSettings(ctx.options, ctx.compat), rng: ctx.rng });
  },
};
