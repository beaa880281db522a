/**
 * SA-MTL toolkit: multi-task learning across datasets that each label one task (facial emotion, head
 * pose, gender, age), with SA-MTL and every method it is compared with, on TensorFlow.js.
 *
 * Run a method from code the way `deno task NAME` does:
 *
 * ```ts
 * import { executeRun, resolveRun } from "./mod.ts";
 *
 * const run = await resolveRun("sa-mtl", ["--epoch=2", "--out=runs/demo"]);
 * if (run) {
 *   const { summary } = await executeRun(run, console.error);
 *   console.log(summary?.test);
 * }
 * ```
 *
 * Add a method by writing one {@link MethodPlugin} file (see `methods/` and the README).
 * @module
 */

// Contracts.
export type {
  BackboneName,
  HiddenTruth,
  ImageSet,
  LoadOptions,
  ModelExtension,
  ModelOptions,
  ModelOutputs,
  MultiTaskModel,
  TaskName,
  TaskSpec,
} from "./core/types.ts";
export { TASK_NAMES } from "./core/types.ts";
export type {
  DataMode,
  LabelStrategy,
  LossContext,
  LossTerm,
  MethodPlugin,
  MethodRole,
  ScriptSelector,
  StrategyContext,
  TargetSet,
  TeacherView,
} from "./core/plugin.ts";
export {
  OptionError,
  type OptionReader,
  optionReader,
  type Options,
  type OptionSpec,
  type OptionValue,
} from "./core/options.ts";

// Running methods.
export { discoverPlugins, findPlugin, loadPluginFile } from "./runner/registry.ts";
export { type ResolvedRun, resolveRun } from "./runner/commands.ts";
export { executeRun, type RunHooks, type RunOutcome } from "./runner/run_command.ts";
export { runTraining, type TrainSpec, type TrainSummary } from "./runner/train/trainer.ts";
export { runCompare } from "./runner/compare.ts";
export { main } from "./runner/main.ts";
export { parseArgs } from "./runner/cli.ts";
export { type BackendInfo, type BackendName, initBackend } from "./runner/backend.ts";
export { Rng } from "./core/rng.ts";

// Building blocks for plugins.
export * as labels from "./core/labels/mod.ts";
export {
  checkView,
  PASSES_PER_REFRESH_OPTION,
  passesPerRefresh,
  pseudoTargetMode,
  pseudoTargets,
} from "./core/labels/pseudo_targets.ts";
export {
  L21_OPTIONS,
  l21NormTerm,
  laplacianTerm,
  MANIFOLD_OPTIONS,
  NUCLEAR_OPTIONS,
  nuclearNormTerm,
  TRACE_OPTIONS,
  traceNormTerm,
} from "./core/regularizers.ts";
export { mrfRefine } from "./core/mrf.ts";
export { labelEmbeddingExtension } from "./core/label_embedding.ts";
export { maskedCrossEntropy } from "./core/loss.ts";

// Datasets and models.
export { datasetTasks, loadDataset, loadHiddenTruth } from "./datasets/mod.ts";
export { preprocessPixels } from "./datasets/preprocess.ts";
export {
  buildModel,
  countParams,
  loadCheckpoint,
  recalibrateBatchNorm,
  saveCheckpoint,
} from "./models/mod.ts";

// Reports.
export { writeReport } from "./runner/report/mod.ts";
