/**
 * The face's 2-D features: wrinkles, blush, eyes (sclera, iris, pupil, lids), brows, nostrils and the mouth
 * (lips, opening, teeth), shaped by identity, age and expression and drawn at projected surface points, so
 * they foreshorten with yaw and the far eye hides behind the nose at profile. The emotion and age cues the
 * models learn are mostly here.
 * @module
 */
import type { FacePlan } from "./_face_plan.ts";
import { faceEll, projectPoly, type Scene } from "./_head_3d.ts";
import { clamp, type Col, scaleCol } from "./_math.ts";
import { type Canvas, ellCov, fillEll, fillPoly, type Paint, strokePoly } from "./_raster.ts";

/** Quadratic curve through (x0,y0)-(xm,ym)-(x1,y1) as n+1 points (passing through the middle point). */
function curve(x0: number, y0: number, xm: number, ym: number, x1: number, y1: number, n = 8): number[] {
  const cx = 2 * xm - (x0 + x1) / 2, cy = 2 * ym - (y0 + y1) / 2;
  const out: number[] = [];
  for (let k = 0; k <= n; k++) {
    const t = k / n, u = 1 - t;
    out.push(u * u * x0 + 2 * u * t * cx + t * t * x1, u * u * y0 + 2 * u * t * cy + t * t * y1);
  }
  return out;
}

/** Draw wrinkles, blush, eyes, brows, nostrils and mouth over the rendered head. */
export function drawFeatures(cv: Canvas, plan: FacePlan): void {
  const sc = plan.scene;
  const s = cv.size;
  const px = sc.s * s;
  const ex = plan.expr;
  const man = plan.ident.gender === 1;
  const skin = sc.skin;
  const dark = scaleCol(skin, 0.55);
  const proj: Scene = { ...sc, ox: sc.ox * s, oy: sc.oy * s, s: px };
  const W = plan.ident.width;
  const eyeSep = plan.ident.eyeSep * W;
  const eyeY = plan.eyeY;
  // Wrinkles (drawn first: features go over them).
  const wr = plan.age.wrinkles;
  if (wr > 0.02) {
    const wc: Paint = { col: scaleCol(skin, 0.6), alpha: clamp(wr * 0.9, 0, 0.85), shaded: true };
    for (let k = 0; k < 3; k++) {
      const y = -0.42 - 0.11 * k - 0.1 * ex.browUp;
      if (y < sc.hairFront + 0.08) continue;
      const pl = projectPoly(proj, curve(-0.42 * W, y + 0.03, 0, y - 0.02, 0.42 * W, y + 0.03));
      strokePoly(cv, pl.pts, Math.max(0.35, px * 0.012), { ...wc, zs: pl.zs });
    }
    for (const side of [-1, 1]) {
      const cx = side * (eyeSep + 0.17);
      for (let k = -1; k <= 1; k++) {
        const pl = projectPoly(proj, [cx, eyeY + k * 0.04, cx + side * 0.1, eyeY + k * 0.08]);
        strokePoly(cv, pl.pts, Math.max(0.3, px * 0.01), { ...wc, zs: pl.zs, alpha: wc.alpha * 0.8 });
      }
      const mw = 0.3 * plan.mouthScale * (1 + ex.width);
      const pl = projectPoly(
        proj,
        curve(side * 0.2, 0.42, side * (mw * 0.85 + 0.08), 0.6, side * (mw + 0.08), plan.mouthY + 0.06),
      );
      strokePoly(cv, pl.pts, Math.max(0.35, px * 0.013), { ...wc, zs: pl.zs });
    }
  }
  // Cheek blush (women and children).
  const blush = (man ? 0.05 : 0.22) + 0.15 * (1 - plan.age.dev);
  for (const side of [-1, 1]) {
    const f = faceEll(proj, side * 0.5 * W, 0.42, 0.2, 0.13);
    fillEll(cv, f.e, {
      col: [0.9, 0.4, 0.4],
      alpha: blush * clamp(f.facing * 2, 0, 1),
      shaded: true,
      z: f.z,
    });
  }
  // Eyes.
  const open = clamp(1 + ex.eye, 0.15, 1.8);
  const ew = 0.15 * plan.eyeScale, eh = 0.085 * plan.eyeScale * open;
  const lidCol: Col = scaleCol(plan.browCol, 0.6);
  for (const side of [-1, 1]) {
    const x = side * eyeSep;
    const f = faceEll(proj, x, eyeY, ew, eh);
    const vis = clamp(f.facing * 3, 0, 1);
    if (vis <= 0.05) continue;
    fillEll(cv, f.e, { col: [0.95, 0.94, 0.92], alpha: vis, shaded: true, z: f.z });
    const sclera = f.e;
    const ir = 0.075 * plan.eyeScale;
    const fi = faceEll(proj, x + 0.03 * Math.sin((plan.attrs.yaw * Math.PI) / 180) * 0, eyeY, ir, ir);
    const clip = (cx: number, cy: number) => ellCov(sclera, cx, cy);
    fillEll(cv, fi.e, { col: plan.ident.iris, alpha: vis, shaded: true, z: f.z, clip });
    const fp = faceEll(proj, x, eyeY, ir * 0.45, ir * 0.45);
    fillEll(cv, fp.e, { col: [0.03, 0.03, 0.03], alpha: vis, shaded: true, z: f.z, clip });
    // Upper lid (thicker for women: lashes), lower lid faint.
    const lid = projectPoly(proj, curve(x - ew * 1.05, eyeY, x, eyeY - eh * 1.05, x + ew * 1.05, eyeY));
    strokePoly(cv, lid.pts, Math.max(0.35, px * (man ? 0.014 : 0.022)), {
      col: lidCol,
      alpha: 0.9 * vis,
      shaded: true,
      zs: lid.zs,
    });
    const low = projectPoly(proj, curve(x - ew, eyeY + 0.005, x, eyeY + eh * 0.9, x + ew, eyeY + 0.005));
    strokePoly(cv, low.pts, Math.max(0.3, px * 0.008), {
      col: dark,
      alpha: 0.35 * vis,
      shaded: true,
      zs: low.zs,
    });
  }
  // Brows: inner end, arch, outer end; V-shape when the inner end drops.
  const browY = eyeY - 0.2 * plan.eyeScale * 0.9 - 0.08 * ex.browUp;
  const bt = Math.max(0.5, px * 0.032 * plan.ident.browThick * (0.4 + 0.6 * plan.age.dev));
  for (const side of [-1, 1]) {
    const xi = side * (eyeSep - ew * 0.85), xo = side * (eyeSep + ew * 1.2);
    const yi = browY - 0.1 * ex.browIn, yo = browY + 0.02 - 0.05 * ex.browOut;
    const ym = Math.min(yi, yo) - (man ? 0.02 : 0.045) - 0.03 * Math.max(0, ex.browUp);
    const pl = projectPoly(proj, curve(xi, yi, (xi + xo) / 2, ym, xo, yo));
    strokePoly(cv, pl.pts, bt, { col: plan.browCol, alpha: 0.95, shaded: true, zs: pl.zs });
  }
  // Nostrils.
  const ns = plan.noseScale;
  for (const side of [-1, 1]) {
    const f = faceEll(proj, side * 0.07 * ns, 0.5 + 0.02 * plan.age.dev, 0.035 * ns, 0.02 * ns);
    fillEll(cv, f.e, {
      col: scaleCol(skin, 0.45),
      alpha: 0.7 * clamp(f.facing * 3, 0, 1),
      shaded: true,
      z: f.z + 0.1,
    });
  }
  // Mouth: a lens between an upper and a lower curve.
  const mw = 0.36 * plan.mouthScale * (1 + ex.width);
  const my = plan.mouthY;
  const lift = 0.17 * ex.curv * plan.mouthScale;
  const openH = 0.34 * ex.open * plan.mouthScale;
  const up: number[] = [], lo: number[] = [], mid: number[] = [];
  const N = 10;
  for (let k = 0; k <= N; k++) {
    const t = -1 + (2 * k) / N;
    const x = mw * t;
    const base = my - lift * (t * t - 0.35) - 0.05 * ex.asym * t;
    const bulge = Math.pow(Math.max(0, 1 - t * t), 0.8);
    up.push(x, base - openH * 0.35 * bulge);
    lo.push(x, base + openH * 0.65 * bulge);
    mid.push(x, base);
  }
  const lipHw = Math.max(0.45, px * 0.022 * plan.ident.lipThick * (1 - 0.3 * plan.age.old));
  if (openH > 0.012) {
    const pu = projectPoly(proj, up), pl = projectPoly(proj, lo);
    const poly = [...pu.pts];
    for (let k = pl.pts.length - 2; k >= 0; k -= 2) poly.push(pl.pts[k], pl.pts[k + 1]);
    const z = Math.max(pu.z, pl.z);
    fillPoly(cv, poly, { col: [0.25, 0.05, 0.06], alpha: 0.95, shaded: true, z });
    if (ex.teeth > 0.5) {
      const teeth = up.slice();
      const tl: number[] = [];
      for (let k = 0; k <= N; k++) {
        const t = -1 + (2 * k) / N;
        tl.push(up[2 * k], up[2 * k + 1] + openH * 0.45 * Math.pow(Math.max(0, 1 - t * t), 0.8));
      }
      const pt = projectPoly(proj, teeth), pb = projectPoly(proj, tl);
      const tp = [...pt.pts];
      for (let k = pb.pts.length - 2; k >= 0; k -= 2) tp.push(pb.pts[k], pb.pts[k + 1]);
      fillPoly(cv, tp, { col: [0.93, 0.92, 0.86], alpha: 0.95, shaded: true, z });
    }
    strokePoly(cv, pu.pts, lipHw, { col: plan.lipCol, alpha: 0.9, shaded: true, zs: pu.zs });
    strokePoly(cv, pl.pts, lipHw * 1.2, { col: plan.lipCol, alpha: 0.9, shaded: true, zs: pl.zs });
  } else {
    const pm = projectPoly(proj, mid);
    strokePoly(cv, pm.pts, lipHw * 1.5, { col: plan.lipCol, alpha: 0.85, shaded: true, zs: pm.zs });
    strokePoly(cv, pm.pts, Math.max(0.3, px * 0.008), {
      col: scaleCol(plan.lipCol, 0.45),
      alpha: 0.9,
      shaded: true,
      zs: pm.zs,
    });
  }
}
