/**
 * "Distilling tricks": DML-LWF with temperature T = 2 (docs/original.md §6.7), trained with Hinton et al.'s
 * soft-target loss by default (`--distill_loss=hinton`: the student softened at T on the distilled rows, their
 * loss scaled by T²); the original ran the student at T = 1 unscaled (`--distill_loss=plain`, preset `compat`).
 * @module
 */
import { bool } from "../core/options.ts";
import type { MethodPlugin } from "../core/plugin.ts";
import { checkDistillOptions, DISTILL_OPTIONS, distilledStrategy } from "../core/labels/mod.ts";

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
  presets: {
    default: { distill_t: 2, distill_loss: "hinton" },
    // As coded in ALTERNATIVE_EP.py: one global softmax (B6), the student at T = 1, no T² scaling.
    compat: { distill_t: 2, distill_loss: "plain", compat: true },
  },
  validate: checkDistillOptions,
  // ALTERNATIVE_*.py: --is_distilled at any other temperature.
  selectedBy: [{ script: "alternative", rank: 20, when: (o) => bool(o, "is_distilled") }],
};

export default distilling;
