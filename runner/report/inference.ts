/**
 * Inference over seeds for paired comparisons: Student's t distribution (CDF and quantile, from the
 * regularised incomplete beta in `stats.ts`; no dependency), the paired-t confidence interval of a mean
 * difference, Holm's step-down correction of a family of p-values, and the minimum detectable difference
 * of a paired t design.
 * @module
 */
import { mean, pairedTTest, regIncBeta, sampleStd } from "./stats.ts";

/** P(T <= t) for Student's t with `df` > 0 degrees of freedom. */
export function studentTCdf(t: number, df: number): number {
  if (!(df > 0)) throw new RangeError(`studentTCdf: df must be > 0, got ${df}`);
  if (t === Infinity) return 1;
  if (t === -Infinity) return 0;
  const tail = 0.5 * regIncBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/**
 * The `p` quantile of Student's t with `df` > 0 degrees of freedom: the t with P(T <= t) = p. Solved by
 * bisection on {@link studentTCdf} (monotone) to a relative precision of about 1e-12.
 */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`studentTQuantile: p must be in (0, 1), got ${p}`);
  if (!(df > 0)) throw new RangeError(`studentTQuantile: df must be > 0, got ${df}`);
  if (p === 0.5) return 0;
  // Solve for the upper tail and mirror: the t distribution is symmetric.
  const q = p > 0.5 ? p : 1 - p;
  let lo = 0;
  let hi = 1;
  while (studentTCdf(hi, df) < q) {
    lo = hi;
    hi *= 2;
    if (hi > 1e300) break;
  }
  for (let i = 0; i < 200 && hi - lo > 1e-13 * Math.max(1, hi); i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, df) < q) lo = mid;
    else hi = mid;
  }
  const t = (lo + hi) / 2;
  return p > 0.5 ? t : -t;
}

/** A paired-t confidence interval of the mean of per-seed differences. */
export interface TInterval {
  /** Number of paired differences. */
  n: number;
  /** Their mean. */
  mean: number;
  /** Their sample standard deviation (n - 1). */
  sd: number;
  /** Degrees of freedom (n - 1). */
  df: number;
  /** The t quantile used, t_{1 - (1 - level) / 2, n - 1}. */
  tCrit: number;
  /** Lower and upper end. */
  low: number;
  high: number;
  /** tCrit · sd / √n. */
  halfWidth: number;
  /** Two-sided p-value of the mean against 0 (1 for identical zero differences, 0 for a nonzero constant). */
  p: number;
}

/**
 * The paired-t interval of `diffs` (one difference per seed): mean ± t_{1-α/2, n-1} · sd / √n, α = 1 − level.
 * Null with fewer than two differences.
 */
export function pairedTInterval(diffs: number[], level = 0.95): TInterval | null {
  if (diffs.length < 2) return null;
  if (!(level > 0 && level < 1)) {
    throw new RangeError(`pairedTInterval: level must be in (0, 1), got ${level}`);
  }
  const n = diffs.length;
  const m = mean(diffs)!;
  const sd = sampleStd(diffs)!;
  const df = n - 1;
  const tCrit = studentTQuantile(1 - (1 - level) / 2, df);
  const halfWidth = tCrit * sd / Math.sqrt(n);
  // A zero spread makes the interval a point: p is 0 when the constant is nonzero, 1 when it is zero.
  const p = pairedTTest(diffs)!;
  return { n, mean: m, sd, df, tCrit, low: m - halfWidth, high: m + halfWidth, halfWidth, p };
}

/**
 * Holm's step-down adjustment of a family of p-values (null entries are not in the family and stay
 * null): sort the m p-values ascending, adjusted p_(i) = max_{j <= i} min(1, (m − j + 1) · p_(j)).
 * Rejecting where the adjusted value is below α controls the family-wise error rate at α.
 */
export function holm(ps: (number | null)[]): (number | null)[] {
  const idx = ps.map((p, i) => ({ p, i })).filter((x): x is { p: number; i: number } => x.p !== null);
  for (const { p } of idx) {
    if (!(p >= 0 && p <= 1)) throw new RangeError(`holm: p-values must be in [0, 1], got ${p}`);
  }
  idx.sort((a, b) => a.p - b.p || a.i - b.i);
  const m = idx.length;
  const out: (number | null)[] = ps.map(() => null);
  let running = 0;
  idx.forEach(({ p, i }, k) => {
    running = Math.max(running, Math.min(1, (m - k) * p));
    out[i] = running;
  });
  return out;
}

/**
 * The smallest true mean difference a paired t design of `n` pairs with difference standard deviation
 * `sd` detects with the given power at two-sided level α:
 * MDD = (t_{1−α/2, n−1} + t_{power, n−1}) · sd / √n (the usual t approximation of the noncentral t power).
 * Null when n < 2.
 */
export function minDetectableDiff(
  sd: number,
  n: number,
  opts: { alpha?: number; power?: number } = {},
): number | null {
  if (n < 2 || !Number.isFinite(sd)) return null;
  const alpha = opts.alpha ?? 0.05;
  const power = opts.power ?? 0.8;
  const df = n - 1;
  return (studentTQuantile(1 - alpha / 2, df) + studentTQuantile(power, df)) * sd / Math.sqrt(n);
}

/**
 * The fewest seeds whose paired-t interval would have half-width at most `goal` if the per-seed
 * differences kept standard deviation `sd`: the smallest n ≥ 2 with t_{1−α/2, n−1} · sd / √n ≤ goal,
 * α = 1 − level. A planning estimate (`sd` is itself estimated from few seeds); null when more than
 * `maxSeeds` would be needed or `sd` is not finite.
 */
export function seedsForHalfWidth(
  sd: number,
  goal: number,
  opts: { level?: number; maxSeeds?: number } = {},
): number | null {
  if (!Number.isFinite(sd) || !(goal > 0)) return null;
  const level = opts.level ?? 0.95;
  const maxSeeds = opts.maxSeeds ?? 10_000;
  const meets = (n: number) => studentTQuantile(1 - (1 - level) / 2, n - 1) * sd / Math.sqrt(n) <= goal;
  if (!meets(maxSeeds)) return null;
  // The half-width t_{n−1} · sd / √n falls as n grows, so the smallest n that meets the goal is found by
  // bisection: `hi` always meets it, and everything below `lo` does not.
  let lo = 2;
  let hi = maxSeeds;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (meets(mid)) hi = mid;
    else lo = mid + 1;
  }
  return hi;
}
