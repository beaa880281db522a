/**
 * "Distilling tricks": DML-LWF with temperature T = 2 (docs/original.md §6.7); `--t2_scaling` multiplies the
 * distillation loss by T^2 (Hinton et al.; not in the original code).
 * @module
 */
import { bool } from "../core/options.ts";
import type { MethodPlugin } from "../core/plugin.ts";
import { DISTILL_OPTIONS, distilledStrategy } from "../core/labels/mod.ts";

const distilling: MethodPlugin = {
  name: "distilling",
  aliases: ["Distilling", "kd"],
  summary: "Alternating datasets; the other head keeps distilled labels at T = 2.",
  reference:
    "Hinton, Vinyals & Dean, Distilling the Knowledge in a Neural Network (arXiv 1503.02531); docs/original.md §6.7",
  dataMode: "alternating",
  labels: distilledStrategy,
  loss: { terms: [] },
  options: DISTILL_OPTIONS,
  presets: { default: { distill_t: 2 } },
  // ALTERNATIVE_*.py: --is_distilled at any other temperature.
  selectedBy: [{ script: "alternative", rank: 20, when: (o) => bool(o, "is_distilled") }],
};

export default distilling;
