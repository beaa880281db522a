/**
 * Earth Mover's Distance from one weighted point to a weighted point set (docs/original.md §6.8.6 step 3, B16).
 * @module
 */

/** Result of {@link emdOneToMany}. */
export interface EmdResult {
  /** sum f_m * dist_m / sum f_m (0 when no mass moves). */
  emd: number;
  /** Flow to each target. */
  flows: Float64Array;
  /** Ground distance to each target. */
  distances: Float64Array;
}

/** Options of {@link emdOneToMany}. */
export interface EmdOptions {
  /** Feature width. */
  d: number;
  /** Mass of the source point. */
  sourceMass: number;
  /** Mass of each target point (length = number of targets). */
  targetMass: ArrayLike<number>;
}

/**
 * Closed-form EMD between the signature ({source}, {sourceMass}) and (targets, targetMass) with
 * Euclidean ground distance. The transport LP (flows >= 0, flow to m <= targetMass_m, total flow =
 * min(sourceMass, sum targetMass)) has a single source, so filling the targets greedily in order of
 * increasing distance is optimal: f_m = min(targetMass_m, remaining mass).
 */
export function emdOneToMany(
  source: ArrayLike<number>,
  targets: ArrayLike<number>,
  options: EmdOptions,
): EmdResult {
  const { d, sourceMass, targetMass } = options;
  const k = targetMass.length;
  if (source.length !== d) throw new RangeError(`emdOneToMany: source has ${source.length} values, d=${d}`);
  if (targets.length !== k * d) throw new RangeError(`emdOneToMany: expected ${k}x${d} target values`);
  if (!(sourceMass >= 0)) throw new RangeError(`emdOneToMany: source mass must be >= 0, got ${sourceMass}`);
  const distances = new Float64Array(k);
  let totalTarget = 0;
  for (let m = 0; m < k; m++) {
    if (!(targetMass[m] >= 0)) throw new RangeError(`emdOneToMany: target mass ${m} must be >= 0`);
    totalTarget += targetMass[m];
    let s = 0;
    for (let c = 0; c < d; c++) {
      const t = source[c] - targets[m * d + c];
      s += t * t;
    }
    distances[m] = Math.sqrt(s);
  }
  const order = Array.from({ length: k }, (_, m) => m).sort((a, b) => distances[a] - distances[b] || a - b);
  const flows = new Float64Array(k);
  let remaining = Math.min(sourceMass, totalTarget);
  const total = remaining;
  let cost = 0;
  for (const m of order) {
    if (remaining <= 0) break;
    const f = Math.min(targetMass[m], remaining);
    flows[m] = f;
    cost += f * distances[m];
    remaining -= f;
  }
  return { emd: total > 0 ? cost / total : 0, flows, distances };
}
