/**
 * DCN-AP (Zhang et al., the ExpW paper, arXiv 1609.06426, "attribute propagation"): joint training
 * whose pseudo labels are the teacher's probabilities refined by a Markov random field over a
 * k-nearest-neighbour graph of the task features (Potts pairwise terms weighted by feature similarity,
 * mean-field inference). `--is_MRF=False` leaves the plain pseudo labels (the original's behaviour).
 * @module
 */
import type { LabelStrategy, MethodPlugin, StrategyContext, TargetSet, TeacherView } from "../core/plugin.ts";
import { bool, optionReader, type OptionSpec } from "../core/options.ts";
import { argmaxRows } from "../core/metrics.ts";
import { PSEUDO_OPTIONS } from "../core/labels/mod.ts";
import {
  checkView,
  mean,
  PASSES_PER_REFRESH_OPTION,
  passesPerRefresh,
  pseudoTargetMode,
  pseudoTargets,
} from "../core/labels/pseudo_targets.ts";
import { mrfRefine } from "../core/mrf.ts";

/** The MRF's flags. */
const MRF_OPTIONS: OptionSpec[] = [
  {
    name: "is_MRF",
    type: "boolean",
    default: false,
    help: "DCN-AP: refine the teacher's pseudo labels by a Potts MRF on a kNN graph of the task features",
    group: "seed",
  },
  {
    name: "mrf_k",
    type: "int",
    default: 10,
    min: 1,
    max: 1000,
    help: "MRF: neighbours per row of the kNN graph",
  },
  {
    name: "mrf_weight",
    type: "float",
    default: 1.0,
    min: 0,
    max: 100,
    help: "MRF: pairwise Potts weight λ (0 = keep the teacher's probabilities)",
  },
  { name: "mrf_iters", type: "int", default: 10, min: 1, max: 1000, help: "MRF: mean-field sweeps" },
  {
    name: "mrf_labelled",
    type: "boolean",
    default: true,
    help:
      "MRF graph includes the task's labelled rows, clamped to their labels (False: only the unlabelled rows)",
  },
];

const OPTIONS = [...MRF_OPTIONS, ...PSEUDO_OPTIONS, PASSES_PER_REFRESH_OPTION];
const read = optionReader(OPTIONS);

/**
 * DCN-AP: the teacher's probabilities, refined by mean-field on a Potts MRF over the kNN graph of the
 * teacher's task features when `--is_MRF` is on, become p_max·onehot or onehot targets.
 */
export const dcnApStrategy: LabelStrategy = {
  name: "mrf-pseudo",
  needsTeacher: true,
  // The graph includes the task's labelled rows (clamped to their labels) unless --mrf_labelled=False.
  needsLabelled: (o) => read.bool(o, "is_MRF") && read.bool(o, "mrf_labelled"),
  // The graph also holds the rows of every other dataset that misses the task (free nodes).
  needsPeers: (o) => read.bool(o, "is_MRF"),
  async build(view: TeacherView, ctx: StrategyContext): Promise<TargetSet> {
    checkView(view, "dcn-ap");
    const o = ctx.options;
    const c = view.task.classes;
    const mode = pseudoTargetMode(o);
    if (view.features.length !== view.n * view.d) {
      throw new Error(
        `dcn-ap (${view.task.name}): ${view.features.length} feature values for ${view.n} rows x ${view.d}`,
      );
    }
    let dist = view.probs;
    const stats: Record<string, number> = {};
    if (read.bool(o, "is_MRF") && view.n > 1) {
      // One graph over the rows that miss the task in every dataset (these rows first, then the other
      // datasets' rows, free) and the task's labelled rows of every dataset that labels it, clamped to their
      // one-hot label, so labels propagate to their neighbours across the datasets (attribute propagation)
      // rather than the teacher being smoothed against itself.
      const lab = read.bool(o, "mrf_labelled")
        ? view.labelled
        : { n: 0, features: new Float32Array(0), labels: new Int32Array(0) };
      const peers = view.peers ?? { n: 0, features: new Float32Array(0), probs: new Float32Array(0) };
      if (peers.features.length !== peers.n * view.d || peers.probs.length !== peers.n * c) {
        throw new Error(`dcn-ap (${view.task.name}): peer rows do not match ${peers.n} x (${view.d}, ${c})`);
      }
      const known = Array.from(lab.labels).filter((y) => y >= 0).length;
      const total = view.n + peers.n + known;
      const probs = new Float32Array(total * c);
      const feats = new Float32Array(total * view.d);
      const clamped = new Uint8Array(total);
      probs.set(view.probs);
      feats.set(view.features);
      probs.set(peers.probs, view.n * c);
      feats.set(peers.features, view.n * view.d);
      let r = view.n + peers.n;
      for (let i = 0; i < lab.n; i++) {
        const y = lab.labels[i];
        if (y < 0) continue;
        probs[r * c + y] = 1;
        feats.set(lab.features.subarray(i * view.d, (i + 1) * view.d), r * view.d);
        clamped[r++] = 1;
      }
      const res = await mrfRefine(probs, feats, {
        classes: c,
        d: view.d,
        k: read.num(o, "mrf_k"),
        weight: read.num(o, "mrf_weight"),
        iters: read.num(o, "mrf_iters"),
        clamped,
      });
      dist = res.q.subarray(0, view.n * c);
      const before = argmaxRows(view.probs, c);
      stats.mrf_changed = mean(argmaxRows(dist, c).map((y, i) => (y !== before[i] ? 1 : 0)));
      stats.mrf_labelled_rows = known;
      stats.mrf_peer_rows = peers.n;
      stats.mrf_sweeps = res.deltas.length;
      stats.mrf_last_delta = res.deltas[res.deltas.length - 1] ?? 0;
      stats.mrf_mean_degree = res.graph.cols.length / Math.max(1, total);
      stats.mrf_sigma2 = res.graph.sigma2;
    }
    const out = pseudoTargets(dist, { classes: c, mode });
    out.stats = { ...stats, mean_pmax: mean(out.weights!) };
    return out;
  },
};

const dcnAp: MethodPlugin = {
  name: "dcn-ap",
  aliases: ["DCN-AP", "mrf"],
  summary: "Joint; pseudo labels refined by a kNN Potts MRF (mean field).",
  reference: "Zhang, Luo, Loy & Tang, ExpW (arXiv 1609.06426); docs/original.md §6.4",
  dataMode: "joint",
  labels: dcnApStrategy,
  loss: { terms: [] },
  options: OPTIONS,
  presets: { default: { is_MRF: true, pseudo_target: "scaled" } },
  passesPerRefresh,
  // CONFUSION_EP_multitask.py: --is_pesudo (or --is_interpolation) with --is_MRF.
  selectedBy: [{
    script: "confusion",
    rank: 20,
    when: (o) => (bool(o, "is_pesudo") || bool(o, "is_interpolation")) && bool(o, "is_MRF"),
  }],
};

export default dcnAp;
