/**
 * All-in-one: joint training where every batch mixes the datasets in proportion and missing labels
 * are masked out of the loss (docs/original.md §6.2; `CONFUSION_EP_multitask.py --is_naive=True`).
 * @module
 */
import { bool } from "../core/options.ts";
import type { MethodPlugin } from "../core/plugin.ts";

const allInOne: MethodPlugin = {
  name: "all-in-one",
  aliases: ["All-in-one", "naive-joint"],
  summary: "Joint training on mixed batches; missing labels masked.",
  reference: "Ranjan et al., All-in-one CNN, FG 2017 (arXiv 1611.00851); docs/original.md §6.2",
  dataMode: "joint",
  labels: { name: "none (masked)", needsTeacher: false },
  loss: { terms: [] },
  options: [],
  // CONFUSION_EP_multitask.py: --is_naive wins over every other flag; with no method flag it is the fallback.
  selectedBy: [{ script: "confusion", rank: 30, when: (o) => bool(o, "is_naive") }, { script: "confusion" }],
};

export default allInOne;
