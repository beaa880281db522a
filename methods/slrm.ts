/**
 * SLRM (a redesign; in the original it was the same zero-gradient code as SFSMR, docs/original.md B17): All-in-one
 * batches plus the l2,1 norm, the nuclear norm of the stacked task-head weights (low rank: shared
 * structure between tasks) and the manifold trace term.
 * @module
 */
import type { MethodPlugin } from "../core/plugin.ts";
import { BASELINE_OPTIONS } from "../core/baseline_strategies.ts";
import { l21NormTerm, nuclearNormTerm, traceTerm } from "../core/regularizers.ts";

const slrm: MethodPlugin = {
  name: "slrm",
  aliases: ["SLRM"],
  summary: "Joint; masked CE + l2,1 + nuclear norm (task heads) + manifold trace regularisers.",
  reference: "redesign of CONFUSION_EP_multitask_manifold.py, docs/original.md §6.5; docs/baselines.md",
  dataMode: "joint",
  labels: { name: "none (masked)", needsTeacher: false },
  loss: { terms: [l21NormTerm(), nuclearNormTerm(), traceTerm()] },
  options: BASELINE_OPTIONS,
  presets: { default: { is_naive: true, is_lnorm: true, is_trace_norm: true, is_nuclear_norm: true } },
};

export default slrm;
