/**
 * Import of real FER2013 weights from the tfjs graph model that `@vladmandic/human` ships
 * (`models/emotion.json` + `emotion.bin`: oarriaga's Xception-style classifier, 64×64×1 input,
 * 7 FER2013 classes, BatchNorm folded into the convolution biases by the converter).
 *
 * The importer reads the graph's fused convolutions, orders them by depth, checks they have the
 * `big_xception` layout, and writes them into our layers model: kernels as they are, each folded
 * offset into the following BatchNorm's beta, with that BatchNorm set to identity (gamma 1, moving mean
 * 0, moving variance 1 − ε). Inference outputs then equal the graph model's.
 *
 * Input scale: the graph model expects (gray/255 − 0.5)·2 = gray/127.5 − 1; the toolkit feeds
 * gray/128 − 1. With `inputScaling: "toolkit"` (default) the affine difference is folded into the first
 * convolution (exact, because it uses valid padding), so the imported model takes toolkit-preprocessed
 * images directly; `"graph"` keeps the graph's scale.
 * @module
 */
import { EMOTION7_LABELS } from "../datasets/label_spaces.ts";
import * as tf from "@tensorflow/tfjs-core";
import * as tfc from "@tensorflow/tfjs-converter";
import { fileURLToPath } from "node:url";
import type { TaskSpec } from "../core/types.ts";
import { buildModel, type BuiltModel } from "./build.ts";
import { matchBatchNormToData } from "./batchnorm.ts";
import { namedModelWeights } from "./checkpoint.ts";
import { readModelFiles, readWeightsManifest } from "./keras_weights.ts";

/** Path of human's FER2013 emotion model in this project's node_modules. */
export const HUMAN_EMOTION_MODEL: string = fileURLToPath(
  new URL("../node_modules/@vladmandic/human/models/emotion.json", import.meta.url),
);

/** Class order of the FER2013 model (oarriaga / human). */
export const FER2013_GRAPH_LABELS: readonly string[] = EMOTION7_LABELS;

/** Synonyms so FER+ style names (happiness, anger, …) find their FER2013 channel. */
const SYNONYMS: Record<string, string> = {
  anger: "angry",
  disgusted: "disgust",
  fearful: "fear",
  happiness: "happy",
  sadness: "sad",
  surprised: "surprise",
};

/** Load a tfjs graph model from local files (no fetch and no tfjs-node needed). */
export async function loadGraphModelFile(path: string): Promise<tfc.GraphModel> {
  const { json, specs, data } = await readModelFiles(path);
  return await tfc.loadGraphModel(tf.io.fromMemory({
    modelTopology: json.modelTopology as tf.io.ModelArtifacts["modelTopology"],
    weightSpecs: specs,
    weightData: data,
    format: json.format as string | undefined,
    generatedBy: json.generatedBy as string | undefined,
    convertedBy: json.convertedBy as string | null | undefined,
  }));
}

/** Options of {@link importGraphEmotionModel}. */
export interface GraphImportOptions {
  /** Target model (a `big_xception`); default: a new one with one emotion task in FER2013 order and the conv head. */
  model?: BuiltModel;
  /** Seed of the model built when `model` is not given (default 0). */
  seed?: number;
  /** `toolkit` (default): the imported model takes x/128 − 1 inputs; `graph`: it takes the graph's x/127.5 − 1. */
  inputScaling?: "toolkit" | "graph";
  /**
   * Images (in the imported model's input scale) to move the identity BatchNorms onto the data's
   * statistics without changing inference ({@link matchBatchNormToData}); use before fine-tuning.
   */
  calibration?: tf.Tensor4D;
}

/** What the importer did. */
export interface GraphImportResult {
  /** The model that received the weights (the given one or a new `big_xception`). */
  model: BuiltModel;
  /** Weight keys (`layer/param`) written. */
  loaded: string[];
  /** Human-readable notes on what was not imported and why. */
  notes: string[];
}

interface GraphNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, { s?: string; list?: { i?: string[]; s?: string[] } }>;
}

interface ConvUnit {
  node: GraphNode;
  depth: number;
  kind: "conv" | "separable";
  kernel: string;
  depthwise?: string;
  bias: string;
  relu: boolean;
  strides: number[];
  padding: string;
}

function b64(s: string | undefined): string {
  return s ? atob(s) : "";
}

function parseUnits(nodes: GraphNode[], path: string): { units: ConvUnit[]; headName: string } {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const depth = new Map<string, number>();
  const depthOf = (name: string): number => {
    const clean = name.replace(/^\^/, "").replace(/:\d+$/, "");
    const cached = depth.get(clean);
    if (cached !== undefined) return cached;
    const n = byName.get(clean);
    if (!n) throw new Error(`${path}: node ${clean} is referenced but not defined`);
    let d: number;
    if (n.op === "Placeholder") d = 0;
    else if (n.op === "Const") d = -1;
    else d = 1 + Math.max(-1, ...(n.input ?? []).map(depthOf));
    depth.set(clean, d);
    return d;
  };
  const units: ConvUnit[] = [];
  for (const n of nodes) {
    if (n.op !== "_FusedConv2D") continue;
    const [src, kernel, bias] = n.input ?? [];
    const srcNode = byName.get(src);
    const ops = (n.attr?.fused_ops?.list?.s ?? []).map(b64);
    if (ops[0] !== "BiasAdd" || ops.length > 2 || (ops[1] && ops[1] !== "Relu")) {
      throw new Error(`${path}: node ${n.name} fuses [${ops.join(", ")}], expected BiasAdd[, Relu]`);
    }
    const sep = srcNode?.op === "DepthwiseConv2dNative";
    units.push({
      node: n,
      depth: depthOf(n.name),
      kind: sep ? "separable" : "conv",
      kernel,
      depthwise: sep ? srcNode!.input![1] : undefined,
      bias,
      relu: ops[1] === "Relu",
      strides: (n.attr?.strides?.list?.i ?? []).map(Number),
      padding: b64(n.attr?.padding?.s),
    });
  }
  units.sort((a, b) => a.depth - b.depth);
  const mean = nodes.find((n) => n.op === "Mean");
  if (!mean) throw new Error(`${path}: no global average pool (Mean) node`);
  return { units, headName: mean.input![0] };
}

function labelIndex(label: string): number {
  const l = label.trim().toLowerCase();
  return FER2013_GRAPH_LABELS.indexOf(SYNONYMS[l] ?? l);
}

/**
 * Map the FER2013 graph model's weights into a `big_xception` layers model. The trunk is always
 * imported; the emotion head only into the conv head (`head: "conv"`), matching the task's labels to
 * the FER2013 classes by name (permuting channels; FER+ names via synonyms; a 7-class task with
 * unknown names takes FER2013 order).
 */
export async function importGraphEmotionModel(
  path: string = HUMAN_EMOTION_MODEL,
  opts: GraphImportOptions = {},
): Promise<GraphImportResult> {
  const { json, tensors } = await readWeightsManifest(path);
  try {
    const topo = json.modelTopology as { node?: GraphNode[] } | undefined;
    if (!topo?.node) throw new Error(`${path}: no modelTopology.node (not a tfjs graph model)`);
    const { units, headName } = parseUnits(topo.node, path);
    const convs = units.filter((u) => u.kind === "conv" && tensors[u.kernel]?.shape[0] === 3);
    const shortcuts = units.filter((u) => u.kind === "conv" && tensors[u.kernel]?.shape[0] === 1);
    const seps = units.filter((u) => u.kind === "separable");
    const head = convs.find((u) => u.node.name === headName);
    const stems = convs.filter((u) => u !== head);
    if (!head || stems.length !== 2 || shortcuts.length !== 2 || seps.length !== 4) {
      throw new Error(
        `${path}: not the big_xception layout (found ${stems.length} stem convs, ${shortcuts.length} shortcuts, ` +
          `${seps.length} separable convs, head ${head ? "yes" : "no"}; expected 2, 2, 4, yes)`,
      );
    }
    const expect = (u: ConvUnit, strides: number, padding: string, relu: boolean, what: string) => {
      if (u.strides[1] !== strides || u.padding !== padding || u.relu !== relu) {
        throw new Error(
          `${path}: ${what} (${u.node.name}) has strides ${
            u.strides[1]
          }, padding ${u.padding}, relu ${u.relu}; ` +
            `expected ${strides}, ${padding}, ${relu}`,
        );
      }
    };
    expect(stems[0], 2, "VALID", true, "first stem conv");
    expect(stems[1], 1, "VALID", true, "second stem conv");
    shortcuts.forEach((u, i) => expect(u, 2, "SAME", false, `shortcut ${i + 1}`));
    seps.forEach((u, i) => expect(u, 1, "VALID", i % 2 === 0, `separable conv ${i + 1} (pointwise)`));

    const model = opts.model ?? buildModel({
      backbone: "big_xception",
      tasks: [{ name: "emotion", classes: 7, labels: [...FER2013_GRAPH_LABELS] }],
      inputShape: [64, 64, 1],
      seed: opts.seed ?? 0,
      head: "conv",
    });
    if (model.backbone !== "big_xception") {
      throw new Error(`importGraphEmotionModel: the target model is ${model.backbone}, needs big_xception`);
    }
    const ours = namedModelWeights(model);
    const values = new Map<string, tf.Tensor>();
    const put = (key: string, t: tf.Tensor) => {
      const w = ours.get(key);
      if (!w) throw new Error(`importGraphEmotionModel: model ${model.model.name} has no weight ${key}`);
      if (w.shape.join(",") !== t.shape.join(",")) {
        throw new Error(`${path}: weight for ${key} has shape [${t.shape}], the model needs [${w.shape}]`);
      }
      values.set(key, t);
    };
    const identityBn = (layer: string, beta: tf.Tensor) => {
      const eps = (model.model.getLayer(layer).getConfig().epsilon as number | undefined) ?? 1e-3;
      const n = beta.shape[0];
      put(`${layer}/gamma`, tf.ones([n]));
      put(`${layer}/beta`, beta);
      put(`${layer}/moving_mean`, tf.zeros([n]));
      put(`${layer}/moving_variance`, tf.fill([n], 1 - eps));
    };
    const notes: string[] = [];

    // First conv, optionally with the input-scale difference folded in: g = a·p + b.
    let k1 = tensors[stems[0].kernel];
    let b1 = tensors[stems[0].bias];
    if ((opts.inputScaling ?? "toolkit") === "toolkit") {
      const a = 128 / 127.5;
      const b = a - 1;
      const kernel = k1;
      const bias = b1;
      k1 = tf.mul(kernel, a);
      b1 = tf.add(bias, tf.mul(tf.sum(kernel, [0, 1, 2]), b));
      notes.push("input scale: folded x/127.5-1 -> x/128-1 into block1_conv1 (exact: valid padding)");
    }
    put("block1_conv1/kernel", k1);
    identityBn("block1_conv1_bn", b1);
    put("block1_conv2/kernel", tensors[stems[1].kernel]);
    identityBn("block1_conv2_bn", tensors[stems[1].bias]);
    shortcuts.forEach((u, i) => {
      put(`block${i + 2}_shortcut/kernel`, tensors[u.kernel]);
      identityBn(`block${i + 2}_shortcut_bn`, tensors[u.bias]);
    });
    seps.forEach((u, i) => {
      const layer = `block${2 + Math.floor(i / 2)}_sepconv${1 + (i % 2)}`;
      put(`${layer}/depthwise_kernel`, tensors[u.depthwise!]);
      put(`${layer}/pointwise_kernel`, tensors[u.kernel]);
      identityBn(`${layer}_bn`, tensors[u.bias]);
    });

    const emotion = model.tasks.find((t) => t.name === "emotion");
    if (!emotion) notes.push("head: the model has no emotion task; trunk only");
    else if (model.head !== "conv") {
      notes.push(
        "head: the model uses the branch head; trunk only (build with head 'conv' to import the head)",
      );
    } else mapHead(emotion, tensors[head.kernel], tensors[head.bias], put, ours, notes);

    for (const [key, t] of values) ours.get(key)!.write(t);
    if (opts.calibration) {
      matchBatchNormToData(model, opts.calibration);
      notes.push(
        `batchnorm: statistics matched to ${
          opts.calibration.shape[0]
        } calibration images (inference unchanged)`,
      );
    }
    const created = [...values.values()].filter((t) => !Object.values(tensors).includes(t));
    tf.dispose(created);
    return { model, loaded: [...values.keys()], notes };
  } finally {
    tf.dispose(Object.values(tensors));
  }
}

function mapHead(
  task: TaskSpec,
  kernel: tf.Tensor,
  bias: tf.Tensor,
  put: (key: string, t: tf.Tensor) => void,
  ours: Map<string, { read(): tf.Tensor }>,
  notes: string[],
): void {
  const src = task.labels.map(labelIndex);
  const matched = src.filter((i) => i >= 0).length;
  if (matched === 0 && task.classes === FER2013_GRAPH_LABELS.length) {
    put("emotion_conv/kernel", kernel);
    put("emotion_conv/bias", bias);
    notes.push("head: task labels do not name FER2013 classes; copied in FER2013 order");
    return;
  }
  if (matched === 0) {
    notes.push(
      `head: none of the ${task.classes} task labels names a FER2013 class; head left as initialised`,
    );
    return;
  }
  // Start from the current (initialised) head and overwrite the channels that have a FER2013 source.
  const k = ours.get("emotion_conv/kernel")!.read();
  const b = ours.get("emotion_conv/bias")!.read();
  const [kh, kw, cin] = kernel.shape;
  const kd = k.arraySync() as number[][][][];
  const bd = Array.from(b.dataSync());
  const sk = kernel.arraySync() as number[][][][];
  const sb = bias.dataSync();
  src.forEach((i, j) => {
    if (i < 0) return;
    for (let y = 0; y < kh; y++) {
      for (let x = 0; x < kw; x++) for (let c = 0; c < cin; c++) kd[y][x][c][j] = sk[y][x][c][i];
    }
    bd[j] = sb[i];
  });
  put("emotion_conv/kernel", tf.tensor4d(kd));
  put("emotion_conv/bias", tf.tensor1d(bd));
  const unmatched = task.labels.filter((_, j) => src[j] < 0);
  if (unmatched.length) {
    notes.push(`head: no FER2013 source for ${unmatched.join(", ")} (left as initialised)`);
  }
}
