/**
 * The 3-D head model: the head rotation (yaw, pitch, roll), ellipsoid surfaces and their orthographic
 * silhouettes, the {@link Scene} of one face, and the projection of points and small ellipses lying on the
 * face surface into pixels. This is what makes yaw show as displaced, foreshortened features rather than a
 * 2-D shift; both the ray caster and the feature drawing use the same projection.
 * @module
 */
import type { Col } from "./_math.ts";
import { type Ell, ellFromAxes, ellFromQ } from "./_raster.ts";

/** A row-major 3x3 matrix. */
type Mat3 = [number, number, number, number, number, number, number, number, number];

/** R = Rz(roll) Rx(pitch) Ry(yaw); yaw > 0 turns the face towards +x (image right), pitch > 0 looks up. */
export function rotation(yawDeg: number, pitchDeg: number, rollDeg: number): Mat3 {
  const y = (yawDeg * Math.PI) / 180, p = (pitchDeg * Math.PI) / 180, r = (rollDeg * Math.PI) / 180;
  const cy = Math.cos(y),
    sy = Math.sin(y),
    cp = Math.cos(p),
    sp = Math.sin(p),
    cr = Math.cos(r),
    sr = Math.sin(r);
  // Ry: [cy 0 sy; 0 1 0; -sy 0 cy]; Rx (pitch up = -y): [1 0 0; 0 cp -sp; 0 sp cp]
  const a: Mat3 = [cy, 0, sy, sp * sy, cp, -sp * cy, -cp * sy, sp, cp * cy];
  // Rz: [cr -sr 0; sr cr 0; 0 0 1]
  return [
    cr * a[0] - sr * a[3],
    cr * a[1] - sr * a[4],
    cr * a[2] - sr * a[5],
    sr * a[0] + cr * a[3],
    sr * a[1] + cr * a[4],
    sr * a[2] + cr * a[5],
    a[6],
    a[7],
    a[8],
  ];
}

/** R v. */
function rot(R: Mat3, x: number, y: number, z: number): [number, number, number] {
  return [R[0] * x + R[1] * y + R[2] * z, R[3] * x + R[4] * y + R[5] * z, R[6] * x + R[7] * y + R[8] * z];
}

/** R^T v: view coordinates back to head coordinates. */
export function rotT(R: Mat3, x: number, y: number, z: number): [number, number, number] {
  return [R[0] * x + R[3] * y + R[6] * z, R[1] * x + R[4] * y + R[7] * z, R[2] * x + R[5] * y + R[8] * z];
}

/** Surface materials. */
export enum Mat {
  Skin,
  /** Skin carrying scalp hair and beard regions. */
  Head,
  Hair,
  Cloth,
}

/** A solid of the scene (cranium, jaw, nose, ears, neck, shoulders, long hair). */
interface Ellipsoid {
  /** Centre and semi-axes in head (or body) coordinates. */
  c: [number, number, number];
  r: [number, number, number];
  col: Col;
  mat: Mat;
  body?: boolean;
}

/** A ray-castable ellipsoid in view space (head units, head centre at origin). */
export interface ViewEllipsoid {
  src: Ellipsoid;
  R: Mat3;
  cx: number;
  cy: number;
  cz: number;
  q: Mat3;
  sil: Ell;
}

/** The ellipsoid rotated into view space, with its quadratic form and projected silhouette. */
export function toView(e: Ellipsoid, R: Mat3): ViewEllipsoid {
  const [cx, cy, cz] = rot(R, ...e.c);
  // Q = R diag(1/r^2) R^T
  const d = [1 / (e.r[0] * e.r[0]), 1 / (e.r[1] * e.r[1]), 1 / (e.r[2] * e.r[2])];
  const q = new Array(9).fill(0) as Mat3;
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      let v = 0;
      for (let k = 0; k < 3; k++) v += R[i * 3 + k] * d[k] * R[j * 3 + k];
      q[i * 3 + j] = v;
    }
  }
  // Silhouette under orthographic projection along z: Schur complement of q_zz.
  const s11 = q[0] - (q[2] * q[6]) / q[8],
    s12 = q[1] - (q[2] * q[7]) / q[8],
    s22 = q[4] - (q[5] * q[7]) / q[8];
  return { src: e, R, cx, cy, cz, q, sil: ellFromQ(cx, cy, s11, s12, s22) };
}

/** Everything the renderer needs for one face. */
export interface Scene {
  R: Mat3;
  /** Head centre (pixels) and pixels per head unit. */
  ox: number;
  oy: number;
  s: number;
  light: [number, number, number];
  ambient: number;
  skin: Col;
  hair: Col;
  hairDensity: number;
  hairFront: number;
  hairSide: number;
  hairBack: number;
  hairWave: number;
  beard: number;
  beardCol: Col;
  ellipsoids: Ellipsoid[];
}

/** Front surface point of the face at head coordinates (x, y): z on the cranium or jaw, whichever is in front. */
function faceZ(scene: Scene, x: number, y: number): number {
  let best = -Infinity;
  for (let k = 0; k < 2; k++) {
    const e = scene.ellipsoids[k];
    const u = (x - e.c[0]) / e.r[0], v = (y - e.c[1]) / e.r[1];
    const t = 1 - u * u - v * v;
    if (t > 0) best = Math.max(best, e.c[2] + e.r[2] * Math.sqrt(t));
  }
  return best === -Infinity ? 0 : best;
}

/** Projected position (pixels) and view depth of a face point at head coordinates (x, y, on the surface). */
function projectFace(scene: Scene, x: number, y: number, lift = 0): [number, number, number] {
  const z = faceZ(scene, x, y) + lift;
  const [vx, vy, vz] = rot(scene.R, x, y, z);
  return [scene.ox + scene.s * vx, scene.oy + scene.s * vy, vz];
}

/** Project a polyline of face points (x0, y0, x1, y1, ...). Returns pixels, per-point depths and the largest depth. */
export function projectPoly(scene: Scene, pts: number[]): { pts: number[]; zs: number[]; z: number } {
  const out: number[] = [], zs: number[] = [];
  for (let k = 0; k < pts.length; k += 2) {
    const [px, py, pz] = projectFace(scene, pts[k], pts[k + 1]);
    out.push(px, py);
    zs.push(pz);
  }
  return { pts: out, zs, z: Math.max(...zs) };
}

/** A small ellipse lying on the face surface at (x, y) with semi-axes (rx, ry) in head units, tilted by `tilt`. */
export function faceEll(
  scene: Scene,
  x: number,
  y: number,
  rx: number,
  ry: number,
  tilt = 0,
): { e: Ell; z: number; facing: number } {
  const h = 0.02;
  const [cx, cy, cz] = projectFace(scene, x, y);
  const [ux, uy] = projectFace(scene, x + h, y);
  const [vx, vy] = projectFace(scene, x, y + h);
  const jux = (ux - cx) / h, juy = (uy - cy) / h, jvx = (vx - cx) / h, jvy = (vy - cy) / h;
  const ct = Math.cos(tilt), st = Math.sin(tilt);
  // Conjugate axes: J * (rx*(ct, st)), J * (ry*(-st, ct)).
  const ax = rx * (jux * ct + jvx * st), ay = rx * (juy * ct + jvy * st);
  const bx = ry * (-jux * st + jvx * ct), by = ry * (-juy * st + jvy * ct);
  // How squarely the surface faces the viewer: area ratio of the projected to the frontal ellipse.
  const facing = Math.abs(jux * jvy - juy * jvx) / (scene.s * scene.s);
  return { e: ellFromAxes(cx, cy, ax, ay, bx, by), z: cz, facing };
}
