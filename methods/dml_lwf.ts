/**
 * DML-LWF: alternating training where the absent task's head learns from the teacher's distilled soft
 * labels softmax(z/T) at T = 1 (docs/original.md §6.6; row-wise softmax, fix B6; `--compat` restores the original's
 * global softmax).
 * @module
 */
import { bool } from "../core/options.ts";
import type { MethodPlugin } from "../core/plugin.ts";
import { checkDistillOptions, DISTILL_OPTIONS, distilledStrategy } from "../core/labels/mod.ts";

const dmlLwf: MethodPlugin = {
  name: "dml-lwf",
  aliases: ["DML-LWF", "lwf"],
  summary: "Alternating datasets; the other head keeps the teacher's distilled labels (T = 1).",
  reference: "Li & Hoiem, Learning without Forgetting, TPAMI 2018 (arXiv 1606.09282); docs/original.md §6.6",
  dataMode: "alternating",
  labels: distilledStrategy,
  loss: { terms: [] },
  options: DISTILL_OPTIONS,
  // At T = 1 the hinton and plain losses are the same.
  presets: { default: { distill_t: 1 } },
  validate: checkDistillOptions,
  // ALTERNATIVE_*.py: --is_distilled at --distill_t=1 (T = 1 is plain LwF).
  selectedBy: [{
    script: "alternative",
    rank: 30,
    when: (o) => bool(o, "is_distilled") && o.distill_t === 1,
  }],
};

export default dmlLwf;
