/**
 * BatchNorm moving-statistics recalibration. With Keras' momentum 0.99 the moving mean/variance lag
 * far behind the weights after a short run (the team's engine survey: chance-level evaluation after one
 * MNIST epoch until recalibrated), so the trainer can re-estimate them from training images before
 * evaluating.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import type { MultiTaskModel } from "../core/types.ts";
import type { LayersModel, Tensor4D } from "../core/tensors.ts";

/** Options of {@link recalibrateBatchNorm}. */
export interface RecalibrateOptions {
  /** Rows per forward pass (default 64); the statistics are pooled exactly over the passes. */
  batchSize?: number;
}

interface Mutable {
  momentum: number;
  rate: number;
}

function statVariables(layer: tfl.layers.Layer): [tfl.LayerVariable, tfl.LayerVariable] {
  const find = (n: string) => layer.weights.find((w) => w.originalName.split("/").pop() === n);
  const mean = find("moving_mean");
  const variance = find("moving_variance");
  if (!mean || !variance) throw new Error(`recalibrateBatchNorm: ${layer.name} has no moving statistics`);
  return [mean, variance];
}

/**
 * Re-estimate every BatchNorm layer's moving statistics from `x` (about 512 training images), as one
 * training-mode forward pass with momentum 0 would, in chunks of `batchSize` rows: after each chunk the
 * layer's chunk mean and variance are read back, and at the end the moving statistics are set to the
 * pooled mean and variance over all rows (within-chunk variance + variance of the chunk means).
 * Dropout is off during the passes so the statistics match inference. Trainable weights and the
 * layers' momentum/rate settings are unchanged afterwards; every pass runs in `tf.tidy`.
 */
export function recalibrateBatchNorm(
  model: MultiTaskModel | LayersModel,
  x: Tensor4D,
  opts: RecalibrateOptions = {},
): void {
  const m = "model" in model ? model.model : model;
  const layers = m.layers.filter((l) => l.getClassName() === "BatchNormalization");
  if (layers.length === 0) return;
  const bns = layers as unknown as Mutable[];
  const stats = layers.map(statVariables);
  const drops = m.layers.filter((l) => l.getClassName() === "Dropout") as unknown as Mutable[];
  const n = x.shape[0];
  if (n < 2) throw new Error(`recalibrateBatchNorm: need at least 2 images, got ${n}`);
  const bs = Math.max(2, Math.min(opts.batchSize ?? 64, n));
  const momenta = bns.map((l) => l.momentum);
  const rates = drops.map((l) => l.rate);
  // Per layer: Σ n_k·mean_k and Σ n_k·(var_k + mean_k²) over the chunks, in float64.
  const s1 = stats.map(([mean]) => new Float64Array(mean.shape[0] ?? 0));
  const s2 = stats.map(([mean]) => new Float64Array(mean.shape[0] ?? 0));
  try {
    drops.forEach((l) => l.rate = 0);
    bns.forEach((l) => l.momentum = 0);
    let start = 0;
    while (start < n) {
      let size = Math.min(bs, n - start);
      if (n - start - size === 1) size += 1; // never leave a 1-row chunk (its variance is 0)
      const from = start;
      tf.tidy(() => {
        m.apply(tf.slice(x, [from, 0, 0, 0], [size, -1, -1, -1]), { training: true });
      });
      stats.forEach(([mean, variance], i) => {
        const mu = mean.read().dataSync();
        const v = variance.read().dataSync();
        for (let c = 0; c < mu.length; c++) {
          s1[i][c] += size * mu[c];
          s2[i][c] += size * (v[c] + mu[c] * mu[c]);
        }
      });
      start += size;
    }
    stats.forEach(([mean, variance], i) => {
      const mu = s1[i].map((v) => v / n);
      const v = s2[i].map((q, c) => Math.max(0, q / n - mu[c] * mu[c]));
      tf.tidy(() => {
        mean.write(tf.tensor1d(Float32Array.from(mu)));
        variance.write(tf.tensor1d(Float32Array.from(v)));
      });
    });
  } finally {
    bns.forEach((l, i) => l.momentum = momenta[i]);
    drops.forEach((l, i) => l.rate = rates[i]);
  }
}

/**
 * Re-parameterise every BatchNorm so that its moving statistics equal the statistics of `x` while the
 * inference function stays exactly the same: with old (γ, β, μ, σ²) and data statistics (m, v),
 * γ' = γ·√(v+ε)/√(σ²+ε), β' = β + γ·(m − μ)/√(σ²+ε), μ' = m, σ'² = v.
 * Training-mode passes (batch statistics) then behave like inference from the first step: needed after
 * importing weights whose BatchNorm was folded away (the folded layers sit at identity). Runs in `tf.tidy`.
 */
export function matchBatchNormToData(model: MultiTaskModel | tfl.LayersModel, x: tf.Tensor4D): void {
  const m = "model" in model ? model.model : model;
  const bns = m.layers.filter((l) => l.getClassName() === "BatchNormalization");
  if (bns.length === 0) return;
  if (x.shape[0] < 2) throw new Error(`matchBatchNormToData: need at least 2 images, got ${x.shape[0]}`);
  tf.tidy(() => {
    // BN inputs do not change when the BNs are re-parameterised this way, so one pass serves all layers.
    const probe = tfl.model({ inputs: m.inputs, outputs: bns.map((l) => l.input as tfl.SymbolicTensor) });
    const inputs = probe.predict(x) as tf.Tensor | tf.Tensor[];
    const list = Array.isArray(inputs) ? inputs : [inputs];
    bns.forEach((layer, i) => {
      const z = list[i];
      const axes = z.shape.slice(0, -1).map((_, a) => a);
      const { mean, variance } = tf.moments(z, axes);
      const eps = (layer.getConfig().epsilon as number | undefined) ?? 1e-3;
      const w = layer.getWeights();
      if (w.length !== 4) throw new Error(`matchBatchNormToData: ${layer.name} needs center and scale`);
      const [gamma, beta, mu, sigma2] = w;
      const s = tf.sqrt(tf.add(sigma2, eps));
      const sNew = tf.sqrt(tf.add(variance, eps));
      layer.setWeights([
        tf.div(tf.mul(gamma, sNew), s),
        tf.add(beta, tf.div(tf.mul(gamma, tf.sub(mean, mu)), s)),
        mean,
        variance,
      ]);
    });
  });
}
