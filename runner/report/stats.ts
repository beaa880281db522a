/**
 * Statistics of a comparison over seeds: mean and sample standard deviation, paired per-seed
 * differences with a paired t-test, and LibMTL's delta-m (mean relative change over tasks).
 * @module
 */

/** Mean and spread of values over seeds; `std` is null with fewer than two values. */
export interface Spread {
  n: number;
  mean: number | null;
  /** Sample standard deviation (n - 1 in the denominator). */
  std: number | null;
}

/** Paired per-seed differences `a_s - b_s` over the seeds both sides have. */
export interface PairedDiff extends Spread {
  seeds: number[];
  values: number[];
  /** Seeds where a > b, and where a < b. */
  wins: number;
  losses: number;
  /** Two-sided paired t-test p-value (null with fewer than two pairs; see {@link pairedTTest}). */
  p: number | null;
}

/** Arithmetic mean; null for an empty list. */
export function mean(xs: number[]): number | null {
  if (xs.length === 0) return null;
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/** Median (the mean of the two middle values of an even count); null for an empty list. */
export function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Sample standard deviation (n - 1); null for fewer than two values. */
export function sampleStd(xs: number[]): number | null {
  if (xs.length < 2) return null;
  const m = mean(xs)!;
  let s = 0;
  for (const x of xs) s += (x - m) * (x - m);
  return Math.sqrt(s / (xs.length - 1));
}

/** Mean and sample standard deviation of `xs`. */
export function spread(xs: number[]): Spread {
  return { n: xs.length, mean: mean(xs), std: sampleStd(xs) };
}

/** Paired differences `a[seed] - b[seed]` over the seeds present in both maps (ascending seed order). */
export function pairedDiff(a: Map<number, number>, b: Map<number, number>): PairedDiff {
  const seeds = [...a.keys()].filter((s) => b.has(s)).sort((x, y) => x - y);
  const values = seeds.map((s) => a.get(s)! - b.get(s)!);
  const sp = spread(values);
  return {
    ...sp,
    seeds,
    values,
    wins: values.filter((v) => v > 0).length,
    losses: values.filter((v) => v < 0).length,
    p: pairedTTest(values),
  };
}

/**
 * LibMTL's delta-m in percent for higher-is-better metrics:
 * Δm = (1/T) Σ_t (m_t - b_t) / b_t · 100. Null when a task is missing on either side, a baseline
 * value is 0, or there are no tasks.
 */
export function deltaM(method: (number | null)[], baseline: (number | null)[]): number | null {
  if (method.length !== baseline.length) {
    throw new RangeError(`deltaM: ${method.length} method values but ${baseline.length} baseline values`);
  }
  if (method.length === 0) return null;
  let s = 0;
  for (let t = 0; t < method.length; t++) {
    const m = method[t];
    const b = baseline[t];
    if (m === null || b === null || b === 0) return null;
    s += (m - b) / b;
  }
  return (s / method.length) * 100;
}

/**
 * Two-sided p-value of a one-sample t-test of `diffs` against 0; null with fewer than two values. Zero
 * spread is the limit of the test: p = 1 for all-zero differences, 0 for a nonzero constant (|t| = ∞).
 */
export function pairedTTest(diffs: number[]): number | null {
  const sd = sampleStd(diffs);
  if (sd === null) return null;
  const m = mean(diffs)!;
  if (sd === 0) return m === 0 ? 1 : 0;
  const t = m / (sd / Math.sqrt(diffs.length));
  return studentTwoSidedP(t, diffs.length - 1);
}

/** P(|T| >= |t|) for Student's t with `df` degrees of freedom. */
export function studentTwoSidedP(t: number, df: number): number {
  if (!(df > 0)) throw new RangeError(`studentTwoSidedP: df must be > 0, got ${df}`);
  const x = df / (df + t * t);
  return Math.min(1, Math.max(0, regIncBeta(x, df / 2, 0.5)));
}

// Lanczos approximation (g = 7, 9 terms) of ln Γ(z) for z > 0.
const LANCZOS = [
  0.99999999999980993,
  676.5203681218851,
  -1259.1392167224028,
  771.32342877765313,
  -176.61502916214059,
  12.507343278686905,
  -0.13857109526572012,
  9.9843695780195716e-6,
  1.5056327351493116e-7,
];

/** ln Γ(z) (Lanczos, g = 7). */
export function lnGamma(z: number): number {
  if (z < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * z)) - lnGamma(1 - z);
  z -= 1;
  let x = LANCZOS[0];
  for (let i = 1; i < 9; i++) x += LANCZOS[i] / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(x);
}

/** Regularised incomplete beta I_x(a, b), by its continued fraction (modified Lentz). */
export function regIncBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const lnFront = lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log(1 - x);
  // The fraction converges fast for x < (a+1)/(a+b+2); use the symmetry otherwise.
  if (x > (a + 1) / (a + b + 2)) return 1 - regIncBeta(1 - x, b, a);
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let f = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let num = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + num * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + num / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    f *= d * c;
    num = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + num * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + num / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-14) break;
  }
  return (Math.exp(lnFront) * f) / a;
}
