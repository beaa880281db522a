/**
 * Private numeric helpers shared by the label-weighting modules: order statistics, input checks and a
 * canonical row order that makes seeded sampling independent of the order rows arrive in.
 * @module
 */

/**
 * The k-th smallest value (0-based) of `a`, found in place by quickselect (Hoare partition, median of
 * three). `a` is reordered. Duplicates split evenly, so many equal values stay O(n).
 */
export function selectKth(a: Float64Array, k: number): number {
  if (!(k >= 0 && k < a.length)) throw new RangeError(`selectKth: k=${k} outside [0, ${a.length})`);
  let lo = 0;
  let hi = a.length - 1;
  while (hi > lo) {
    const mid = (lo + hi) >>> 1;
    // median of three as pivot value
    let x = a[lo], y = a[mid];
    const z = a[hi];
    if (x > y) [x, y] = [y, x];
    if (y > z) y = z;
    if (x > y) y = x;
    const pivot = y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k];
  }
  return a[k];
}

/** Throw a one-line error naming `what` and the first row holding a non-finite value. */
export function assertFinite(x: Float32Array | Float64Array, width: number, what: string): void {
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) {
      const row = width > 0 ? Math.floor(i / width) : i;
      throw new RangeError(`${what}: non-finite value ${x[i]} at row ${row}`);
    }
  }
}

/** Throw unless `x.length === n * width`. */
export function assertShape(x: ArrayLike<number>, n: number, width: number, what: string): void {
  if (x.length !== n * width) {
    throw new RangeError(`${what}: expected ${n}x${width} = ${n * width} values, got ${x.length}`);
  }
}

/**
 * Row indices sorted by the rows' values (lexicographic, then by `tie` rows when given). Running a
 * seeded computation on rows in this order makes its result depend on the set of rows only: permuting
 * the input permutes the output. Rows equal in every compared value are interchangeable.
 */
export function canonicalOrder(
  x: Float32Array,
  width: number,
  tie?: { values: Float32Array | Int32Array; width: number },
): Int32Array {
  const n = width > 0 ? x.length / width : 0;
  const idx = Array.from({ length: n }, (_, i) => i);
  idx.sort((a, b) => {
    const oa = a * width, ob = b * width;
    for (let c = 0; c < width; c++) {
      const d = x[oa + c] - x[ob + c];
      if (d !== 0) return d;
    }
    if (tie) {
      const ta = a * tie.width, tb = b * tie.width;
      for (let c = 0; c < tie.width; c++) {
        const d = tie.values[ta + c] - tie.values[tb + c];
        if (d !== 0) return d;
      }
    }
    return 0;
  });
  return Int32Array.from(idx);
}

/** Gather rows `order` of an n*width array into a new array. */
export function gatherRows<T extends Float32Array | Int32Array>(x: T, width: number, order: Int32Array): T {
  const out = new (x.constructor as { new (n: number): T })(order.length * width);
  for (let r = 0; r < order.length; r++) {
    const src = order[r] * width;
    for (let c = 0; c < width; c++) out[r * width + c] = x[src + c];
  }
  return out;
}

/** Squared Euclidean distance between row `i` of `x` and row `j` of `y` (both width `d`), in float64. */
export function sqDist(x: Float32Array, i: number, y: Float32Array, j: number, d: number): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  const oi = i * d, oj = j * d;
  let c = 0;
  for (; c + 3 < d; c += 4) {
    const a = x[oi + c] - y[oj + c];
    const b = x[oi + c + 1] - y[oj + c + 1];
    const e = x[oi + c + 2] - y[oj + c + 2];
    const f = x[oi + c + 3] - y[oj + c + 3];
    s0 += a * a;
    s1 += b * b;
    s2 += e * e;
    s3 += f * f;
  }
  for (; c < d; c++) {
    const a = x[oi + c] - y[oj + c];
    s0 += a * a;
  }
  return (s0 + s1) + (s2 + s3);
}

/** Row squared norms of an n*d float64 array. */
export function rowNorms(x: Float64Array, d: number): Float64Array {
  const n = x.length / d;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let c = i * d, e = c + d; c < e; c++) s += x[c] * x[c];
    out[i] = s;
  }
  return out;
}

/**
 * Squared distances between rows [a0, a1) of `a` and rows [b0, b1) of `b` (width d), written row-major
 * into `out` ((a1-a0) x (b1-b0)). Uses |x|^2 + |y|^2 - 2 x.y with a 4x2 register block (about 3x the
 * speed of differences); results that cancel to below 1e-9 of the norms are recomputed from
 * differences, so duplicate rows give exactly 0.
 */
export function blockSqDist(
  a: Float64Array,
  na: Float64Array,
  a0: number,
  a1: number,
  b: Float64Array,
  nb: Float64Array,
  b0: number,
  b1: number,
  d: number,
  out: Float64Array,
): void {
  const w = b1 - b0;
  let i = a0;
  for (; i + 3 < a1; i += 4) {
    const o0 = i * d, o1 = o0 + d, o2 = o1 + d, o3 = o2 + d;
    let j = b0;
    for (; j + 1 < b1; j += 2) {
      const p0 = j * d, p1 = p0 + d;
      let a00 = 0, a01 = 0, a10 = 0, a11 = 0, a20 = 0, a21 = 0, a30 = 0, a31 = 0;
      for (let c = 0; c < d; c++) {
        const y0 = b[p0 + c], y1 = b[p1 + c];
        const x0 = a[o0 + c], x1 = a[o1 + c], x2 = a[o2 + c], x3 = a[o3 + c];
        a00 += x0 * y0;
        a01 += x0 * y1;
        a10 += x1 * y0;
        a11 += x1 * y1;
        a20 += x2 * y0;
        a21 += x2 * y1;
        a30 += x3 * y0;
        a31 += x3 * y1;
      }
      const r = (i - a0) * w + (j - b0);
      out[r] = fix(a, i, b, j, d, na[i] + nb[j] - 2 * a00, na[i] + nb[j]);
      out[r + 1] = fix(a, i, b, j + 1, d, na[i] + nb[j + 1] - 2 * a01, na[i] + nb[j + 1]);
      out[r + w] = fix(a, i + 1, b, j, d, na[i + 1] + nb[j] - 2 * a10, na[i + 1] + nb[j]);
      out[r + w + 1] = fix(a, i + 1, b, j + 1, d, na[i + 1] + nb[j + 1] - 2 * a11, na[i + 1] + nb[j + 1]);
      out[r + 2 * w] = fix(a, i + 2, b, j, d, na[i + 2] + nb[j] - 2 * a20, na[i + 2] + nb[j]);
      out[r + 2 * w + 1] = fix(a, i + 2, b, j + 1, d, na[i + 2] + nb[j + 1] - 2 * a21, na[i + 2] + nb[j + 1]);
      out[r + 3 * w] = fix(a, i + 3, b, j, d, na[i + 3] + nb[j] - 2 * a30, na[i + 3] + nb[j]);
      out[r + 3 * w + 1] = fix(a, i + 3, b, j + 1, d, na[i + 3] + nb[j + 1] - 2 * a31, na[i + 3] + nb[j + 1]);
    }
    for (; j < b1; j++) {
      for (let q = 0; q < 4; q++) out[(i + q - a0) * w + (j - b0)] = directSq(a, i + q, b, j, d);
    }
  }
  for (; i < a1; i++) {
    for (let j = b0; j < b1; j++) out[(i - a0) * w + (j - b0)] = directSq(a, i, b, j, d);
  }
}

function fix(
  a: Float64Array,
  i: number,
  b: Float64Array,
  j: number,
  d: number,
  v: number,
  scale: number,
): number {
  return v > 1e-9 * scale ? v : directSq(a, i, b, j, d);
}

function directSq(a: Float64Array, i: number, b: Float64Array, j: number, d: number): number {
  let s = 0;
  for (let c = 0; c < d; c++) {
    const t = a[i * d + c] - b[j * d + c];
    s += t * t;
  }
  return s;
}
