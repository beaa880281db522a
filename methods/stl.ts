/**
 * STL: single-task learning, one network per task trained on one dataset (docs/original.md §6.1).
 * `--task_type` takes the original codes (0 emotion, 1 age, 5 pose, 10 gender); `--task` the names.
 * @module
 */
import type { MethodPlugin } from "../core/plugin.ts";

const stl: MethodPlugin = {
  name: "stl",
  aliases: ["STL", "single-task"],
  summary: "Single-task learning: one dataset, one head, plain cross-entropy.",
  reference: "docs/original.md §6.1 (STL_general_train.py)",
  dataMode: "single",
  labels: { name: "none", needsTeacher: false },
  loss: { terms: [] },
  options: [],
  presets: { default: {} },
  role: "reference",
  selectedBy: [{ script: "stl-general" }],
  // One head: nothing to mix between tasks (cross-stitch) or to gate (MMoE).
  architectures: ["hps"],
};

export default stl;
