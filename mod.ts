/**
 * SA-MTL toolkit: multi-task learning across datasets that each label one task (facial emotion, head
 * pose, gender, age), with SA-MTL and every method it is compared with, on TensorFlow.js.
 *
 * Train a method from code with {@link train}, whose options are the command line's flags by the same
 * names, typed and checked as the command line checks them; {@link evaluate} a run's checkpoint; run the
 * whole benchmark with {@link compare}. Two epochs of SA-MTL, then its best checkpoint on the test splits:
 *
 * ```ts
 * import { evaluate, train } from "./mod.ts";
 *
 * // SA-MTL on the embedded synthetic faces (emotion and pose), tiny settings: seconds on a CPU.
 * const { dir, summary } = await train({
 *   method: "sa-mtl",
 *   options: {
 *     epoch: 2,
 *     train_size: 96,
 *     image_size: 32,
 *     batch_size: 16,
 *     quiet: true,
 *     out: await Deno.makeTempDir({ prefix: "sa-mtl-" }),
 *   },
 * });
 * console.log(`run ${dir}: best epoch ${summary!.bestEpoch}`);
 *
 * // Its best checkpoint on the test splits.
 * for (const m of await evaluate({ run: dir!, quiet: true })) {
 *   console.log(`${m.metric}: accuracy ${(m.acc * 100).toFixed(1)}%`);
 * }
 * ```
 *
 * Add a method by writing one {@link MethodPlugin} file (see `methods/` and the README), and train it
 * with `train({ plugin })` or `options.plugin`.
 * @module
 */

// The typed API.
export {
  compare,
  type CompareOutcome,
  type CompareRequest,
  type DatasetName,
  type EvalMetric,
  evaluate,
  type EvaluateRequest,
  type ModelName,
  train,
  type TrainOptions,
  type TrainRequest,
  type TrainResult,
} from "./runner/api.ts";
export type { TrainSummary } from "./runner/train/trainer.ts";
export { DATASET_CHOICES, MODEL_CHOICES } from "./runner/schema.ts";
export type { DryRunReport, RunHooks } from "./runner/run_command.ts";
export {
  type BackendInfo,
  type BackendName,
  initBackend,
  type InitBackendOptions,
} from "./runner/backend.ts";
export { type CompareProfile, type CompareVariant, type PlannedRun, PROFILES } from "./runner/compare.ts";
export { LR_SCHEDULES, type LrScheduleName } from "./runner/train/lr_schedule.ts";
export type { CompareStatus, RunStatus, StatusColumn } from "./runner/compare_status.ts";
export type { RunState } from "./runner/executors/run_state.ts";
export type { Submission } from "./runner/executors/slurm.ts";
export type {
  BackendSummary,
  CompareResults,
  CurvePoint,
  FailedRunInfo,
  InterimInfo,
  MachineInfo,
  PseudoLabelPoint,
  RunResult,
  TaskResult,
  TeacherTransfer,
} from "./runner/report/results.ts";
export { validateResultsFile } from "./runner/report/results_file.ts";
export { main } from "./runner/main.ts";

// Contracts.
export type {
  ArchName,
  BackboneName,
  ExtensionContext,
  ExtensionResult,
  HiddenTruth,
  ImageSet,
  LoadOptions,
  ModelExtension,
  ModelOptions,
  ModelOutputs,
  MultiTaskModel,
  TaskName,
  TaskSpec,
  WeightRole,
} from "./core/types.ts";
export { TASK_NAMES } from "./core/types.ts";
export type {
  DataMode,
  LabelStrategy,
  LossContext,
  LossTerm,
  MethodPlugin,
  MethodRole,
  Schedule,
  ScheduleBudget,
  ScriptSelector,
  StrategyContext,
  TargetSet,
  TeacherView,
} from "./core/plugin.ts";
export type {
  LayersModel,
  Scalar,
  SymbolicTensor,
  Tensor,
  Tensor1D,
  Tensor2D,
  Tensor4D,
  Variable,
} from "./core/tensors.ts";
export {
  OptionError,
  type OptionReader,
  optionReader,
  type Options,
  type OptionSpec,
  type OptionType,
  type OptionValue,
} from "./core/options.ts";

// Plugins.
export { discoverPlugins, findPlugin, loadPluginFile } from "./runner/registry.ts";
export { Rng, type RngState } from "./core/rng.ts";

// Building blocks for plugins.
export * as labels from "./core/labels/mod.ts";
export {
  checkView,
  PASSES_PER_REFRESH_OPTION,
  passesPerRefresh,
  type PseudoTargetMode,
  pseudoTargetMode,
  type PseudoTargetOptions,
  pseudoTargets,
} from "./core/labels/pseudo_targets.ts";
export {
  L21_OPTIONS,
  l21NormTerm,
  type L21Options,
  type L21TermOptions,
  type LaplacianOptions,
  laplacianTerm,
  type LaplacianTermOptions,
  MANIFOLD_OPTIONS,
  NUCLEAR_OPTIONS,
  nuclearNormTerm,
  type NuclearOptions,
  type NuclearTermOptions,
  TRACE_OPTIONS,
  traceNormTerm,
  type TraceNormTermOptions,
} from "./core/regularizers.ts";
export {
  type MeanFieldResult,
  mrfRefine,
  type MrfRefineOptions,
  type MrfRefineResult,
  type SparseGraph,
} from "./core/mrf.ts";
export { labelEmbeddingExtension, type LabelEmbeddingOptions } from "./core/label_embedding.ts";
export {
  jointLabelTransferExtension,
  jointLabelTransferTerm,
  type JointLtnOptions,
} from "./core/label_transfer_joint.ts";
export { maskedCrossEntropy } from "./core/loss.ts";

// Datasets and models.
export type {
  AugmentOptions,
  Batch,
  DataSource,
  EpochGenerator,
  EpochOptions,
  GeneratorOptions,
  PseudoTargets,
  RowOrder,
} from "./core/batches.ts";
export type { EmbeddedOptions } from "./datasets/_embedded_cache.ts";
export type { SynthDifficulty } from "./datasets/synth/_presets.ts";
export { type DatasetLoadOptions, datasetTasks, loadDataset, loadHiddenTruth } from "./datasets/mod.ts";
export { type PreprocessOptions, preprocessPixels, type RgbaImage } from "./datasets/preprocess.ts";
export {
  buildModel,
  type BuildOptions,
  type BuiltModel,
  countParams,
  type HeadKind,
  type ParamCount,
  recalibrateBatchNorm,
  type RecalibrateOptions,
} from "./models/mod.ts";
