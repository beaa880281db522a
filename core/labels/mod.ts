/**
 * Label strategies and sample weightings for missing-task targets, as pure functions on typed arrays.
 *
 * ```ts
 * import { distilledStrategy, DISTILL_OPTIONS } from "./core/labels/mod.ts";
 * // in a method plugin: labels: distilledStrategy, options: DISTILL_OPTIONS
 * const set = await distilledStrategy.build!(view, { options, rng, compat: false });
 * // set.targets: n*C rows (all-zero = masked), set.weights, set.kept, set.stats
 * ```
 *
 * Building blocks: {@link softmaxRows} / {@link softmaxGlobal} (distillation), {@link pseudoLabels},
 * {@link localDensity}, {@link fitGmm}, {@link emdOneToMany}, {@link mmdRbf},
 * {@link distributionFactor}, {@link combineFactors}, {@link hardTargets} / {@link softTargets} /
 * {@link pureTargets} / {@link distilledTargets}, and the whole pipeline {@link saMtlTargets}.
 * @module
 */
export { softmaxGlobal, type SoftmaxOptions, softmaxRows } from "./distill.ts";
export { oneHot, type PseudoLabels, pseudoLabels } from "./pseudo.ts";
export {
  type ClassDensityInfo,
  type CountOptions,
  type CutoffOptions,
  densityCutoff,
  type DensityOptions,
  type DensityResult,
  dkwEpsilon,
  hoeffdingEpsilon,
  localDensity,
  neighbourCounts,
  normaliseDensity,
} from "./density.ts";
export {
  cholesky,
  fitGmm,
  type GaussianMixture,
  type GmmOptions,
  gmmPredict,
  gmmResponsibilities,
  invertLower,
} from "./gmm.ts";
export { emdOneToMany, type EmdOptions, type EmdResult } from "./emd.ts";
export { medianBandwidth, type MmdOptions, mmdRbf } from "./mmd.ts";
export {
  distributionFactor,
  type DistributionMetric,
  type DistributionOptions,
  type DistributionResult,
} from "./distribution.ts";
export { type CombinedWeights, combineFactors, maxNormalise } from "./combine.ts";
export {
  distilledTargets,
  type HardOptions,
  hardTargets,
  type InterpolationMode,
  pureTargets,
  type RejectMode,
  type SelectionMode,
  selectionThreshold,
  type SoftOptions,
  softTargets,
  type TargetInputs,
} from "./targets.ts";
export {
  type PipelineOptions,
  type SaMtlInput,
  type SaMtlSettings,
  saMtlTargets,
  type SaMtlWeights,
  saMtlWeights,
} from "./weighting.ts";
export {
  checkDistillOptions,
  DISTILL_OPTIONS,
  distilledStrategy,
  distilledVectors,
  type DistillLoss,
  PSEUDO_OPTIONS,
  pseudoStrategy,
  T2_SCALING_OPTION,
} from "./strategies.ts";
