/**
 * Models: backbones (`mini_xception`, `vggFace`, `big_xception`), per-task heads with named feature
 * taps, the cross-stitch layer, BatchNorm recalibration, checkpoints and weight importers.
 *
 * ```ts
 * import { buildModel, countParams } from "./models/mod.ts";
 * const m = buildModel({ backbone: "mini_xception", tasks, inputShape: [64, 64, 1], seed: 1 });
 * const { logits, features } = m.apply(x, false);
 * ```
 * @module
 */
export {
  buildModel,
  type BuildOptions,
  type BuiltModel,
  countParams,
  CROSS_STITCH_GROUPS,
  DEFAULT_INPUT_SHAPES,
  type HeadKind,
  MIN_INPUT_SIDE,
  type ParamCount,
  regularizationLoss,
} from "./build.ts";
export { CrossStitch, type CrossStitchArgs } from "./cross_stitch.ts";
export { matchBatchNormToData, recalibrateBatchNorm, type RecalibrateOptions } from "./batchnorm.ts";
export {
  type Checkpoint,
  type CheckpointBlob,
  type CheckpointManifest,
  hasCheckpoint,
  loadCheckpoint,
  type LoadCheckpointOptions,
  namedModelWeights,
  openCheckpoint,
  saveCheckpoint,
  type SaveCheckpointArgs,
  sha256Hex,
} from "./checkpoint.ts";
export {
  loadLayersWeights,
  type LoadLayersWeightsOptions,
  type ModelFiles,
  readModelFiles,
  readWeightsManifest,
  type WeightLoadReport,
} from "./keras_weights.ts";
export {
  FER2013_GRAPH_LABELS,
  type GraphImportOptions,
  type GraphImportResult,
  HUMAN_EMOTION_MODEL,
  importGraphEmotionModel,
  loadGraphModelFile,
} from "./graph_import.ts";
export { type InitWeightsReport, loadInitWeights } from "./init_weights.ts";
