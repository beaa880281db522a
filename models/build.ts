/**
 * The multi-task model builder: a trunk (VGG16, mini-Xception or big Xception), per-task branches
 * with named feature taps, the cross-stitch unit, task logits, and an optional plugin extension.
 *
 * Heads (all backbones, `head: "branch"`, the default): per task a 128-wide Dense branch `<task>_fc`
 * (linear; its output is the task's feature tap, pre-BN, pre-ReLU, pre-cross-stitch as in docs/original.md §4.5)
 * → optional BN `<task>_bn` → ReLU `<task>_relu` → cross-stitch (emotion/pose and digit/rotation) →
 * optional Dropout 0.5 `<task>_dropout` → logits Dense `<task>`. The branches read `common_relu`
 * (after `common_fc` Dense 1024) on VGG and `gap_trunk` (global average pool of the trunk) on the
 * Xception trunks: this gives mini-Xception the per-task taps SA-MTL needs (docs/original.md B31).
 *
 * Xception trunks also offer the original head (`head: "conv"`, docs/original.md §4.4 and the imported FER2013
 * model): per task Conv 3×3 with C filters `<task>_conv` → global average pool `gap_<task>` = logits;
 * the feature tap of every task is then the shared `gap_trunk`, and there is no cross-stitch.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import type {
  ArchName,
  BackboneName,
  ExtensionContext,
  ModelOptions,
  ModelOutputs,
  MultiTaskModel,
  TaskName,
  TaskSpec,
  WeightRole,
} from "../core/types.ts";
import { ARCH_NAMES, TASK_NAMES } from "../core/types.ts";
import type { LayersModel, Scalar } from "../core/tensors.ts";
import {
  bigXceptionTrunk,
  bn,
  call,
  layerSeed,
  type LayerSettings,
  miniXceptionTrunk,
  vgg16Trunk,
} from "./backbones.ts";
import { CrossStitch } from "./cross_stitch.ts";
import { RepTap } from "./rep_tap.ts";
import { ExpertMixture } from "./mmoe.ts";

type ST = tfl.SymbolicTensor;

/** Head layout: Dense branches with feature taps (default) or the original conv head of the Xceptions. */
export type HeadKind = "branch" | "conv";

/** Builder options: {@link ModelOptions} plus the model-module extras. */
export interface BuildOptions extends ModelOptions {
  /** Head layout (default `branch`; `conv` only for the Xception backbones). */
  head?: HeadKind;
  /** Add `manifold_<task>` = concat(`<task>_relu`, softmax(logits)) extra outputs (docs/original.md §4.2 step 10, B2). */
  manifold?: boolean;
  /** Width of the per-task branch (default 128). */
  branchWidth?: number;
}

/** A built model: the shared {@link MultiTaskModel} contract plus introspection used by checkpoints and importers. */
export interface BuiltModel extends MultiTaskModel {
  /** The head layout the model was built with. */
  head: HeadKind;
  /** Names of the trunk layers (what `setTrunkTrainable` freezes). */
  trunkLayers: string[];
  /** Output keys in `model.outputs` order (`logits/<task>`, `features/<task>`, `extra/<name>`); repeats share an output. */
  outputKeys: string[];
  /** Sum of the layers' regularisation penalties (L2 terms), or null when the model has none. */
  regularizationLoss(): Scalar | null;
}

/** Default input shape per backbone (H, W, C). */
export const DEFAULT_INPUT_SHAPES: Readonly<Record<BackboneName, [number, number, number]>> = {
  mini_xception: [64, 64, 1],
  vggFace: [224, 224, 3],
  big_xception: [64, 64, 1],
};

/** Smallest accepted input side per backbone. */
export const MIN_INPUT_SIDE: Readonly<Record<BackboneName, number>> = {
  mini_xception: 16,
  vggFace: 32,
  big_xception: 16,
};

/** Tasks whose branches are mixed by the cross-stitch unit when two or more are present. */
export const CROSS_STITCH_GROUPS: readonly (readonly TaskName[])[] = [["emotion", "pose"], [
  "digit",
  "rotation",
]];

/** Width of each MMoE expert (a Dense + ReLU layer on the shared features). */
const EXPERT_WIDTH = 256;

/** Tasks whose branch gets BatchNorm (`isBn`) and Dropout (`isDropout`): all but gender (docs/original.md §4.2, §4.7, B3). */
const BN_DROPOUT_TASKS: ReadonlySet<TaskName> = new Set(["emotion", "pose", "age", "digit", "rotation"]);

function validate(opts: BuildOptions): void {
  if (!(opts.backbone in DEFAULT_INPUT_SHAPES)) {
    throw new Error(`--model: unknown backbone "${opts.backbone}" (mini_xception, vggFace, big_xception)`);
  }
  if (opts.tasks.length === 0) throw new Error("buildModel: no tasks given");
  const seen = new Set<string>();
  for (const t of opts.tasks) {
    if (!TASK_NAMES.includes(t.name)) throw new Error(`buildModel: unknown task "${t.name}"`);
    if (seen.has(t.name)) throw new Error(`buildModel: task "${t.name}" given twice`);
    seen.add(t.name);
    if (!Number.isInteger(t.classes) || t.classes < 1) {
      throw new Error(`buildModel: task "${t.name}" needs a positive class count, got ${t.classes}`);
    }
  }
  const [h, w, c] = opts.inputShape;
  const min = MIN_INPUT_SIDE[opts.backbone];
  if (!(h >= min && w >= min && c >= 1) || ![h, w, c].every(Number.isInteger)) {
    throw new Error(
      `buildModel: input shape [${h}, ${w}, ${c}] too small for ${opts.backbone} (sides >= ${min})`,
    );
  }
  const arch = opts.arch ?? "hps";
  if (!ARCH_NAMES.includes(arch)) {
    throw new Error(`--arch: unknown architecture "${arch}" (${ARCH_NAMES.join(", ")})`);
  }
  if (arch !== "hps" && opts.head === "conv") {
    throw new Error(`--arch=${arch}: the conv head has no task branches to share; only hps applies`);
  }
  if (arch === "cross-stitch" && opts.tasks.length < 2) {
    throw new Error("--arch=cross-stitch: needs at least two task heads");
  }
  if (opts.experts !== undefined && !(Number.isInteger(opts.experts) && opts.experts >= 1)) {
    throw new Error(`--mmoe_experts must be a positive integer, got ${opts.experts}`);
  }
  if (opts.head === "conv" && opts.backbone === "vggFace") {
    throw new Error("buildModel: head 'conv' needs an Xception backbone");
  }
  if (opts.weightsDecay !== undefined && !(opts.weightsDecay >= 0)) {
    throw new Error(`--weights_decay must be >= 0, got ${opts.weightsDecay}`);
  }
  const m = opts.bnMomentum;
  if (m !== undefined && !(m >= 0 && m < 1)) throw new Error(`--bn_momentum must be in [0, 1), got ${m}`);
}

/** Build a multi-task network for any set of task heads. */
export function buildModel(opts: BuildOptions): BuiltModel {
  validate(opts);
  const s: LayerSettings = { seed: opts.seed, bnMomentum: opts.bnMomentum ?? 0.9 };
  const head: HeadKind = opts.head ?? "branch";
  const width = opts.branchWidth ?? 128;
  const wd = opts.weightsDecay ?? 0;
  const dense = (name: string, units: number, activation: "linear" | "relu" = "linear") =>
    tfl.layers.dense({
      name,
      units,
      activation,
      kernelInitializer: tfl.initializers.glorotUniform({ seed: layerSeed(s.seed, name) }),
      kernelRegularizer: wd > 0 ? tfl.regularizers.l2({ l2: wd }) : undefined,
    });

  const input = tfl.input({ shape: opts.inputShape, name: "input" });
  const trunk = opts.backbone === "vggFace"
    ? vgg16Trunk(input, s)
    : opts.backbone === "mini_xception"
    ? miniXceptionTrunk(input, s)
    : bigXceptionTrunk(input, s);

  const features: Partial<Record<TaskName, ST>> = {};
  const logits: Partial<Record<TaskName, ST>> = {};
  const relu: Partial<Record<TaskName, ST>> = {};
  let sharedFc: { layer: string; weight: string };
  const taskHeads: string[] = [];
  // The first kernel of every task branch, when all of them read the shared representation (not under MMoE).
  const taskFc: string[] = [];
  let taskFcRefusal: string | undefined;

  // The shared representation every head reads goes through one identity tap (see rep_tap.ts).
  const tap = new RepTap({ name: "shared_rep" });
  if (head === "conv") {
    const rep = call(tap, trunk.output);
    const gap = call(tfl.layers.globalAveragePooling2d({ name: "gap_trunk" }), rep);
    for (const t of opts.tasks) {
      const convName = `${t.name}_conv`;
      const c = call(
        tfl.layers.conv2d({
          name: convName,
          filters: t.classes,
          kernelSize: 3,
          padding: "same",
          kernelInitializer: tfl.initializers.glorotUniform({ seed: layerSeed(s.seed, convName) }),
        }),
        rep,
      );
      logits[t.name] = call(tfl.layers.globalAveragePooling2d({ name: `gap_${t.name}` }), c);
      features[t.name] = gap;
      taskHeads.push(convName);
      taskFc.push(convName);
    }
    sharedFc = trunk.lastKernel;
  } else {
    let shared: ST;
    if (opts.backbone === "vggFace") {
      let h = call(tfl.layers.flatten({ name: "flatten" }), trunk.output);
      h = call(dense("common_fc", 1024, "relu"), h);
      if (opts.isBn) h = call(bn(s, "common_bn"), h);
      h = call(tfl.layers.reLU({ name: "common_relu" }), h);
      if (opts.isDropout) {
        h = call(
          tfl.layers.dropout({
            name: "common_dropout",
            rate: 0.5,
            seed: layerSeed(s.seed, "common_dropout"),
          }),
          h,
        );
      }
      shared = h;
      sharedFc = { layer: "common_fc", weight: "kernel" };
    } else {
      shared = call(tfl.layers.globalAveragePooling2d({ name: "gap_trunk" }), trunk.output);
      sharedFc = trunk.lastKernel;
    }
    shared = call(tap, shared);
    const arch: ArchName = opts.arch ?? "hps";
    // MMoE: E expert layers on the shared features, one softmax gate per task; each task's branch reads
    // its own gate-weighted mixture of the experts.
    const branchInput: Partial<Record<TaskName, ST>> = {};
    if (arch === "mmoe") {
      taskFcRefusal = "under --arch=mmoe every task branch reads its own expert mixture, not one shared " +
        "feature vector (use --arch=hps or cross-stitch)";
      const experts = Array.from(
        { length: opts.experts ?? 4 },
        (_, e) => call(dense(`expert_${e}`, EXPERT_WIDTH, "relu"), shared),
      );
      for (const t of opts.tasks) {
        const gate = call(
          tfl.layers.dense({
            name: `gate_${t.name}`,
            units: experts.length,
            activation: "softmax",
            kernelInitializer: tfl.initializers.glorotUniform({ seed: layerSeed(s.seed, `gate_${t.name}`) }),
          }),
          shared,
        );
        branchInput[t.name] = call(new ExpertMixture({ name: `${t.name}_mixture` }), [gate, ...experts]);
      }
    }
    for (const t of opts.tasks) {
      const fc = call(dense(`${t.name}_fc`, width), branchInput[t.name] ?? shared);
      features[t.name] = fc;
      taskFc.push(`${t.name}_fc`);
      let h = fc;
      if (opts.isBn && BN_DROPOUT_TASKS.has(t.name)) h = call(bn(s, `${t.name}_bn`), h);
      relu[t.name] = call(tfl.layers.reLU({ name: `${t.name}_relu` }), h);
    }
    const mixed: Partial<Record<TaskName, ST>> = {};
    if (arch === "cross-stitch") {
      const names = opts.tasks.map((t) => t.name);
      const outs = new CrossStitch({ name: `cross_stitch_${names.join("_")}` }).apply(
        names.map((n) => relu[n]!),
      ) as ST[];
      names.forEach((n, i) => mixed[n] = outs[i]);
    } else if (arch === "hps" && (opts.crossStitch ?? true)) {
      for (const group of CROSS_STITCH_GROUPS) {
        const present = group.filter((n) => relu[n] !== undefined);
        if (present.length < 2) continue;
        const outs = new CrossStitch({ name: `cross_stitch_${present.join("_")}` }).apply(
          present.map((n) => relu[n]!),
        ) as ST[];
        present.forEach((n, i) => mixed[n] = outs[i]);
      }
    }
    for (const t of opts.tasks) {
      let h = mixed[t.name] ?? relu[t.name]!;
      if (opts.isDropout && BN_DROPOUT_TASKS.has(t.name)) {
        const name = `${t.name}_dropout`;
        h = call(tfl.layers.dropout({ name, rate: 0.5, seed: layerSeed(s.seed, name) }), h);
      }
      logits[t.name] = call(dense(t.name, t.classes), h);
      taskHeads.push(t.name);
    }
  }

  const extra: Record<string, ST> = {};
  if (opts.manifold) {
    if (head === "conv") throw new Error("buildModel: manifold outputs need the branch head");
    for (const t of opts.tasks) {
      const p = call(tfl.layers.softmax({ name: `${t.name}_prediction` }), logits[t.name]!);
      extra[`manifold_${t.name}`] = call(tfl.layers.concatenate({ name: `manifold_${t.name}` }), [
        relu[t.name]!,
        p,
      ]);
    }
  }
  if (opts.extension) {
    const ctx: ExtensionContext = {
      tasks: opts.tasks,
      features: { ...features },
      logits: { ...logits },
      seed: layerSeed(s.seed, "extension"),
    };
    const res = opts.extension(ctx);
    for (const [k, v] of Object.entries(res.logits ?? {})) {
      if (!opts.tasks.some((t) => t.name === k)) {
        throw new Error(`model extension: logits for unknown task "${k}"`);
      }
      logits[k as TaskName] = v;
    }
    for (const [k, v] of Object.entries(res.extra ?? {})) {
      if (k in extra) throw new Error(`model extension: extra output "${k}" already exists`);
      extra[k] = v;
    }
  }

  const keyed: [string, ST][] = [];
  for (const t of opts.tasks) {
    keyed.push([`logits/${t.name}`, logits[t.name]!], [`features/${t.name}`, features[t.name]!]);
  }
  for (const [k, v] of Object.entries(extra)) keyed.push([`extra/${k}`, v]);
  const outputs: ST[] = [];
  const index = new Map<string, number>();
  for (const [k, v] of keyed) {
    let i = outputs.indexOf(v);
    if (i < 0) i = outputs.push(v) - 1;
    index.set(k, i);
  }
  const model = tfl.model({
    inputs: input,
    outputs,
    name: `${opts.backbone}_${opts.tasks.map((t) => t.name).join("_")}`,
  });
  return wrap(model, opts, {
    head,
    trunkLayers: trunk.layers,
    sharedFc,
    taskHeads,
    taskFc,
    taskFcRefusal,
    index,
    extraNames: Object.keys(extra),
    tap,
  });
}

interface WrapInfo {
  head: HeadKind;
  trunkLayers: string[];
  sharedFc: { layer: string; weight: string };
  taskHeads: string[];
  taskFc: string[];
  taskFcRefusal?: string;
  index: Map<string, number>;
  extraNames: string[];
  tap: RepTap;
}

function layerWeight(model: tfl.LayersModel, layer: string, weight: string): tf.Variable {
  const v = model.getLayer(layer).weights.find((w) => w.originalName.split("/").pop() === weight);
  if (!v) throw new Error(`model ${model.name}: layer ${layer} has no weight "${weight}"`);
  return v.read() as tf.Variable;
}

function wrap(model: tfl.LayersModel, opts: BuildOptions, info: WrapInfo): BuiltModel {
  const outputKeys: string[] = [];
  for (const [k, i] of info.index) outputKeys[i] ??= k;
  return {
    backbone: opts.backbone,
    tasks: opts.tasks.map((t) => ({ ...t, labels: [...t.labels] }) as TaskSpec),
    inputShape: [...opts.inputShape] as [number, number, number],
    model,
    head: info.head,
    trunkLayers: [...info.trunkLayers],
    outputKeys,
    apply(x: tf.Tensor4D, training: boolean): ModelOutputs {
      const raw = model.apply(x, { training }) as tf.Tensor | tf.Tensor[];
      const outs = Array.isArray(raw) ? raw : [raw];
      const res: ModelOutputs = { logits: {}, features: {}, extra: {} };
      for (const t of opts.tasks) {
        res.logits[t.name] = outs[info.index.get(`logits/${t.name}`)!] as tf.Tensor2D;
        res.features[t.name] = outs[info.index.get(`features/${t.name}`)!] as tf.Tensor2D;
      }
      for (const k of info.extraNames) res.extra[k] = outs[info.index.get(`extra/${k}`)!];
      return res;
    },
    trainableWeights(): tf.Variable[] {
      return model.trainableWeights.map((w) => w.read() as tf.Variable);
    },
    setTrunkTrainable(trainable: boolean): void {
      for (const name of info.trunkLayers) model.getLayer(name).trainable = trainable;
    },
    weightsByRole(role: WeightRole): tf.Variable[] {
      if (role === "shared_fc") return [layerWeight(model, info.sharedFc.layer, info.sharedFc.weight)];
      if (role === "task_fc") {
        if (info.taskFcRefusal) throw new Error(`task_fc kernels: ${info.taskFcRefusal}`);
        return info.taskFc.map((l) => layerWeight(model, l, "kernel"));
      }
      return info.taskHeads.map((l) => layerWeight(model, l, "kernel"));
    },
    regularizationLoss(): tf.Scalar | null {
      return regularizationLoss(model);
    },
    representation: info.tap,
  };
}

/** Sum of every layer's regularisation penalty (Keras `model.losses`), or null when there is none. */
export function regularizationLoss(model: tfl.LayersModel): tf.Scalar | null {
  if (!model.layers.some((l) => l.losses.length > 0)) return null;
  return tf.tidy(() => {
    const terms = model.layers.flatMap((l) => l.calculateLosses());
    return (terms.length === 1 ? terms[0] : tf.addN(terms)) as tf.Scalar;
  });
}

/** Parameter counts of a model. */
export interface ParamCount {
  /** Every weight element, BN moving statistics included. */
  total: number;
  /** Elements of the currently trainable weights. */
  trainable: number;
  /** The rest (BN moving statistics, frozen layers). */
  nonTrainable: number;
}

/** Count parameters (trainable respects frozen layers; BN moving statistics are non-trainable). */
export function countParams(model: MultiTaskModel | LayersModel): ParamCount {
  const m = "apply" in model && "model" in model ? model.model : model as tfl.LayersModel;
  const size = (ws: tfl.LayerVariable[]) =>
    ws.reduce((a, w) => a + w.shape.reduce<number>((p, d) => p * (d ?? 1), 1), 0);
  const total = size(m.weights);
  const trainable = size(m.trainableWeights);
  return { total, trainable, nonTrainable: total - trainable };
}
