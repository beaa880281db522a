/**
 * 2-D raster primitives on a float RGB canvas (pixel coordinates, colours in [0, 1]): anti-aliased ellipses,
 * stroked polylines and filled polygons, with alpha blending, optional Lambert shade of the surface below,
 * and a depth test against the head's z-buffer so features on the far side of the head stay hidden. Knows
 * nothing about faces; the head and feature drawing build on it.
 * @module
 */
import { clamp, type Col } from "./_math.ts";

/** The image being drawn, with the per-pixel surface data the 2-D shapes test against. */
export interface Canvas {
  size: number;
  rgb: Float32Array;
  /** Lambert shade of the surface under each pixel (1 for background). */
  shade: Float32Array;
  /** Front-most surface depth (view z, head units); -inf for background. */
  z: Float32Array;
}

/** A 2-D ellipse as a quadratic form around a centre, with its bounding box half-extents. */
export interface Ell {
  cx: number;
  cy: number;
  q11: number;
  q12: number;
  q22: number;
  ex: number;
  ey: number;
}

/** Ellipse from conjugate semi-axes A and B (the images of the unit circle's axes). */
export function ellFromAxes(cx: number, cy: number, ax: number, ay: number, bx: number, by: number): Ell {
  let det = ax * by - bx * ay;
  if (Math.abs(det) < 1e-6) det = det < 0 ? -1e-6 : 1e-6;
  const r1x = by / det, r1y = -bx / det, r2x = -ay / det, r2y = ax / det;
  return {
    cx,
    cy,
    q11: r1x * r1x + r2x * r2x,
    q12: r1x * r1y + r2x * r2y,
    q22: r1y * r1y + r2y * r2y,
    ex: Math.sqrt(ax * ax + bx * bx),
    ey: Math.sqrt(ay * ay + by * by),
  };
}

/** Ellipse {x : (x-c)^T Q (x-c) <= 1} from its quadratic form. */
export function ellFromQ(cx: number, cy: number, q11: number, q12: number, q22: number): Ell {
  const det = q11 * q22 - q12 * q12;
  return {
    cx,
    cy,
    q11,
    q12,
    q22,
    ex: Math.sqrt(Math.max(q22 / det, 0)),
    ey: Math.sqrt(Math.max(q11 / det, 0)),
  };
}

/** Anti-aliased coverage of pixel centre (x, y) by an ellipse (signed distance from the gradient). */
export function ellCov(e: Ell, x: number, y: number): number {
  const dx = x - e.cx, dy = y - e.cy;
  const gx = e.q11 * dx + e.q12 * dy, gy = e.q12 * dx + e.q22 * dy;
  const f2 = dx * gx + dy * gy;
  if (f2 < 0.25) return 1;
  const f = Math.sqrt(f2);
  const g = Math.sqrt(gx * gx + gy * gy) / f;
  return clamp(0.5 - (f - 1) / g, 0, 1);
}

function blendPx(cv: Canvas, i: number, col: Col, a: number, shaded: boolean): void {
  if (a <= 0) return;
  const k = shaded ? cv.shade[i] : 1;
  const o = i * 3;
  cv.rgb[o] += (col[0] * k - cv.rgb[o]) * a;
  cv.rgb[o + 1] += (col[1] * k - cv.rgb[o + 1]) * a;
  cv.rgb[o + 2] += (col[2] * k - cv.rgb[o + 2]) * a;
}

/** Draw options of 2-D shapes. */
export interface Paint {
  col: Col;
  alpha: number;
  /** Multiply by the surface shade under the pixel. */
  shaded?: boolean;
  /** Depth of the shape: pixels whose surface is in front by more than 0.08 are left alone. */
  z?: number;
  /** Per-point depths of a stroked polyline (used instead of `z`, interpolated along the nearest segment). */
  zs?: number[];
  /** Extra coverage factor (clip), e.g. iris inside the eye. */
  clip?: (x: number, y: number) => number;
}

function visible(cv: Canvas, i: number, p: Paint): boolean {
  return p.z === undefined || cv.z[i] <= p.z + 0.08;
}

/** Fill an ellipse (anti-aliased, depth-tested when `p.z` is set). */
export function fillEll(cv: Canvas, e: Ell, p: Paint): void {
  const s = cv.size;
  const x0 = Math.max(0, Math.floor(e.cx - e.ex - 1)), x1 = Math.min(s - 1, Math.ceil(e.cx + e.ex + 1));
  const y0 = Math.max(0, Math.floor(e.cy - e.ey - 1)), y1 = Math.min(s - 1, Math.ceil(e.cy + e.ey + 1));
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const i = y * s + x;
      if (!visible(cv, i, p)) continue;
      let c = ellCov(e, x + 0.5, y + 0.5);
      if (c > 0 && p.clip) c *= p.clip(x + 0.5, y + 0.5);
      if (c > 0) blendPx(cv, i, p.col, c * p.alpha, p.shaded ?? false);
    }
  }
}

function segDist2(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  const vx = bx - ax, vy = by - ay;
  const l2 = vx * vx + vy * vy;
  let t = l2 > 0 ? ((px - ax) * vx + (py - ay) * vy) / l2 : 0;
  t = clamp(t, 0, 1);
  const dx = px - ax - t * vx, dy = py - ay - t * vy;
  return dx * dx + dy * dy;
}

function bbox(pts: number[], pad: number, s: number): [number, number, number, number] {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (let k = 0; k < pts.length; k += 2) {
    x0 = Math.min(x0, pts[k]);
    x1 = Math.max(x1, pts[k]);
    y0 = Math.min(y0, pts[k + 1]);
    y1 = Math.max(y1, pts[k + 1]);
  }
  return [
    Math.max(0, Math.floor(x0 - pad)),
    Math.max(0, Math.floor(y0 - pad)),
    Math.min(s - 1, Math.ceil(x1 + pad)),
    Math.min(s - 1, Math.ceil(y1 + pad)),
  ];
}

/** Stroke a polyline [x0, y0, x1, y1, ...] of half-width hw (pixels). */
export function strokePoly(cv: Canvas, pts: number[], hw: number, p: Paint): void {
  if (pts.length < 4) return;
  const s = cv.size;
  const [x0, y0, x1, y1] = bbox(pts, hw + 1.5, s);
  const thin = hw < 0.5 ? (2 * hw) / (hw + 0.5) : 1;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const i = y * s + x;
      if (!visible(cv, i, p)) continue;
      let d2 = Infinity, kz = 0;
      for (let k = 0; k + 3 < pts.length; k += 2) {
        const dd = segDist2(x + 0.5, y + 0.5, pts[k], pts[k + 1], pts[k + 2], pts[k + 3]);
        if (dd < d2) {
          d2 = dd;
          kz = k >> 1;
        }
      }
      if (p.zs && cv.z[i] > Math.max(p.zs[kz], p.zs[kz + 1]) + 0.08) continue;
      let c = clamp(hw + 0.5 - Math.sqrt(d2), 0, 1) * thin;
      if (c > 0 && p.clip) c *= p.clip(x + 0.5, y + 0.5);
      if (c > 0) blendPx(cv, i, p.col, c * p.alpha, p.shaded ?? false);
    }
  }
}

/** Signed coverage of a closed polygon at a point (even-odd inside test, distance to the nearest edge). */
function polyCov(pts: number[], px: number, py: number): number {
  let inside = false, d2 = Infinity;
  const m = pts.length;
  for (let k = 0, j = m - 2; k < m; j = k, k += 2) {
    const ax = pts[j], ay = pts[j + 1], bx = pts[k], by = pts[k + 1];
    if ((by > py) !== (ay > py) && px < ((ax - bx) * (py - by)) / (ay - by) + bx) inside = !inside;
    d2 = Math.min(d2, segDist2(px, py, ax, ay, bx, by));
  }
  const d = Math.sqrt(d2);
  return clamp(0.5 + (inside ? d : -d), 0, 1);
}

/** Fill a closed polygon [x0, y0, x1, y1, ...] (anti-aliased, even-odd). */
export function fillPoly(cv: Canvas, pts: number[], p: Paint): void {
  if (pts.length < 6) return;
  const s = cv.size;
  const [x0, y0, x1, y1] = bbox(pts, 1, s);
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const i = y * s + x;
      if (!visible(cv, i, p)) continue;
      let c = polyCov(pts, x + 0.5, y + 0.5);
      if (c > 0 && p.clip) c *= p.clip(x + 0.5, y + 0.5);
      if (c > 0) blendPx(cv, i, p.col, c * p.alpha, p.shaded ?? false);
    }
  }
}
