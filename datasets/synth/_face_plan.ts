/**
 * The plan of one face: every random choice of a row after its attributes (age cues, expression, hair,
 * head geometry as ellipsoids, light, framing, background clutter, colour cast, blur, occluder), drawn from
 * the row's stream in a fixed order. Planning is separate from drawing so the renderer is a pure function
 * of the plan and the image size, which is why a row looks the same at 48 and at 64 px.
 * @module
 */
import type { Rng } from "../../core/rng.ts";
import { type Expr, faceExpression } from "./_expressions.ts";
import type { FaceAttributes } from "./_face_attributes.ts";
import { Mat, rotation, type Scene } from "./_head_3d.ts";
import type { Identity } from "./_identities.ts";
import { clamp, type Col, mix, randCol, scaleCol } from "./_math.ts";
import type { SynthDifficulty, SynthDomain } from "./_presets.ts";

/** Everything that decides the pixels of one face (besides the image size and the final pixel noise). */
export interface FacePlan {
  scene: Scene;
  attrs: FaceAttributes;
  ident: Identity;
  expr: Expr;
  age: { dev: number; old: number; wrinkles: number; grey: number };
  lipCol: Col;
  browCol: Col;
  eyeScale: number;
  eyeY: number;
  mouthY: number;
  noseScale: number;
  mouthScale: number;
  nuis: {
    bg: Col;
    bg2: Col;
    bgAngle: number;
    clutter: { kind: number; pts: number[]; col: Col; alpha: number }[];
    cast: Col;
    gain: number;
    contrast: number;
    blur: boolean;
    noise: number;
    occluder: number;
    occCol: Col;
    occParams: number[];
    saturation: number;
    cloth: Col;
  };
}

/** Plan one face (draws from `r`: the stream order is part of the dataset). */
export function planFace(
  attrs: FaceAttributes,
  ident: Identity,
  r: Rng,
  domain: SynthDomain,
  d: SynthDifficulty,
): FacePlan {
  const A = attrs.ageYears;
  const dev = clamp(A / 20, 0, 1);
  // Adult maturation (longer jaw, thinner cheeks) continues into the late twenties.
  const mature = clamp((A - 14) / 16, 0, 1);
  const old = clamp((A - 35) / 40, 0, 1);
  const cueJ = () => r.normal(0, 0.5 * d.cueNoise);
  const wrinkles = A < 26 ? 0 : clamp(Math.pow((A - 26) / 40, 1.1) + cueJ(), 0, 1);
  const grey = clamp((A - 36) / 28 + cueJ(), 0, 1);
  // Expression: drawn here, between the age cues and the hair, because the row's random stream is shared.
  const ex = faceExpression(attrs.emotion, attrs.intensity, d.expressionJitter, r);
  const man = ident.gender === 1;
  // Hair: babies have sparse hair; grey and receding with age.
  const hairCol = mix(ident.hair, A > 65 ? [0.9, 0.9, 0.88] : [0.62, 0.61, 0.6], grey);
  const babyHair = A < 3 ? r.uniform(0.25, 0.8) : 1;
  const recede = man && A > 35 ? r.next() * clamp((A - 35) / 30, 0, 1) * 0.55 : 0;
  const longHair = ident.longHair && A > 3;
  const jawW = (ident.jawWidth * (0.9 + 0.1 * dev) + (man ? 0.05 * mature : 0)) * ident.width;
  const jawL = ident.jawLength * (0.62 + 0.3 * dev + 0.08 * mature) * (1 + 0.04 * old);
  const skin = mix(ident.skin, scaleCol(ident.skin, 0.93), old * 0.5);
  const s = domain.faceScale * (1 + r.uniform(-d.scaleJitter, d.scaleJitter)) * (1.08 - 0.1 * dev);
  const sizeShift = (v: number) => r.uniform(-d.shiftJitter, d.shiftJitter) + v;
  const scene: Scene = {
    R: rotation(attrs.yaw, attrs.pitch, attrs.roll),
    ox: sizeShift(0.5),
    oy: sizeShift(0.5 - 0.04 * dev),
    s,
    light: [0, 0, 1],
    ambient: 0.5,
    skin,
    hair: hairCol,
    hairDensity: babyHair,
    hairFront: ident.hairlineFront * (0.75 + 0.25 * dev) + (A < 3 ? 0.2 : 0) - recede,
    hairSide: longHair ? 0.45 : -0.1 + r.normal(0, 0.05),
    hairBack: longHair ? 1.0 : 0.55,
    hairWave: r.uniform(0, 6.28),
    beard: ident.beardProne && A >= 17 ? r.uniform(0.2, 0.75) * (r.next() < 0.7 ? 1 : 0) : 0,
    beardCol: mix(scaleCol(ident.hair, 0.9), [0.75, 0.75, 0.73], grey),
    ellipsoids: [],
  };
  // Light: direction and strength from the lighting knob.
  const la = r.uniform(0, 2 * Math.PI), ls = r.uniform(0, 1.6 * d.lighting);
  const L = [Math.cos(la) * ls, Math.sin(la) * ls * 0.7, 1];
  const ln = Math.hypot(L[0], L[1], L[2]);
  scene.light = [L[0] / ln, L[1] / ln, L[2] / ln];
  scene.ambient = clamp(0.55 - 0.2 * d.lighting + r.normal(0, 0.04), 0.2, 0.8);
  const cloth = randCol(r);
  const noseS = ident.noseSize * (0.55 + 0.45 * dev) * (1 + 0.08 * old);
  scene.ellipsoids = [
    { c: [0, 0, 0], r: [ident.width, 1.18, 1.12], col: skin, mat: Mat.Head },
    { c: [0, 0.5, 0.12], r: [0.8 * jawW, 0.7 * jawL, 0.88], col: skin, mat: Mat.Head },
    {
      c: [0, 0.3 + 0.02 * dev, 0.95],
      r: [0.14 * noseS, 0.26 * noseS, 0.2 * noseS],
      col: skin,
      mat: Mat.Skin,
    },
    { c: [-0.97 * ident.width, 0.12, -0.05], r: [0.1, 0.24, 0.15], col: scaleCol(skin, 0.95), mat: Mat.Skin },
    { c: [0.97 * ident.width, 0.12, -0.05], r: [0.1, 0.24, 0.15], col: scaleCol(skin, 0.95), mat: Mat.Skin },
    {
      c: [0, 1.35, -0.25],
      r: [0.52 * (0.8 + 0.2 * dev), 0.75, 0.5],
      col: scaleCol(skin, 0.88),
      mat: Mat.Skin,
      body: true,
    },
    { c: [0, 2.5, -0.3], r: [2.1, 0.85, 0.9], col: cloth, mat: Mat.Cloth, body: true },
  ];
  if (longHair) {
    // Hair falls behind the neck and beside the face, never in front of the chin.
    const hl = r.uniform(1, 1.3);
    scene.ellipsoids.push({
      c: [0, 0.3, -0.55],
      r: [1.12 * ident.width, 1.2 * hl, 0.7],
      col: hairCol,
      mat: Mat.Hair,
    });
    for (const side of [-1, 1]) {
      scene.ellipsoids.push({
        c: [side * 0.8 * ident.width, 0.55, -0.3],
        r: [0.42, 1.05 * hl, 0.55],
        col: hairCol,
        mat: Mat.Hair,
      });
    }
  }
  // Background, clutter and post-processing nuisances.
  const bg = randCol(r), bg2 = mix(bg, randCol(r), 0.6);
  const clutter: FacePlan["nuis"]["clutter"] = [];
  const nClutter = Math.round(d.clutter * r.uniform(3, 12));
  for (let i = 0; i < nClutter; i++) {
    const kind = r.int(3);
    const cx = r.next(), cy = r.next(), sz = r.uniform(0.05, 0.35);
    let pts: number[];
    if (kind === 0) pts = [cx, cy, sz, sz * r.uniform(0.3, 1)];
    else if (kind === 1) {
      pts = [];
      const m = 3 + r.int(3);
      for (let j = 0; j < m; j++) {
        const a = (j / m) * 2 * Math.PI + r.uniform(-0.3, 0.3);
        pts.push(cx + Math.cos(a) * sz, cy + Math.sin(a) * sz);
      }
    } else pts = [r.next(), r.next(), r.next(), r.next(), r.uniform(0.005, 0.03)];
    clutter.push({ kind, pts, col: randCol(r), alpha: clamp(d.clutter * r.uniform(0.4, 1.1), 0, 1) });
  }
  const cast: Col = [
    1 + r.normal(0, 0.12 * d.colorCast),
    1 + r.normal(0, 0.12 * d.colorCast),
    1 + r.normal(0, 0.12 * d.colorCast),
  ];
  const occluder = r.next() < d.occlusion ? 1 + r.int(3) : 0;
  const occParams = [r.next(), r.next(), r.next(), r.next()];
  return {
    scene,
    attrs,
    ident,
    expr: ex,
    age: { dev, old, wrinkles, grey },
    lipCol: man
      ? mix(skin, [0.6, 0.3, 0.3], 0.35)
      : mix(skin, [0.75, 0.2, 0.25], r.next() < d.cueNoise ? 0.3 : 0.6),
    browCol: mix(scaleCol(ident.hair, 0.8), skin, A < 3 ? 0.7 : 0.15),
    eyeScale: ident.eyeSize * (1 + 0.45 * Math.pow(1 - dev, 1.3)),
    eyeY: ident.eyeY + 0.15 * (1 - dev),
    mouthY: 0.78 * (0.8 + 0.2 * dev) + ident.mouthY + 0.05 * (jawL - 1),
    noseScale: noseS,
    mouthScale: ident.mouthWidth * (0.7 + 0.3 * dev),
    nuis: {
      bg,
      bg2,
      bgAngle: r.uniform(0, 2 * Math.PI),
      clutter,
      cast,
      gain: 1 + r.normal(0, 0.12 * d.lighting),
      contrast: 1 + r.normal(0, 0.1 * d.lighting),
      blur: r.next() < d.blur,
      noise: d.noise,
      occluder,
      occCol: randCol(r),
      occParams,
      saturation: domain.saturation,
      cloth,
    },
  };
}
