/**
 * SA-MTL, the proposed method (docs/original.md §6.8): alternating training; the absent task's targets are pseudo
 * labels weighted by confidence x local density x distribution distance, kept by hard selection
 * (rejected rows get the distilled vector, or nothing) or interpolated with distilled labels.
 * Presets reproduce the seed README's two command lines and the as-coded profile.
 * @module
 */
import type { MethodPlugin } from "../core/plugin.ts";
import { SA_MTL_OPTIONS, weightedPseudoStrategy } from "../core/labels/mod.ts";

const factors = {
  is_pesudo: true,
  is_pesudo_confidence: true,
  is_pesudo_density: true,
  is_pesudo_distribution: true,
};

// The seed README's hy-zpg line (soft): interpolation on, cluster_k 4.
const SOFT = {
  ...factors,
  is_interpolation: true,
  selection_threshold: 0,
  interpolation_weights: 0,
  density_t: 0.6,
  cluster_k: 4,
  distill_t: 2,
};

const saMtl: MethodPlugin = {
  name: "sa-mtl",
  aliases: ["SA-MTL", "MTL-SA"],
  summary: "Alternating datasets; weighted pseudo labels (confidence x density x distribution).",
  reference: "SA-MTL (bcmi/SA-MTL); docs/original.md §6.8",
  dataMode: "alternating",
  labels: weightedPseudoStrategy,
  loss: { terms: [] },
  options: SA_MTL_OPTIONS,
  presets: {
    default: SOFT,
    soft: SOFT,
    // The bcmi SA-MTL README line (hard): selection at the 0.8 quantile, cluster_k 3.
    hard: {
      ...factors,
      is_interpolation: false,
      selection_threshold: 0.8,
      density_t: 0.6,
      cluster_k: 3,
      distill_t: 2,
    },
    // As coded in ALTERNATIVE_EP.py: global softmax, quantile selection, rejected rows zeroed.
    compat: {
      ...factors,
      compat: true,
      is_interpolation: false,
      selection_threshold: 0.8,
      selection_mode: "quantile",
      reject: "zero",
      cluster_k: 3,
      distill_t: 2,
    },
  },
};

export default saMtl;
