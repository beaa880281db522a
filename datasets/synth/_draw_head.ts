/**
 * The head and body: ray-casts the scene's ellipsoids (orthographic, per pixel) with a z-buffer, partial
 * coverage at silhouettes and Lambert shading, and paints scalp hair and beard as regions of the head
 * surface. Fills the canvas' depth and shade buffers, which the 2-D features drawn afterwards test against.
 * This is the hot loop of the generator.
 * @module
 */
import type { FacePlan } from "./_face_plan.ts";
import { Mat, rotation, rotT, toView, type ViewEllipsoid } from "./_head_3d.ts";
import { clamp, type Col, mix } from "./_math.ts";
import type { Canvas } from "./_raster.ts";

/** Ray-cast the ellipsoids with a z-buffer, Lambert shading, scalp hair and beard regions. */
export function drawBody(cv: Canvas, plan: FacePlan): void {
  const sc = plan.scene;
  const s = cv.size;
  const px = sc.s * s; // pixels per head unit
  const ox = sc.ox * s, oy = sc.oy * s;
  // Body turns a third as much as the head.
  const a = plan.attrs;
  const Rb = rotation(a.yaw / 3, 0, a.roll / 3);
  const views = sc.ellipsoids.map((e) => toView(e, e.body ? Rb : sc.R));
  const [lx, ly, lz] = sc.light;
  // Hits of the current pixel, kept sorted front to back (preallocated: this is the hot loop).
  const hitT = new Float64Array(views.length), hitC = new Float64Array(views.length);
  const hitZ = new Float64Array(views.length), hitV = new Int32Array(views.length);
  for (let y = 0; y < s; y++) {
    for (let x = 0; x < s; x++) {
      const X = (x + 0.5 - ox) / px, Y = (y + 0.5 - oy) / px;
      let nh = 0;
      for (let vi = 0; vi < views.length; vi++) {
        const v = views[vi];
        const sil = v.sil;
        if (Math.abs(X - sil.cx) > sil.ex + 1.5 / px || Math.abs(Y - sil.cy) > sil.ey + 1.5 / px) continue;
        // Coverage in pixels: scale the head-unit ellipse by px.
        const dx = X - v.cx, dy = Y - v.cy;
        const gx = sil.q11 * dx + sil.q12 * dy, gy = sil.q12 * dx + sil.q22 * dy;
        const f2 = dx * gx + dy * gy;
        let c = 1;
        if (f2 >= 0.25) {
          const f = Math.sqrt(f2);
          const g = (Math.sqrt(gx * gx + gy * gy) / f) / px;
          c = clamp(0.5 - (f - 1) / g, 0, 1);
        }
        if (c <= 0) continue;
        const q = v.q;
        const A = q[8], B = q[2] * dx + q[5] * dy;
        const C = q[0] * dx * dx + 2 * q[1] * dx * dy + q[4] * dy * dy - 1;
        const disc = Math.max(B * B - A * C, 0);
        const dz = (-B + Math.sqrt(disc)) / A;
        const z = v.cz + dz;
        // Insertion by depth, front (largest z) first.
        let k = nh++;
        while (k > 0 && hitZ[k - 1] < z) {
          hitT[k] = hitT[k - 1];
          hitC[k] = hitC[k - 1];
          hitZ[k] = hitZ[k - 1];
          hitV[k] = hitV[k - 1];
          k--;
        }
        hitT[k] = dz;
        hitC[k] = c;
        hitZ[k] = z;
        hitV[k] = vi;
      }
      if (nh === 0) continue;
      const i = y * s + x;
      cv.z[i] = hitZ[0];
      // Front-to-back compositing of partial coverages.
      let rem = 1, r = 0, g = 0, b = 0, shadeAcc = 0;
      for (let h = 0; h < nh && rem >= 0.01; h++) {
        const v = views[hitV[h]], q = v.q;
        const dx = X - v.cx, dy = Y - v.cy, dz = hitT[h];
        let nx = q[0] * dx + q[1] * dy + q[2] * dz;
        let ny = q[3] * dx + q[4] * dy + q[5] * dz;
        let nz = q[6] * dx + q[7] * dy + q[8] * dz;
        const nl = Math.sqrt(nx * nx + ny * ny + nz * nz) || 1;
        nx /= nl;
        ny /= nl;
        nz /= nl;
        const lam = Math.max(0, nx * lx + ny * ly + nz * lz);
        const shade = sc.ambient + (1 - sc.ambient) * lam * 1.1;
        let col = v.src.col;
        if (v.src.mat === Mat.Head) col = headMaterial(plan, v, X, Y, hitZ[h], px);
        const w = hitC[h] * rem;
        r += col[0] * shade * w;
        g += col[1] * shade * w;
        b += col[2] * shade * w;
        shadeAcc += shade * w;
        rem -= w;
      }
      const o = i * 3;
      cv.rgb[o] = r + cv.rgb[o] * rem;
      cv.rgb[o + 1] = g + cv.rgb[o + 1] * rem;
      cv.rgb[o + 2] = b + cv.rgb[o + 2] * rem;
      cv.shade[i] = shadeAcc + rem;
    }
  }
}

/** Skin, scalp hair or beard at a head-surface point (view coordinates X, Y, Z). */
function headMaterial(plan: FacePlan, v: ViewEllipsoid, X: number, Y: number, Z: number, px: number): Col {
  const sc = plan.scene;
  const [hx, hy, hz] = rotT(v.R, X, Y, Z);
  let col = sc.skin;
  // Scalp hair: above a hairline that runs from the forehead (front) over the ears (side) to the nape (back).
  const rho = Math.sqrt(hx * hx + hz * hz) || 1;
  const t = (1 - hz / rho) / 2; // 0 front, 0.5 side, 1 back
  let line = t < 0.5
    ? sc.hairFront + (sc.hairSide - sc.hairFront) * 2 * t
    : sc.hairSide + (sc.hairBack - sc.hairSide) * (2 * t - 1);
  line += 0.04 * Math.sin(hx * 7 + sc.hairWave);
  const hairA = clamp(0.5 + (line - hy) * px * 0.8, 0, 1) * sc.hairDensity;
  // Beard: lower face, front half.
  if (sc.beard > 0) {
    const bA = clamp(0.5 + (hy - 0.5) * px * 0.25, 0, 1) * clamp(hz * 2.5, 0, 1) * sc.beard;
    if (bA > 0) col = mix(col, sc.beardCol, bA);
  }
  if (hairA > 0) col = mix(col, sc.hair, hairA);
  return col;
}
