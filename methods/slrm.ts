/**
 * SLRM (a redesign; in the original it was the same zero-gradient code as SFSMR, docs/original.md B17): All-in-one
 * batches plus the l2,1 norm, the nuclear norm of the stacked task-head weights (low rank: shared
 * structure between tasks) and the manifold trace term.
 * @module
 */
import { bool } from "../core/options.ts";
import type { MethodPlugin } from "../core/plugin.ts";
import {
  L21_OPTIONS,
  l21NormTerm,
  MANIFOLD_OPTION,
  NUCLEAR_OPTIONS,
  nuclearNormTerm,
  requireManifold,
  TRACE_OPTIONS,
  traceTerm,
} from "../core/regularizers.ts";

const slrm: MethodPlugin = {
  name: "slrm",
  aliases: ["SLRM"],
  summary: "Joint; masked CE + l2,1 + nuclear norm (task heads) + manifold trace regularisers.",
  reference: "redesign of CONFUSION_EP_multitask_manifold.py, docs/original.md §6.5; docs/baselines.md",
  dataMode: "joint",
  labels: { name: "none (masked)", needsTeacher: false },
  loss: { terms: [l21NormTerm(), nuclearNormTerm(), traceTerm()] },
  options: [...L21_OPTIONS, ...TRACE_OPTIONS, ...NUCLEAR_OPTIONS, MANIFOLD_OPTION],
  presets: { default: { is_lnorm: true, is_trace_norm: true, is_nuclear_norm: true } },
  validate: (o) => requireManifold(o, "slrm"),
  // CONFUSION_EP_multitask_manifold.py with --is_nuclear_norm.
  selectedBy: [{ script: "confusion-manifold", rank: 10, when: (o) => bool(o, "is_nuclear_norm") }],
};

export default slrm;
