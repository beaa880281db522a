/**
 * One face from plan to pixels: background and clutter, head, features, occluder, then the finishing pass
 * (blur, colour cast, saturation, gain and contrast, pixel noise) that writes 8-bit RGB. Owns the drawing
 * order, which matters because later layers are depth-tested against and blended over earlier ones.
 * @module
 */
import type { Rng } from "../../core/rng.ts";
import { drawFeatures } from "./_draw_features.ts";
import { drawBody } from "./_draw_head.ts";
import type { FacePlan } from "./_face_plan.ts";
import { faceEll, projectPoly, type Scene } from "./_head_3d.ts";
import { clamp, type Col, scaleCol } from "./_math.ts";
import { type Canvas, ellFromAxes, fillEll, fillPoly, strokePoly } from "./_raster.ts";

/** Gradient background plus the clutter shapes (ellipses, polygons, lines). */
function drawBackground(cv: Canvas, plan: FacePlan): void {
  const { size: s, rgb } = cv;
  const n = plan.nuis;
  const ca = Math.cos(n.bgAngle), sa = Math.sin(n.bgAngle);
  for (let y = 0; y < s; y++) {
    for (let x = 0; x < s; x++) {
      const t = clamp(0.5 + ((x / s - 0.5) * ca + (y / s - 0.5) * sa), 0, 1);
      const o = (y * s + x) * 3;
      rgb[o] = n.bg[0] + (n.bg2[0] - n.bg[0]) * t;
      rgb[o + 1] = n.bg[1] + (n.bg2[1] - n.bg[1]) * t;
      rgb[o + 2] = n.bg[2] + (n.bg2[2] - n.bg[2]) * t;
    }
  }
  for (const c of n.clutter) {
    const p = c.pts.map((v) => v * s);
    if (c.kind === 0) fillEll(cv, ellFromAxes(p[0], p[1], p[2], 0, 0, p[3]), { col: c.col, alpha: c.alpha });
    else if (c.kind === 1) fillPoly(cv, p, { col: c.col, alpha: c.alpha });
    else strokePoly(cv, p.slice(0, 4), Math.max(0.4, p[4]), { col: c.col, alpha: c.alpha });
  }
}

/** Sunglasses, a hand or object over the lower face, or a bar from the image edge (kind 1, 2, 3). */
function drawOccluder(cv: Canvas, plan: FacePlan): void {
  const kind = plan.nuis.occluder;
  if (kind === 0) return;
  const sc = plan.scene;
  const s = cv.size;
  const px = sc.s * s;
  const proj: Scene = { ...sc, ox: sc.ox * s, oy: sc.oy * s, s: px };
  const [a, b, c, d] = plan.nuis.occParams;
  const W = plan.ident.width, eyeSep = plan.ident.eyeSep * W;
  if (kind === 1) {
    // Sunglasses: two dark lenses and a bridge, lifted off the face.
    const col: Col = [0.05 + 0.1 * a, 0.05 + 0.1 * a, 0.07 + 0.1 * b];
    for (const side of [-1, 1]) {
      const f = faceEll(proj, side * eyeSep, plan.eyeY + 0.01, 0.22, 0.14);
      if (f.facing > 0.05) fillEll(cv, f.e, { col, alpha: 0.95 });
    }
    const br = projectPoly(proj, [-eyeSep + 0.2, plan.eyeY - 0.03, eyeSep - 0.2, plan.eyeY - 0.03]);
    strokePoly(cv, br.pts, Math.max(0.4, px * 0.02), { col, alpha: 0.95 });
  } else if (kind === 2) {
    // A hand or object over the lower face.
    const col = c < 0.5 ? scaleCol(sc.skin, 0.95) : plan.nuis.occCol;
    const f = faceEll(proj, (a - 0.5) * 0.8, 0.55 + 0.3 * b, 0.35 + 0.2 * d, 0.28);
    fillEll(cv, f.e, { col, alpha: 1 });
  } else {
    // A bar entering from the image edge.
    const ang = a * Math.PI;
    const cx = s * (0.3 + 0.4 * b), cy = s * (0.3 + 0.4 * c);
    const L = s, w = s * (0.05 + 0.08 * d);
    const dx = Math.cos(ang), dy = Math.sin(ang);
    fillPoly(cv, [
      cx - dy * w,
      cy + dx * w,
      cx + dx * L - dy * w,
      cy + dy * L + dx * w,
      cx + dx * L + dy * w,
      cy + dy * L - dx * w,
      cx + dy * w,
      cy - dx * w,
    ], { col: plan.nuis.occCol, alpha: 1 });
  }
}

/** Colour cast, saturation, gain/contrast, blur, noise; returns 8-bit RGB. */
function finish(cv: Canvas, plan: FacePlan, r: Rng, out: Uint8Array, offset: number): void {
  const n = plan.nuis;
  const { size: s, rgb } = cv;
  if (n.blur) {
    const tmp = rgb.slice();
    for (let y = 0; y < s; y++) {
      for (let x = 0; x < s; x++) {
        for (let k = 0; k < 3; k++) {
          let acc = 0, w = 0;
          for (let dy = -1; dy <= 1; dy++) {
            const yy = y + dy;
            if (yy < 0 || yy >= s) continue;
            for (let dx = -1; dx <= 1; dx++) {
              const xx = x + dx;
              if (xx < 0 || xx >= s) continue;
              const wt = (dx === 0 ? 2 : 1) * (dy === 0 ? 2 : 1);
              acc += tmp[(yy * s + xx) * 3 + k] * wt;
              w += wt;
            }
          }
          rgb[(y * s + x) * 3 + k] = acc / w;
        }
      }
    }
  }
  for (let i = 0; i < s * s; i++) {
    const o = i * 3;
    let R = rgb[o] * n.cast[0], G = rgb[o + 1] * n.cast[1], B = rgb[o + 2] * n.cast[2];
    const L = 0.299 * R + 0.587 * G + 0.114 * B;
    R = L + (R - L) * n.saturation;
    G = L + (G - L) * n.saturation;
    B = L + (B - L) * n.saturation;
    const nz = n.noise > 0 ? r.normal(0, n.noise) : 0;
    const f = (v: number) => clamp(((v - 0.5) * n.contrast + 0.5) * n.gain + nz, 0, 1) * 255;
    out[offset + o] = Math.round(f(R));
    out[offset + o + 1] = Math.round(f(G));
    out[offset + o + 2] = Math.round(f(B));
  }
}

/** Render one face into `out` (8-bit RGB, size*size*3 at `offset`). */
export function renderPlan(plan: FacePlan, size: number, r: Rng, out: Uint8Array, offset: number): void {
  const cv: Canvas = {
    size,
    rgb: new Float32Array(size * size * 3),
    shade: new Float32Array(size * size).fill(1),
    z: new Float32Array(size * size).fill(-Infinity),
  };
  drawBackground(cv, plan);
  drawBody(cv, plan);
  drawFeatures(cv, plan);
  drawOccluder(cv, plan);
  finish(cv, plan, r, out, offset);
}
