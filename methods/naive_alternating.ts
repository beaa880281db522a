/**
 * Naive alternating training: one dataset per outer epoch, the absent task's head masked (docs/original.md §6.9;
 * `ALTERNATIVE_EP.py --is_naive=True`, which crashed in the original, docs/original.md B7).
 * @module
 */
import type { MethodPlugin } from "../core/plugin.ts";

const naiveAlternating: MethodPlugin = {
  name: "naive-alternating",
  aliases: ["alternating-naive"],
  summary: "Alternating datasets per outer epoch; the other head gets no loss.",
  reference: "docs/original.md §6.9 (ALTERNATIVE_EP.py --is_naive=True; fixed B7)",
  dataMode: "alternating",
  labels: { name: "none (masked)", needsTeacher: false },
  loss: { terms: [] },
  options: [],
  // ALTERNATIVE_*.py with no label flag.
  selectedBy: [{ script: "alternative" }],
};

export default naiveAlternating;
