/**
 * DCN-AP (Zhang et al., the ExpW paper, arXiv 1609.06426, "attribute propagation"): joint training
 * whose pseudo labels are the teacher's probabilities refined by a Markov random field over a
 * k-nearest-neighbour graph of the task features (Potts pairwise terms weighted by feature similarity,
 * mean-field inference). `--is_MRF=False` leaves the plain pseudo labels (the original's behaviour).
 * @module
 */
import type { MethodPlugin } from "../core/plugin.ts";
import { BASELINE_OPTIONS, dcnApStrategy, passesPerRefresh } from "../core/baseline_strategies.ts";

const dcnAp: MethodPlugin = {
  name: "dcn-ap",
  aliases: ["DCN-AP", "mrf"],
  summary: "Joint; pseudo labels refined by a kNN Potts MRF (mean field).",
  reference: "Zhang, Luo, Loy & Tang, ExpW (arXiv 1609.06426); docs/original.md §6.4",
  dataMode: "joint",
  labels: dcnApStrategy,
  loss: { terms: [] },
  options: BASELINE_OPTIONS,
  presets: { default: { is_pesudo: true, is_MRF: true, pseudo_target: "scaled" } },
  passesPerRefresh,
};

export default dcnAp;
