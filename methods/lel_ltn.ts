/**
 * LEL-LTN (Augenstein, Ruder & Sogaard, NAACL 2018): joint training with label-embedding logits (every
 * task's labels embedded in one space) and a label transfer network that maps the other tasks' predicted
 * label distributions to this task's labels; its output is the pseudo label of rows that miss the task.
 * The teacher is refreshed once per outer epoch, each of `--passes_per_refresh` passes (docs/original.md B34: default 4).
 * @module
 */
import type { MethodPlugin } from "../core/plugin.ts";
import { num } from "../core/options.ts";
import { BASELINE_OPTIONS, lelLtnStrategy, passesPerRefresh } from "../core/baseline_strategies.ts";
import { labelEmbeddingExtension } from "../core/label_embedding.ts";

const lelLtn: MethodPlugin = {
  name: "lel-ltn",
  aliases: ["LEL-LTN", "ltn"],
  summary: "Joint; label-embedding logits + label-transfer-network pseudo labels.",
  reference: "Augenstein, Ruder & Sogaard, NAACL 2018 (arXiv 1802.09913); docs/original.md §6.3",
  dataMode: "joint",
  labels: lelLtnStrategy,
  loss: { terms: [] },
  options: BASELINE_OPTIONS,
  presets: { default: { is_pesudo: true, pseudo_target: "scaled" } },
  passesPerRefresh,
  extendModel: (o) =>
    labelEmbeddingExtension({
      dim: typeof o.label_embedding_dim === "number" ? num(o, "label_embedding_dim") : 64,
    }),
};

export default lelLtn;
