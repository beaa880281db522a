/**
 * Small test models for the engine's tests and benchmarks, built with tfjs-layers: the
 * mini-Xception of docs/original.md §4.4 (two conv3×3 + global-average-pool heads, like the PyTorch
 * peer in shared/peer/torch_mini_xception.py) and a small VGG (vggFace-like trunk). Also a seeded
 * random batch and one custom training step (forward + backward + Adam).
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { Rng } from "../core/rng.ts";

/** Options of the test model builders. */
export interface TestModelOptions {
  /** Square input side. */
  size: number;
  /** Input channels (1 for mini-Xception, 3 for the VGG). */
  channels: number;
  /** Class count per head (default emotion 7, pose 5). */
  classes?: number[];
  /** Seed of every initialiser. */
  seed: number;
}

/** Test model kinds. */
export type TestModelName = "mini_xception" | "small_vgg";

function seeds(seed: number): () => number {
  const rng = new Rng(seed);
  return () => rng.seedInt();
}

/**
 * Mini-Xception (docs/original.md §4.4): stem 2× conv3×3(8) valid + BN + ReLU; modules with 16/32/64/128
 * filters (1×1 stride-2 conv + BN shortcut; separable conv3×3 + BN + ReLU + separable conv3×3 + BN +
 * max-pool 3×3/2 same; add); per head conv3×3 (with bias) + global average pool → logits.
 */
export function buildMiniXception(opts: TestModelOptions): tfl.LayersModel {
  const next = seeds(opts.seed);
  const init = () => tfl.initializers.glorotUniform({ seed: next() });
  const input = tfl.input({ shape: [opts.size, opts.size, opts.channels] });
  let x: tfl.SymbolicTensor = input;
  for (let i = 0; i < 2; i++) {
    x = tfl.layers.conv2d({ filters: 8, kernelSize: 3, useBias: false, kernelInitializer: init() })
      .apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.batchNormalization().apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.activation({ activation: "relu" }).apply(x) as tfl.SymbolicTensor;
  }
  for (const f of [16, 32, 64, 128]) {
    let short = tfl.layers.conv2d({
      filters: f,
      kernelSize: 1,
      strides: 2,
      padding: "same",
      useBias: false,
      kernelInitializer: init(),
    }).apply(x) as tfl.SymbolicTensor;
    short = tfl.layers.batchNormalization().apply(short) as tfl.SymbolicTensor;
    let y = x;
    for (let j = 0; j < 2; j++) {
      y = tfl.layers.separableConv2d({
        filters: f,
        kernelSize: 3,
        padding: "same",
        useBias: false,
        depthwiseInitializer: init(),
        pointwiseInitializer: init(),
      }).apply(y) as tfl.SymbolicTensor;
      y = tfl.layers.batchNormalization().apply(y) as tfl.SymbolicTensor;
      if (j === 0) y = tfl.layers.activation({ activation: "relu" }).apply(y) as tfl.SymbolicTensor;
    }
    y = tfl.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: "same" }).apply(y) as tfl.SymbolicTensor;
    x = tfl.layers.add().apply([y, short]) as tfl.SymbolicTensor;
  }
  const outputs = (opts.classes ?? [7, 5]).map((c) => {
    const h = tfl.layers.conv2d({ filters: c, kernelSize: 3, padding: "same", kernelInitializer: init() })
      .apply(x) as tfl.SymbolicTensor;
    return tfl.layers.globalAveragePooling2d({}).apply(h) as tfl.SymbolicTensor;
  });
  return tfl.model({ inputs: input, outputs });
}

/**
 * Small VGG (vggFace-like): [conv3×3 same + ReLU, BN] ×2 + max-pool 2 for 32/64/128 filters, flatten,
 * dense 256 ReLU, dropout 0.5, one dense logits head per task.
 */
export function buildSmallVgg(opts: TestModelOptions): tfl.LayersModel {
  const next = seeds(opts.seed);
  const init = () => tfl.initializers.glorotUniform({ seed: next() });
  const input = tfl.input({ shape: [opts.size, opts.size, opts.channels] });
  let x: tfl.SymbolicTensor = input;
  for (const f of [32, 64, 128]) {
    for (let i = 0; i < 2; i++) {
      x = tfl.layers.conv2d({
        filters: f,
        kernelSize: 3,
        padding: "same",
        activation: "relu",
        kernelInitializer: init(),
      }).apply(x) as tfl.SymbolicTensor;
      x = tfl.layers.batchNormalization().apply(x) as tfl.SymbolicTensor;
    }
    x = tfl.layers.maxPooling2d({ poolSize: 2 }).apply(x) as tfl.SymbolicTensor;
  }
  x = tfl.layers.flatten().apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.dense({ units: 256, activation: "relu", kernelInitializer: init() }).apply(
    x,
  ) as tfl.SymbolicTensor;
  x = tfl.layers.dropout({ rate: 0.5, seed: next() }).apply(x) as tfl.SymbolicTensor;
  const outputs = (opts.classes ?? [7, 5]).map((c) =>
    tfl.layers.dense({ units: c, kernelInitializer: init() }).apply(x) as tfl.SymbolicTensor
  );
  return tfl.model({ inputs: input, outputs });
}

/** Builds a test model by name. */
export function buildTestModel(name: TestModelName, opts: TestModelOptions): tfl.LayersModel {
  if (name === "mini_xception") return buildMiniXception(opts);
  if (name === "small_vgg") return buildSmallVgg(opts);
  throw new Error(`unknown test model '${name}' (expected mini_xception or small_vgg)`);
}

/** A seeded random batch: normal images and one integer label vector per head. */
export interface TestBatch {
  x: tf.Tensor4D;
  /** One-hot labels per head. */
  y: tf.Tensor2D[];
}

/** Makes a seeded random batch for a model with the given heads. */
export function randomBatch(
  shape: [number, number, number, number],
  opts: { classes?: number[]; seed: number },
): TestBatch {
  const rng = new Rng(opts.seed);
  const n = shape[0] * shape[1] * shape[2] * shape[3];
  const xs = new Float32Array(n);
  for (let i = 0; i < n; i++) xs[i] = rng.normal();
  const y = (opts.classes ?? [7, 5]).map((c) => {
    const idx = new Int32Array(shape[0]);
    for (let i = 0; i < idx.length; i++) idx[i] = rng.int(c);
    return tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(idx, "int32"), c), "float32") as tf.Tensor2D);
  });
  return { x: tf.tensor4d(xs, shape), y };
}

/** Sum over heads of mean softmax cross-entropy (the PyTorch peer's loss). */
export function multiHeadLoss(model: tfl.LayersModel, batch: TestBatch): tf.Scalar {
  const out = model.apply(batch.x, { training: true }) as tf.Tensor[];
  const heads = Array.isArray(out) ? out : [out];
  let loss = tf.scalar(0);
  heads.forEach((logits, i) => {
    loss = tf.add(loss, tf.losses.softmaxCrossEntropy(batch.y[i], logits as tf.Tensor2D));
  });
  return loss;
}

/** One training step (forward + backward + Adam update); resolves to the loss after a device sync. */
export async function trainStep(
  model: tfl.LayersModel,
  batch: TestBatch,
  optimizer: tf.Optimizer,
): Promise<number> {
  const loss = optimizer.minimize(
    () => multiHeadLoss(model, batch),
    true,
    model.trainableWeights.map((w) => w.read() as tf.Variable),
  );
  if (!loss) throw new Error("trainStep: optimizer returned no loss");
  const v = (await loss.data())[0];
  loss.dispose();
  return v;
}

/** Releases a batch's tensors. */
export function disposeBatch(batch: TestBatch): void {
  batch.x.dispose();
  batch.y.forEach((t) => t.dispose());
}
