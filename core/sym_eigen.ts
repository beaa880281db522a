/**
 * Eigen-decomposition of a real symmetric matrix in float64: Householder reduction to tridiagonal form, then
 * the implicit QL algorithm with Wilkinson-style shifts (the classic EISPACK tred2/tql2 pair, as in Golub &
 * Van Loan §8.3). About 9k³ flops with the vectors, against cyclic Jacobi's 6k³ per sweep times 6-15 sweeps:
 * the nuclear-norm terms decompose a k×k Gram matrix at every training step (k up to a few hundred).
 * @module
 */

/** Eigenvalues (ascending is not guaranteed) and the eigenvectors as the columns of `vectors` (row-major k×k). */
export interface SymmetricEigen {
  values: Float64Array;
  vectors: Float64Array;
}

/**
 * Eigen-decomposition of the symmetric k×k matrix `a` (row-major; only symmetric input is meaningful):
 * a = V diag(values) Vᵀ with V orthogonal, V's column e the eigenvector of values[e].
 */
export function symmetricEigen(a: Float64Array, k: number): SymmetricEigen {
  if (!Number.isInteger(k) || k < 0) throw new Error(`symmetricEigen: bad size ${k}`);
  if (a.length !== k * k) throw new Error(`symmetricEigen: expected ${k * k} entries, got ${a.length}`);
  const n = k;
  const v = Float64Array.from(a);
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  if (n === 0) return { values: d, vectors: v };
  tridiagonalize(v, d, e, n);
  implicitQl(v, d, e, n);
  return { values: d, vectors: v };
}

/** Householder reduction of v (in place) to tridiagonal form: diagonal d, sub-diagonal e; v becomes Q. */
function tridiagonalize(v: Float64Array, d: Float64Array, e: Float64Array, n: number): void {
  for (let j = 0; j < n; j++) d[j] = v[(n - 1) * n + j];
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let q = 0; q < i; q++) scale += Math.abs(d[q]);
    if (scale === 0) {
      e[i] = d[i - 1];
      for (let j = 0; j < i; j++) {
        d[j] = v[(i - 1) * n + j];
        v[i * n + j] = 0;
        v[j * n + i] = 0;
      }
    } else {
      for (let q = 0; q < i; q++) {
        d[q] /= scale;
        h += d[q] * d[q];
      }
      let f = d[i - 1];
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      for (let j = 0; j < i; j++) {
        f = d[j];
        v[j * n + i] = f;
        g = e[j] + v[j * n + j] * f;
        for (let q = j + 1; q <= i - 1; q++) {
          g += v[q * n + j] * d[q];
          e[q] += v[q * n + j] * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] /= h;
        f += e[j] * d[j];
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] -= hh * d[j];
      for (let j = 0; j < i; j++) {
        f = d[j];
        g = e[j];
        for (let q = j; q <= i - 1; q++) v[q * n + j] -= f * e[q] + g * d[q];
        d[j] = v[(i - 1) * n + j];
        v[i * n + j] = 0;
      }
    }
    d[i] = h;
  }
  // Accumulate the transformations.
  for (let i = 0; i < n - 1; i++) {
    v[(n - 1) * n + i] = v[i * n + i];
    v[i * n + i] = 1;
    const h = d[i + 1];
    if (h !== 0) {
      for (let q = 0; q <= i; q++) d[q] = v[q * n + i + 1] / h;
      for (let j = 0; j <= i; j++) {
        let g = 0;
        for (let q = 0; q <= i; q++) g += v[q * n + i + 1] * v[q * n + j];
        for (let q = 0; q <= i; q++) v[q * n + j] -= g * d[q];
      }
    }
    for (let q = 0; q <= i; q++) v[q * n + i + 1] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = v[(n - 1) * n + j];
    v[(n - 1) * n + j] = 0;
  }
  v[(n - 1) * n + n - 1] = 1;
  e[0] = 0;
}

/** Implicit QL on the tridiagonal (d, e), accumulating the rotations into v. */
function implicitQl(v: Float64Array, d: Float64Array, e: Float64Array, n: number): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n) {
      if (Math.abs(e[m]) <= eps * tst1) break;
      m++;
    }
    if (m === n) m = n - 1;
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > 60) throw new Error("symmetricEigen: QL did not converge");
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        p = d[m];
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1];
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = Math.hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          for (let q = 0; q < n; q++) {
            const row = q * n;
            h = v[row + i + 1];
            v[row + i + 1] = s * v[row + i] + c * h;
            v[row + i] = c * v[row + i] - s * h;
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]) > eps * tst1);
    }
    d[l] += f;
    e[l] = 0;
  }
}
