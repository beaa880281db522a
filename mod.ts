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
  StrategyContext,
  TargetSet,
  TeacherView,
} from "./core/plugin.ts";
export { OptionError, type Options, type OptionSpec, type OptionValue } from "./core/options.ts";

// Running methods.
export { discoverPlugins, findPlugin, loadPluginFile } from "./core/registry.ts";
export { type ResolvedRun, resolveRun } from "./core/commands.ts";
export { executeRun, type RunHooks, type RunOutcome } from "./core/run_command.ts";
export { runTraining, type TrainSpec, type TrainSummary } from "./core/train/trainer.ts";
export { runCompare } from "./core/compare.ts";
export { main } from "./core/main.ts";
export { parseArgs } from "./core/cli.ts";
export { type BackendInfo, type BackendName, initBackend } from "./core/backend.ts";
export { Rng } from "./core/rng.ts";

// Building blocks for plugins.
export * as labels from "./core/labels/mod.ts";
export { BASELINE_OPTIONS, dcnApStrategy, lelLtnStrategy } from "./core/baseline_strategies.ts";
export { l21NormTerm, nuclearNormTerm, traceTerm } from "./core/regularizers.ts";
export { labelEmbeddingExtension } from "./core/label_embedding.ts";
export { maskedCrossEntropy } from "./core/train/loss.ts";

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
export { writeReport } from "./core/report/mod.ts";
