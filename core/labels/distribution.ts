/**
 * Distribution factor (docs/original.md §6.8.6): how close each pseudo-labelled row's feature cluster lies to the
 * labelled set's feature distribution. Class-agnostic, as in the original.
 *
 * EMD (default, from the code): fit a `cluster_k` mixture to the labelled features (signature Q =
 * means and weights) and one to the pseudo features; hard-assign each pseudo row to a component g(i);
 * EMD_j = closed-form EMD between ({mu^p_j}, {pi^p_j}) and Q; delta_i = min_j EMD_j / EMD_g(i).
 *
 * MMD (extension, `distribution_metric=mmd`): MMD_j = RBF-kernel MMD between the members of pseudo
 * component j and the labelled features (seeded subsamples of at most `mmdSamples` rows each, one
 * median-heuristic bandwidth from the pooled subsamples); delta as for EMD over the non-empty components.
 *
 * The minimum runs over components that hold at least one row. A component at distance 0 is the best
 * possible: its rows get delta = 1.
 * @module
 */
import type { Rng } from "../rng.ts";
import { emdOneToMany } from "./emd.ts";
import { fitGmm, type GaussianMixture, gmmPredict } from "./gmm.ts";
import { medianBandwidth, mmdRbf } from "./mmd.ts";

/** Distance between a pseudo component and the labelled set. */
export type DistributionMetric = "emd" | "mmd";

/** Options of {@link distributionFactor}. */
export interface DistributionOptions {
  /** Feature width. */
  d: number;
  /** Components per mixture (`cluster_k`). */
  k: number;
  /** Seeded generator (streams derived per fit). */
  rng: Rng;
  /** Default `emd`. */
  metric?: DistributionMetric;
  /** Rows per mixture fit (see {@link fitGmm}). Default 2048. */
  maxFit?: number;
  /** Rows per set in each MMD estimate. Default 512. */
  mmdSamples?: number;
  /** Initialisations per mixture fit, best likelihood kept (scikit-learn's `n_init`). Default 1. */
  nInit?: number;
  /**
   * Independent fits whose factors are averaged row by row (each from its own generator stream). A row's
   * factor then depends less on one initialisation's luck. Default 1 (a single fit).
   */
  restarts?: number;
}

/** Result of {@link distributionFactor}. */
export interface DistributionResult {
  /** n factors delta_i in [0, 1] (in (0, 1] for EMD with positive distances). */
  delta: Float32Array;
  /** Pseudo component of each row. */
  assignment: Int32Array;
  /** Distance of each pseudo component to the labelled set (Infinity for an empty MMD component). */
  distances: Float64Array;
  /** The pseudo-set mixture. */
  pseudo: GaussianMixture;
  /** The labelled-set mixture (EMD only). */
  labelled?: GaussianMixture;
}

function sampleRows(x: Float32Array, rows: number[], d: number, max: number, rng: Rng): Float64Array {
  let pick = rows;
  if (rows.length > max) {
    const perm = rng.permutation(rows.length).subarray(0, max).sort();
    pick = Array.from(perm, (p) => rows[p]);
  }
  const out = new Float64Array(pick.length * d);
  pick.forEach((r, i) => out.set(x.subarray(r * d, r * d + d), i * d));
  return out;
}

/**
 * The distribution factor of each pseudo row (module doc). With `restarts` > 1 the factor is the row-wise
 * mean over that many independent fits (the first is the single fit, so `restarts` = 1 changes nothing);
 * the other fields describe the first fit.
 */
export function distributionFactor(
  pseudo: Float32Array,
  labelled: Float32Array,
  options: DistributionOptions,
): DistributionResult {
  const restarts = options.restarts ?? 1;
  if (!(Number.isInteger(restarts) && restarts >= 1)) {
    throw new RangeError(`distributionFactor: restarts must be >= 1, got ${restarts}`);
  }
  const first = distributionOnce(pseudo, labelled, options, options.rng);
  if (restarts === 1) return first;
  const sum = Float64Array.from(first.delta);
  for (let r = 1; r < restarts; r++) {
    const next = distributionOnce(pseudo, labelled, options, options.rng.derive(`restart:${r}`));
    for (let i = 0; i < sum.length; i++) sum[i] += next.delta[i];
  }
  return { ...first, delta: Float32Array.from(sum, (v) => v / restarts) };
}

function distributionOnce(
  pseudo: Float32Array,
  labelled: Float32Array,
  options: DistributionOptions,
  rng: Rng,
): DistributionResult {
  const { d, k } = options;
  const nInit = options.nInit ?? 1;
  const metric = options.metric ?? "emd";
  if (metric !== "emd" && metric !== "mmd") {
    throw new RangeError(`--distribution_metric: expected emd or mmd, got ${metric}`);
  }
  const n = pseudo.length / d;
  const nl = labelled.length / d;
  if (nl < 1) {
    throw new RangeError("distributionFactor: the labelled set has no rows (the factor needs its features)");
  }
  if (n < 1) throw new RangeError("distributionFactor: the pseudo set has no rows");
  const maxFit = options.maxFit ?? 2048;
  const pg = fitGmm(pseudo, d, { k, rng: rng.derive("gmm:pseudo"), maxFit, nInit });
  const assignment = gmmPredict(pg, pseudo);
  const distances = new Float64Array(pg.k);
  let lg: GaussianMixture | undefined;
  if (metric === "emd") {
    lg = fitGmm(labelled, d, { k, rng: rng.derive("gmm:labelled"), maxFit, nInit });
    for (let j = 0; j < pg.k; j++) {
      distances[j] = emdOneToMany(pg.means.subarray(j * d, j * d + d), lg.means, {
        d,
        sourceMass: pg.weights[j],
        targetMass: lg.weights,
      }).emd;
    }
  } else {
    const m = options.mmdSamples ?? 512;
    const mrng = rng.derive("mmd");
    const all = Array.from({ length: nl }, (_, i) => i);
    const ly = sampleRows(labelled, all, d, m, mrng);
    const members: number[][] = Array.from({ length: pg.k }, () => []);
    assignment.forEach((g, i) => members[g].push(i));
    const px = sampleRows(pseudo, Array.from({ length: n }, (_, i) => i), d, m, mrng);
    const pooled = new Float64Array(px.length + ly.length);
    pooled.set(px);
    pooled.set(ly, px.length);
    const bandwidth = medianBandwidth(pooled, d);
    for (let j = 0; j < pg.k; j++) {
      distances[j] = members[j].length === 0
        ? Infinity
        : mmdRbf(sampleRows(pseudo, members[j], d, m, mrng), ly, { d, bandwidth });
    }
  }
  // the minimum runs over components that hold rows, so an empty component cannot set the scale
  const used = new Uint8Array(pg.k);
  for (const g of assignment) used[g] = 1;
  let best = Infinity;
  distances.forEach((v, j) => {
    if (used[j]) best = Math.min(best, v);
  });
  const perComponent = Array.from(distances, (v) => (v > 0 ? best / v : 1));
  const delta = new Float32Array(n);
  for (let i = 0; i < n; i++) delta[i] = perComponent[assignment[i]];
  return { delta, assignment, distances, pseudo: pg, labelled: lg };
}
