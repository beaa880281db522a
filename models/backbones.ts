/**
 * The convolutional trunks: VGG16 (docs/original.md §4.2, keras-vggface layer names), the mini-Xception
 * (4.4) and the larger Xception layout of the FER2013 model that `@vladmandic/human` ships
 * (`big_xception`). Each returns the trunk's output tensor and the names of its layers (the part
 * that `setTrunkTrainable(false)` freezes).
 * @module
 */
import * as tfl from "@tensorflow/tfjs-layers";
import { Rng } from "../core/rng.ts";

type ST = tfl.SymbolicTensor;

/** Settings shared by the layer factories. */
export interface LayerSettings {
  /** Run seed; every initialiser's seed is derived from it and the layer name. */
  seed: number;
  /** BatchNorm momentum. */
  bnMomentum: number;
}

/** A built trunk: its output and the layers it consists of (input layer excluded). */
export interface Trunk {
  output: ST;
  layers: string[];
  /** The last weighted layer before the heads (the `shared_fc` role for Xception trunks). */
  lastKernel: { layer: string; weight: string };
}

/** Initialiser seed of one layer: derived from the run seed and the layer name, so adding a head does not change the others. */
export function layerSeed(seed: number, name: string): number {
  return new Rng(`${seed}/${name}`).nextU32();
}

/** Apply a layer to one symbolic tensor. */
export function call(layer: tfl.layers.Layer, x: ST | ST[]): ST {
  return layer.apply(x) as ST;
}

function glorot(s: LayerSettings, name: string) {
  return tfl.initializers.glorotUniform({ seed: layerSeed(s.seed, name) });
}

/** BatchNormalization with the toolkit's momentum and Keras' epsilon (1e-3). */
export function bn(s: LayerSettings, name: string): tfl.layers.Layer {
  return tfl.layers.batchNormalization({ name, momentum: s.bnMomentum, epsilon: 1e-3 });
}

/** The 13 convolutions and 5 pools of VGG16, named as in keras-vggface (`conv1_1` … `pool5`). */
export function vgg16Trunk(x: ST, s: LayerSettings): Trunk {
  const blocks = [[64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]];
  const layers: string[] = [];
  let h = x;
  let last = "";
  blocks.forEach((widths, b) => {
    widths.forEach((filters, i) => {
      const name = `conv${b + 1}_${i + 1}`;
      h = call(
        tfl.layers.conv2d({
          name,
          filters,
          kernelSize: 3,
          padding: "same",
          activation: "relu",
          kernelInitializer: glorot(s, name),
        }),
        h,
      );
      layers.push(name);
      last = name;
    });
    const pool = `pool${b + 1}`;
    h = call(tfl.layers.maxPooling2d({ name: pool, poolSize: 2, strides: 2 }), h);
    layers.push(pool);
  });
  return { output: h, layers, lastKernel: { layer: last, weight: "kernel" } };
}

function conv(
  s: LayerSettings,
  name: string,
  filters: number,
  kernelSize: number,
  o: { strides?: number; padding: "same" | "valid"; l2?: number },
): tfl.layers.Layer {
  return tfl.layers.conv2d({
    name,
    filters,
    kernelSize,
    strides: o.strides ?? 1,
    padding: o.padding,
    useBias: false,
    kernelInitializer: glorot(s, name),
    kernelRegularizer: o.l2 ? tfl.regularizers.l2({ l2: o.l2 }) : undefined,
  });
}

function sepconv(s: LayerSettings, name: string, filters: number): tfl.layers.Layer {
  return tfl.layers.separableConv2d({
    name,
    filters,
    kernelSize: 3,
    padding: "same",
    useBias: false,
    depthwiseInitializer: glorot(s, `${name}/depthwise`),
    pointwiseInitializer: glorot(s, `${name}/pointwise`),
  });
}

/**
 * One residual module: shortcut = Conv1x1/2 + BN; main = [ReLU] SepConv-BN-ReLU-SepConv-BN-MaxPool3x3/2;
 * output = main + shortcut. `preAct` adds the leading ReLU that the big layout has from its second
 * module on (the shortcut then reads the pre-activation input).
 */
function residualModule(
  x: ST,
  s: LayerSettings,
  block: string,
  filters: number,
  preAct: boolean,
  layers: string[],
): ST {
  const names = [
    `${block}_shortcut`,
    `${block}_shortcut_bn`,
    ...(preAct ? [`${block}_sepconv1_act_in`] : []),
    `${block}_sepconv1`,
    `${block}_sepconv1_bn`,
    `${block}_sepconv1_act`,
    `${block}_sepconv2`,
    `${block}_sepconv2_bn`,
    `${block}_pool`,
    `${block}_add`,
  ];
  layers.push(...names);
  let r = call(conv(s, `${block}_shortcut`, filters, 1, { strides: 2, padding: "same" }), x);
  r = call(bn(s, `${block}_shortcut_bn`), r);
  let h = preAct ? call(tfl.layers.reLU({ name: `${block}_sepconv1_act_in` }), x) : x;
  h = call(sepconv(s, `${block}_sepconv1`, filters), h);
  h = call(bn(s, `${block}_sepconv1_bn`), h);
  h = call(tfl.layers.reLU({ name: `${block}_sepconv1_act` }), h);
  h = call(sepconv(s, `${block}_sepconv2`, filters), h);
  h = call(bn(s, `${block}_sepconv2_bn`), h);
  h = call(tfl.layers.maxPooling2d({ name: `${block}_pool`, poolSize: 3, strides: 2, padding: "same" }), h);
  return call(tfl.layers.add({ name: `${block}_add` }), [h, r]);
}

/**
 * mini-Xception trunk (docs/original.md §4.4): two valid 3×3 convolutions of 8 filters (no bias, L2 0.01, BN, ReLU),
 * then four residual modules of 16, 32, 64, 128 filters. 64×64 input → 4×4×128.
 */
export function miniXceptionTrunk(x: ST, s: LayerSettings): Trunk {
  const layers: string[] = [];
  let h = x;
  for (const i of [1, 2]) {
    h = call(conv(s, `stem_conv${i}`, 8, 3, { padding: "valid", l2: 0.01 }), h);
    h = call(bn(s, `stem_conv${i}_bn`), h);
    h = call(tfl.layers.reLU({ name: `stem_conv${i}_act` }), h);
    layers.push(`stem_conv${i}`, `stem_conv${i}_bn`, `stem_conv${i}_act`);
  }
  [16, 32, 64, 128].forEach((f, i) => {
    h = residualModule(h, s, `block${i + 1}`, f, false, layers);
  });
  return { output: h, layers, lastKernel: { layer: "block4_sepconv2", weight: "pointwise_kernel" } };
}

/**
 * The Xception layout of oarriaga's FER2013 model as shipped by `@vladmandic/human` (`emotion.json`):
 * Conv 32 3×3 stride 2 valid and Conv 64 3×3 valid (each BN + ReLU), then residual modules of 128 and
 * 256 separable-conv filters (the second with a leading ReLU). 64×64 input → 8×8×256.
 */
export function bigXceptionTrunk(x: ST, s: LayerSettings): Trunk {
  const layers: string[] = [];
  let h = x;
  ([[1, 32, 2], [2, 64, 1]] as const).forEach(([i, filters, strides]) => {
    h = call(conv(s, `block1_conv${i}`, filters, 3, { strides, padding: "valid" }), h);
    h = call(bn(s, `block1_conv${i}_bn`), h);
    h = call(tfl.layers.reLU({ name: `block1_conv${i}_act` }), h);
    layers.push(`block1_conv${i}`, `block1_conv${i}_bn`, `block1_conv${i}_act`);
  });
  h = residualModule(h, s, "block2", 128, false, layers);
  h = residualModule(h, s, "block3", 256, true, layers);
  return { output: h, layers, lastKernel: { layer: "block3_sepconv2", weight: "pointwise_kernel" } };
}
