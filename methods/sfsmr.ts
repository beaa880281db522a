/**
 * SFSMR (a redesign; the original computed a zero-gradient term, docs/original.md B17): All-in-one batches plus the
 * l2,1 norm of the shared feature layer (row sparsity: shared feature selection) and the manifold trace
 * term tr(P^T L P)/B over a heat-kernel graph of the batch's manifold features.
 * @module
 */
import type { MethodPlugin } from "../core/plugin.ts";
import { BASELINE_OPTIONS } from "../core/baseline_strategies.ts";
import { l21NormTerm, traceTerm } from "../core/regularizers.ts";

const sfsmr: MethodPlugin = {
  name: "sfsmr",
  aliases: ["SFSMR"],
  summary: "Joint; masked CE + l2,1 (shared layer) + manifold trace regularisers.",
  reference: "redesign of CONFUSION_EP_multitask_manifold.py, docs/original.md §6.5; docs/baselines.md",
  dataMode: "joint",
  labels: { name: "none (masked)", needsTeacher: false },
  loss: { terms: [l21NormTerm(), traceTerm()] },
  options: BASELINE_OPTIONS,
  presets: { default: { is_naive: true, is_lnorm: true, is_trace_norm: true } },
};

export default sfsmr;
