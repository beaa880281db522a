/**
 * The SA-MTL weighting pipeline (the original `assign_weights`, docs/original.md §6.8.3-6.8.8 and §6.8.11) as one
 * pure function over teacher outputs: distilled vectors, pseudo labels, confidence x density x
 * distribution weights, then hard selection, interpolation, the "pure" mix or distill-only targets.
 *
 * Row-order equivariance: the seeded parts (density sampling, mixture fits) run on rows in a canonical
 * order (sorted by feature values), so permuting the input rows permutes the output rows exactly.
 * @module
 */
import type { TargetSet } from "../plugin.ts";
import type { Rng } from "../rng.ts";
import { assertFinite, assertShape, canonicalOrder, gatherRows } from "./_select.ts";
import { combineFactors } from "./combine.ts";
import { localDensity } from "./density.ts";
import { softmaxGlobal, softmaxRows } from "./distill.ts";
import { distributionFactor, type DistributionMetric } from "./distribution.ts";
import { pseudoLabels } from "./pseudo.ts";
import {
  distilledTargets,
  hardTargets,
  type InterpolationMode,
  pureTargets,
  type RejectMode,
  type SelectionMode,
  softTargets,
} from "./targets.ts";

/** Every setting of the pipeline (parsed from options by `readSaMtlSettings`). */
export interface SaMtlSettings {
  /** `is_distilled`: return the distilled vectors only. */
  distilledOnly: boolean;
  /** `is_pesudo_confidence`. */
  confidence: boolean;
  /** `is_pesudo_density`. */
  density: boolean;
  /** `is_pesudo_distribution`. */
  distribution: boolean;
  /** `is_interpolation`: soft mode instead of hard selection. */
  interpolation: boolean;
  /** `density_t`. */
  densityT: number;
  /** `cluster_k`. */
  clusterK: number;
  /** `distribution_metric`. */
  metric: DistributionMetric;
  /** `distill_t`. */
  distillT: number;
  /** `selection_threshold`. */
  selectionThreshold: number;
  /** `selection_mode`. */
  selectionMode: SelectionMode;
  /** `reject`. */
  reject: RejectMode;
  /** `interpolation_mode`. */
  interpolationMode: InterpolationMode;
  /** `interpolation_weights` (lambda). */
  lambda: number;
  /** Global softmax for d (docs/original.md B6, compat only). */
  globalSoftmax: boolean;
  /** `gmm_max_fit`: rows per mixture fit (0 = all). */
  gmmMaxFit: number;
  /** `gmm_n_init`: initialisations per mixture fit (default 1 when absent). */
  gmmNInit?: number;
  /** `distribution_restarts`: fits whose factors are averaged (default 1 when absent). */
  distributionRestarts?: number;
  /** `density_exact_max`: largest class whose density is exact. */
  densityExactMax: number;
  /** `density_samples`: reference rows per approximate density class. */
  densitySamples: number;
}

/** Teacher outputs the pipeline reads (a subset of `TeacherView`). */
export interface SaMtlInput {
  /** Classes C of the task. */
  classes: number;
  /** n*C teacher logits. */
  logits: Float32Array;
  /** n*C teacher probabilities. */
  probs: Float32Array;
  /** n*d features of the pseudo-labelled rows. */
  features: Float32Array;
  /** Feature width. */
  d: number;
  /** m*d features of the task's labelled rows. */
  labelledFeatures: Float32Array;
}

/** Per-row weights and the factors they came from. */
export interface SaMtlWeights {
  /** Pseudo labels k_i. */
  labels: Int32Array;
  /** Normalised weights w_i (undefined in the pure and distill-only cases). */
  weights?: Float32Array;
  /** The enabled factors. */
  factors: { confidence?: Float32Array; density?: Float32Array; distribution?: Float32Array };
  /** Distilled vectors d_i. */
  distilled: Float32Array;
}

/** Options of the pipeline functions. */
export interface PipelineOptions {
  settings: SaMtlSettings;
  /** Seeded generator; streams are derived, the generator is not advanced. */
  rng: Rng;
}

function validate(input: SaMtlInput): number {
  const { classes, d } = input;
  const n = Math.floor(input.probs.length / classes);
  assertShape(input.probs, n, classes, "weighted-pseudo: teacher probs");
  assertShape(input.logits, n, classes, "weighted-pseudo: teacher logits");
  assertShape(input.features, n, d, "weighted-pseudo: teacher features");
  if (input.labelledFeatures.length % d !== 0) {
    throw new RangeError(
      `weighted-pseudo: labelled features length ${input.labelledFeatures.length} is not a multiple of d=${d}`,
    );
  }
  assertFinite(input.logits, classes, "weighted-pseudo: teacher logits");
  assertFinite(input.features, d, "weighted-pseudo: teacher features");
  assertFinite(input.labelledFeatures, d, "weighted-pseudo: labelled features");
  return n;
}

/** Distilled vectors, pseudo labels and (when some factor flag is on) the combined weights. */
export function saMtlWeights(input: SaMtlInput, options: PipelineOptions): SaMtlWeights {
  const s = options.settings;
  const n = validate(input);
  const { classes, d } = input;
  const distilled = s.globalSoftmax
    ? softmaxGlobal(input.logits, { temperature: s.distillT })
    : softmaxRows(input.logits, classes, { temperature: s.distillT });
  const { labels, confidence } = pseudoLabels(input.probs, classes);
  const factors: SaMtlWeights["factors"] = {};
  if (s.distilledOnly || !(s.confidence || s.density || s.distribution)) {
    return { labels, factors, distilled };
  }
  if (s.confidence) factors.confidence = confidence;
  if (n > 0 && (s.density || s.distribution)) {
    const order = canonicalOrder(input.features, d, { values: input.probs, width: classes });
    const x = gatherRows(input.features, d, order);
    const unpermute = (v: Float32Array) => {
      const out = new Float32Array(n);
      order.forEach((r, i) => (out[r] = v[i]));
      return out;
    };
    if (s.density) {
      const res = localDensity(x, gatherRows(labels, 1, order), {
        d,
        classes,
        quantile: s.densityT,
        rng: options.rng.derive("sa-mtl:density"),
        exactMax: s.densityExactMax,
        neighbourSamples: s.densitySamples,
      });
      factors.density = unpermute(res.density);
    }
    if (s.distribution) {
      const lx = gatherRows(input.labelledFeatures, d, canonicalOrder(input.labelledFeatures, d));
      const res = distributionFactor(x, lx, {
        d,
        k: s.clusterK,
        rng: options.rng.derive("sa-mtl:distribution"),
        metric: s.metric,
        maxFit: s.gmmMaxFit,
        nInit: s.gmmNInit,
        restarts: s.distributionRestarts,
      });
      factors.distribution = unpermute(res.delta);
    }
  } else if (n === 0) {
    if (s.density) factors.density = new Float32Array(0);
    if (s.distribution) factors.distribution = new Float32Array(0);
  }
  const list = [factors.confidence, factors.density, factors.distribution].filter((f) => f !== undefined);
  return { labels, factors, distilled, weights: combineFactors(list, n).weights };
}

function factorMeans(f: SaMtlWeights["factors"]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, v] of Object.entries(f)) {
    let s = 0;
    for (const x of v) s += x;
    out[`mean_${name}`] = v.length > 0 ? s / v.length : 0;
  }
  return out;
}

/** The full decision table of 6.8.9 (with the 6.8.11 fixes unless the settings say compat). */
export function saMtlTargets(input: SaMtlInput, options: PipelineOptions): TargetSet {
  const s = options.settings;
  const w = saMtlWeights(input, options);
  const C = input.classes;
  if (s.distilledOnly) return distilledTargets(w.distilled, C);
  if (!w.weights) return pureTargets(w.labels, { classes: C, distilled: w.distilled });
  const set = s.interpolation
    ? softTargets(w.weights, w.labels, {
      classes: C,
      distilled: w.distilled,
      mode: s.interpolationMode,
      lambda: s.lambda,
    })
    : hardTargets(w.weights, w.labels, {
      classes: C,
      distilled: w.distilled,
      threshold: s.selectionThreshold,
      mode: s.selectionMode,
      reject: s.reject,
    });
  return { ...set, stats: { ...set.stats, ...factorMeans(w.factors) } };
}
