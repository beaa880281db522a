/**
 * Dataset splits (docs/original.md §2.6, fix B21).
 *
 * - {@link stratifiedSplit}: the toolkit default, a seeded train/val/test split that keeps every
 *   class's share in each part (largest-remainder rounding, so the part sizes are exact).
 * - {@link kfoldSplit}: the original scripts' split, scikit-learn `KFold(n_splits=K, shuffle=True,
 *   random_state)` fold 0, bit-exact: the permutation is numpy's legacy `RandomState(seed).shuffle`
 *   (MT19937 + masked rejection sampling), re-implemented here. There is no test set: val = test = fold 0.
 * @module
 */
import { Rng } from "../core/rng.ts";

/** Row indices of the three parts (each sorted ascending, pairwise disjoint). */
export interface Split {
  train: Int32Array;
  val: Int32Array;
  test: Int32Array;
}

/** Options of {@link stratifiedSplit}. */
export interface StratifiedSplitOptions {
  seed: number;
  /** Fraction of rows in the validation part (default 0.1). */
  valFraction?: number;
  /** Fraction of rows in the test part (default 0.2). */
  testFraction?: number;
}

/** Default validation fraction of {@link stratifiedSplit}. */
export const DEFAULT_VAL_FRACTION = 0.1;
/** Default test fraction of {@link stratifiedSplit}. */
export const DEFAULT_TEST_FRACTION = 0.2;

/**
 * Combine several label columns into one stratum id per row (mixed radix; -1 counts as its own value),
 * e.g. gender x age for Adience.
 */
export function strataKey(columns: Int32Array[], classes: number[]): Int32Array {
  if (columns.length === 0) throw new Error("strataKey: no label columns given");
  const n = columns[0].length;
  const key = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let k = 0;
    for (let c = 0; c < columns.length; c++) {
      if (columns[c].length !== n) throw new Error("strataKey: label columns differ in length");
      k = k * (classes[c] + 1) + (columns[c][i] + 1);
    }
    key[i] = k;
  }
  return key;
}

/** Split `total` items over groups in proportion to `weights`, exactly (largest remainder, ties by index). */
function apportion(weights: number[], total: number): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  if (sum === 0) return weights.map(() => 0);
  const exact = weights.map((w) => (w * total) / sum);
  const out = exact.map(Math.floor);
  let left = total - out.reduce((a, b) => a + b, 0);
  const order = exact.map((e, i) => [e - Math.floor(e), i]).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (let k = 0; left > 0; k = (k + 1) % order.length) {
    const i = order[k][1];
    if (out[i] < weights[i]) {
      out[i]++;
      left--;
    }
  }
  return out;
}

function checkFraction(name: string, v: number): void {
  if (!(v >= 0 && v < 1)) throw new RangeError(`${name} must be in [0, 1), got ${v}`);
}

/**
 * Seeded stratified train/val/test split of rows 0..n-1 by stratum (one id per row, e.g. the class;
 * use {@link strataKey} for several tasks). Part sizes are round(n*fraction) exactly; each stratum
 * contributes floor or ceil of its share.
 */
export function stratifiedSplit(strata: Int32Array, opts: StratifiedSplitOptions): Split {
  const valF = opts.valFraction ?? DEFAULT_VAL_FRACTION;
  const testF = opts.testFraction ?? DEFAULT_TEST_FRACTION;
  checkFraction("valFraction", valF);
  checkFraction("testFraction", testF);
  if (valF + testF >= 1) throw new RangeError(`valFraction + testFraction must be < 1, got ${valF + testF}`);
  const n = strata.length;
  const groups = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const g = groups.get(strata[i]);
    if (g) g.push(i);
    else groups.set(strata[i], [i]);
  }
  const keys = [...groups.keys()].sort((a, b) => a - b);
  const rng = new Rng(opts.seed).derive("stratified-split");
  const members = keys.map((k) => rng.shuffle(groups.get(k)!));
  const sizes = members.map((m) => m.length);
  const nTest = apportion(sizes, Math.round(n * testF));
  const nVal = apportion(sizes.map((s, i) => s - nTest[i]), Math.round(n * valF));
  const train: number[] = [], val: number[] = [], test: number[] = [];
  members.forEach((m, g) => {
    for (let j = 0; j < m.length; j++) {
      if (j < nTest[g]) test.push(m[j]);
      else if (j < nTest[g] + nVal[g]) val.push(m[j]);
      else train.push(m[j]);
    }
  });
  const sorted = (a: number[]) => Int32Array.from(a).sort();
  return { train: sorted(train), val: sorted(val), test: sorted(test) };
}

/** Options of {@link kfoldSplit}. */
export interface KFoldOptions {
  /** Number of folds (the original: 5, or 100 in ALTERNATIVE_EP.py). */
  k: number;
  /** `random_state` of scikit-learn's KFold (the original: 1). */
  seed?: number;
  /** Held-out fold (the original: 0). */
  fold?: number;
}

/** MT19937 seeded like numpy's legacy `RandomState(seed)` (init_genrand). */
class Mt19937 {
  #mt = new Uint32Array(624);
  #i = 624;

  constructor(seed: number) {
    const mt = this.#mt;
    mt[0] = seed >>> 0;
    for (let i = 1; i < 624; i++) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
      mt[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
  }

  nextU32(): number {
    const mt = this.#mt;
    if (this.#i >= 624) {
      for (let k = 0; k < 624; k++) {
        const y = (mt[k] & 0x80000000) | (mt[(k + 1) % 624] & 0x7fffffff);
        mt[k] = mt[(k + 397) % 624] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      }
      this.#i = 0;
    }
    let y = mt[this.#i++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** numpy legacy `random_interval(max)`: uniform in [0, max] by masked rejection. */
  interval(max: number): number {
    if (max === 0) return 0;
    let mask = max;
    mask |= mask >>> 1;
    mask |= mask >>> 2;
    mask |= mask >>> 4;
    mask |= mask >>> 8;
    mask |= mask >>> 16;
    mask >>>= 0;
    let v: number;
    do v = (this.nextU32() & mask) >>> 0; while (v > max);
    return v;
  }
}

/** numpy `RandomState(seed).shuffle(arange(n))` (legacy Fisher-Yates from the end). */
export function numpyLegacyPermutation(n: number, seed: number): Int32Array {
  if (!(seed >= 0 && seed <= 0xffffffff && Number.isInteger(seed))) {
    throw new RangeError(`numpy seed must be an integer in [0, 2^32-1], got ${seed}`);
  }
  const mt = new Mt19937(seed);
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = mt.interval(i);
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

/**
 * The original split: scikit-learn `KFold(n_splits=k, shuffle=True, random_state=seed)`, one fold held
 * out. Fold sizes are floor(n/k), the first n mod k folds one larger. There is no separate test set,
 * so `val` and `test` are the same rows (reported numbers are validation numbers, as in the paper).
 */
export function kfoldSplit(n: number, opts: KFoldOptions): Split {
  const k = opts.k;
  const fold = opts.fold ?? 0;
  if (!(Number.isInteger(k) && k >= 2)) throw new RangeError(`k must be an integer >= 2, got ${k}`);
  if (k > n) throw new RangeError(`k = ${k} folds need at least ${k} rows, the dataset has ${n}`);
  if (!(Number.isInteger(fold) && fold >= 0 && fold < k)) {
    throw new RangeError(`fold must be in [0, ${k}), got ${fold}`);
  }
  const perm = numpyLegacyPermutation(n, opts.seed ?? 1);
  const base = Math.floor(n / k), extra = n % k;
  let start = 0;
  for (let f = 0; f < fold; f++) start += base + (f < extra ? 1 : 0);
  const size = base + (fold < extra ? 1 : 0);
  const held = perm.slice(start, start + size).sort();
  const inHeld = new Uint8Array(n);
  for (const i of held) inHeld[i] = 1;
  const train = new Int32Array(n - size);
  let t = 0;
  for (let i = 0; i < n; i++) if (!inHeld[i]) train[t++] = i;
  return { train, val: held, test: held.slice() };
}
