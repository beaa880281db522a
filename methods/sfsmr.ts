/**
 * SFSMR (a redesign; the original computed a zero-gradient term, docs/original.md B17): All-in-one batches plus the
 * l2,1 norm of the shared feature layer (row sparsity: shared feature selection) and the manifold trace
 * term tr(P^T L P)/B over a heat-kernel graph of the batch's manifold features.
 * @module
 */
import type { MethodPlugin } from "../core/plugin.ts";
import {
  L21_OPTIONS,
  l21NormTerm,
  MANIFOLD_OPTION,
  requireManifold,
  TRACE_OPTIONS,
  traceTerm,
} from "../core/regularizers.ts";

const sfsmr: MethodPlugin = {
  name: "sfsmr",
  aliases: ["SFSMR"],
  summary: "Joint; masked CE + l2,1 (shared layer) + manifold trace regularisers.",
  reference: "redesign of CONFUSION_EP_multitask_manifold.py, docs/original.md §6.5; docs/baselines.md",
  dataMode: "joint",
  labels: { name: "none (masked)", needsTeacher: false },
  loss: { terms: [l21NormTerm(), traceTerm()] },
  options: [...L21_OPTIONS, ...TRACE_OPTIONS, MANIFOLD_OPTION],
  presets: { default: { is_lnorm: true, is_trace_norm: true } },
  validate: (o) => requireManifold(o, "sfsmr"),
  // CONFUSION_EP_multitask_manifold.py without --is_nuclear_norm.
  selectedBy: [{ script: "confusion-manifold" }],
};

export default sfsmr;
