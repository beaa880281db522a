/**
 * SFSMR (a redesign; the original computed a zero-gradient term, docs/original.md B17): All-in-one batches plus,
 * on the shared feature layer, the l2,1 norm (row sparsity: shared feature selection, `--is_lnorm`) and the
 * trace norm (low rank, `--is_trace_norm`), and the graph-Laplacian term tr(P^T L P)/B over a heat-kernel graph
 * of the batch's manifold features (implied, `--is_manifold`).
 * @module
 */
import type { MethodPlugin } from "../core/plugin.ts";
import {
  L21_OPTIONS,
  l21NormTerm,
  laplacianTerm,
  MANIFOLD_OPTIONS,
  requireManifold,
  TRACE_OPTIONS,
  traceNormTerm,
} from "../core/regularizers.ts";

const sfsmr: MethodPlugin = {
  name: "sfsmr",
  aliases: ["SFSMR"],
  summary: "Joint; masked CE + l2,1 and trace norm (shared layer) + graph-Laplacian regularisers.",
  reference: "redesign of CONFUSION_EP_multitask_manifold.py, docs/original.md §6.5; docs/baselines.md",
  dataMode: "joint",
  labels: { name: "none (masked)", needsTeacher: false },
  // The Laplacian term's graph is built on the manifold outputs (the spec's manifold features).
  manifold: true,
  loss: { terms: [l21NormTerm(), traceNormTerm(), laplacianTerm()] },
  options: [...L21_OPTIONS, ...TRACE_OPTIONS, ...MANIFOLD_OPTIONS],
  presets: { default: { is_lnorm: true, is_trace_norm: true } },
  validate: (o) => requireManifold(o, "sfsmr"),
  // CONFUSION_EP_multitask_manifold.py without --is_nuclear_norm.
  selectedBy: [{ script: "confusion-manifold" }],
};

export default sfsmr;
