/**
 * SLRM (a redesign; in the original it was the same zero-gradient code as SFSMR, docs/original.md B17): SFSMR's
 * terms (l2,1 and trace norm of the shared layer, graph Laplacian) plus the nuclear norm of the stacked
 * task-branch kernels that read the shared features (low rank: a feature subspace shared between the tasks,
 * `--is_nuclear_norm`).
 * @module
 */
import { bool } from "../core/options.ts";
import type { MethodPlugin } from "../core/plugin.ts";
import {
  L21_OPTIONS,
  l21NormTerm,
  laplacianTerm,
  MANIFOLD_OPTIONS,
  NUCLEAR_OPTIONS,
  nuclearNormTerm,
  requireManifold,
  TRACE_OPTIONS,
  traceNormTerm,
} from "../core/regularizers.ts";

const slrm: MethodPlugin = {
  name: "slrm",
  aliases: ["SLRM"],
  summary: "Joint; SFSMR's regularisers + nuclear norm of the stacked task-branch kernels.",
  reference: "redesign of CONFUSION_EP_multitask_manifold.py, docs/original.md §6.5; docs/baselines.md",
  dataMode: "joint",
  labels: { name: "none (masked)", needsTeacher: false },
  // The Laplacian term's graph is built on the manifold outputs (the spec's manifold features).
  manifold: true,
  loss: { terms: [l21NormTerm(), traceNormTerm(), nuclearNormTerm(), laplacianTerm()] },
  options: [...L21_OPTIONS, ...TRACE_OPTIONS, ...NUCLEAR_OPTIONS, ...MANIFOLD_OPTIONS],
  presets: { default: { is_lnorm: true, is_trace_norm: true, is_nuclear_norm: true } },
  validate: (o) => requireManifold(o, "slrm"),
  // The nuclear norm needs task kernels that read one shared feature vector; MMoE gives each its own mixture.
  architectures: ["hps", "cross-stitch"],
  // CONFUSION_EP_multitask_manifold.py with --is_nuclear_norm.
  selectedBy: [{ script: "confusion-manifold", rank: 10, when: (o) => bool(o, "is_nuclear_norm") }],
};

export default slrm;
