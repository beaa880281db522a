/**
 * The few numeric helpers every stage of the synthetic face generator shares: clamping, a weighted random
 * pick, and linear RGB colour arithmetic. Kept apart so sampling, the raster primitives and the drawing
 * code use one definition each (any change here changes every rendered pixel, see `SYNTH_VERSION`).
 * @module
 */
import type { Rng } from "../../core/rng.ts";

/** An RGB colour, floats in [0, 1] (before the final 8-bit conversion). */
export type Col = [number, number, number];

/** Index drawn with probability proportional to its weight (one `rng.next()` draw). */
export function pickWeighted(rng: Rng, w: number[]): number {
  const s = w.reduce((a, b) => a + b, 0);
  let r = rng.next() * s;
  for (let i = 0; i < w.length; i++) {
    r -= w[i];
    if (r < 0) return i;
  }
  return w.length - 1;
}

/** `v` limited to [lo, hi]. */
export function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/** Linear blend of two colours: `a` at t = 0, `b` at t = 1. */
export function mix(a: Col, b: Col, t: number): Col {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

/** A colour darkened (k < 1) or brightened (k > 1). */
export function scaleCol(a: Col, k: number): Col {
  return [a[0] * k, a[1] * k, a[2] * k];
}

/** A uniformly random colour (three `r.next()` draws). */
export function randCol(r: Rng): Col {
  return [r.next(), r.next(), r.next()];
}
