/**
 * Head yaw from a 468-point 3D face mesh (MediaPipe layout, as `@vladmandic/human`'s `facemesh` model
 * outputs) and its mapping onto the 5 AFLW yaw bins of the toolkit's pose head.
 *
 * Yaw is measured from left/right symmetric point pairs: a pair that is horizontal in the face's own
 * frame turns in depth when the head turns, so atan2(dz, dx) of each pair is the yaw; five pairs (eye
 * corners, mouth corners, cheeks, temples, brow ends) are averaged. The depth direction is taken from
 * the mesh itself (the nose tip is the point nearest the camera), so the sign does not depend on the
 * model's z convention. Sign: negative yaw = the face points towards the image's left edge (the
 * subject's own right), positive = towards the image's right edge; `yawToPoseClass` then names the
 * bins ("left"/"left profile" for negative yaw), so the label names read from the viewer's side.
 * @module
 */
import { POSE5_LABELS, POSE5_YAW_BINS, yawToPoseClass } from "../../datasets/label_spaces.ts";

/** Mesh point pairs (subject's right side, left side) that are level in a frontal face. */
export const SYMMETRIC_PAIRS: readonly (readonly [number, number])[] = [
  [33, 263], // outer eye corners
  [61, 291], // mouth corners
  [234, 454], // cheek contour
  [127, 356], // temples
  [70, 300], // brow ends
];

/** Mesh index of the nose tip. */
export const NOSE_TIP = 1;

/** Yaw in degrees from a mesh of 468 (x, y, z) points (x to the image's right, y down). */
export function yawFromMesh(mesh: ArrayLike<number>): number {
  if (mesh.length < 468 * 3) throw new Error(`yawFromMesh: expected 468x3 values, got ${mesh.length}`);
  const p = (i: number) => [mesh[3 * i], mesh[3 * i + 1], mesh[3 * i + 2]];
  // Which z direction points at the camera: the nose tip sticks out further than the cheeks.
  const [l, r, n] = [p(234), p(454), p(NOSE_TIP)];
  const toCamera = (l[2] + r[2]) / 2 - n[2] >= 0 ? -1 : 1;
  let sum = 0;
  for (const [a, b] of SYMMETRIC_PAIRS) {
    const A = p(a), B = p(b);
    const [x0, z0] = A[0] <= B[0] ? [A[0], A[2]] : [B[0], B[2]];
    const [x1, z1] = A[0] <= B[0] ? [B[0], B[2]] : [A[0], A[2]];
    // The right-hand point (image) coming towards the camera means the face turned to the image's left.
    sum += Math.atan2(-toCamera * (z1 - z0), x1 - x0);
  }
  return (sum / SYMMETRIC_PAIRS.length) * 180 / Math.PI;
}

function erf(x: number): number {
  // Abramowitz-Stegun 7.1.26 (|error| < 1.5e-7): enough for bin probabilities.
  const s = Math.sign(x), a = Math.abs(x), t = 1 / (1 + 0.3275911 * a);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t * Math.exp(-a * a);
  return s * y;
}

/**
 * Probabilities of the 5 AFLW bins for a yaw estimate with Gaussian uncertainty `sigmaDeg` (default
 * 6 degrees); the arg-max is always the bin the estimate falls in when sigma is small relative to the bin.
 */
export function yawToPoseProbs(yawDeg: number, sigmaDeg = 6): Float32Array {
  const cdf = (v: number) =>
    v === Infinity ? 1 : v === -Infinity ? 0 : 0.5 * (1 + erf((v - yawDeg) / (sigmaDeg * Math.SQRT2)));
  const out = new Float32Array(POSE5_LABELS.length);
  for (let k = 0; k < out.length; k++) out[k] = cdf(POSE5_YAW_BINS[k][1]) - cdf(POSE5_YAW_BINS[k][0]);
  // Keep the arg-max on the estimate's own bin (a wide bin next to a narrow one could otherwise win).
  const own = yawToPoseClass(yawDeg * Math.PI / 180);
  let best = 0;
  for (let k = 1; k < out.length; k++) if (out[k] > out[best]) best = k;
  if (best !== own) [out[best], out[own]] = [out[own], out[best]];
  return out;
}

/** left / frontal / right of a pose label (the side the face points to, from the viewer). */
export function poseSide(label: string): "left" | "frontal" | "right" {
  if (label === "frontal") return "frontal";
  return label.startsWith("left") ? "left" : "right";
}
