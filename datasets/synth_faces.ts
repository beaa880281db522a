/**
 * Procedural synthetic faces: the embedded default datasets, so a fresh machine trains with no download.
 *
 * A face is a small 3-D scene rendered with plain typed-array loops: ellipsoids (cranium, jaw, nose, ears,
 * neck, shoulders, long hair) ray-cast orthographically with a z-buffer and Lambert shading, hair and beard
 * as regions on the head surface, then eyes, brows, mouth, wrinkles and blush drawn as anti-aliased 2-D shapes
 * at projected surface points (z-tested, so a nose hides the far eye at profile). Head yaw/pitch/roll rotate
 * the whole scene, so yaw shows as displaced and compressed features and an asymmetric outline.
 *
 * Attributes: emotion (7, FER2013 order), yaw (degrees, binned into the 5 AFLW classes, docs/original.md §2.4), pitch,
 * roll, gender, age (years, 8 Adience groups), identity, skin tone, lighting, background clutter, noise,
 * occlusion, scale/shift jitter. Each nuisance has one knob in {@link SynthDifficulty}.
 *
 * Three disjoint datasets, each labelled for its own task(s) only and with its own nuisance distribution
 * (domain shift): `synth-emotion` (near-frontal faces), `synth-pose` (mostly neutral/happy faces over all
 * yaws), `synth-age-gender`. The full truth of every row goes to a separate file (see `_embedded_cache.ts`).
 * @module
 */
import { Rng } from "../core/rng.ts";
import type { ImageSet, LoadOptions, TaskName, TaskSpec } from "../core/types.ts";
import {
  configHash,
  type EmbeddedOptions,
  type EmbeddedSource,
  type EmbeddedTruth,
  type GeneratedRows,
  loadRows,
  loadTruth,
  toImageSet,
} from "./_embedded_cache.ts";
import { faceTask } from "./embedded_labels.ts";

/** Bump when the renderer changes, so cached datasets are regenerated. */
export const SYNTH_VERSION = 3;

/** Names of the synthetic datasets. */
export const SYNTH_NAMES = ["synth-emotion", "synth-pose", "synth-age-gender"] as const;
/** A synthetic dataset name. */
export type SynthName = typeof SYNTH_NAMES[number];

/** One knob per nuisance (0 = absent; the defaults per dataset are in {@link SYNTH_PRESETS}). */
export interface SynthDifficulty {
  /** Lowest expression intensity (each face draws one in [this, 1]; 1 = full caricature). */
  expressionIntensity: number;
  /** Std of random per-face deviations of the expression parameters (in units of a full expression). */
  expressionJitter: number;
  /** Probability that a gender cue (hair length, beard, lip colour) contradicts the gender; also age-cue spread. */
  cueNoise: number;
  /** Spread of identity geometry (face width, feature sizes and positions), 0..1. */
  identityVariation: number;
  /** Std of head pitch in degrees. */
  pitch: number;
  /** Std of head roll in degrees. */
  roll: number;
  /** Std of yaw in degrees added to a dataset's own yaw distribution (nuisance yaw for non-pose data). */
  yawJitter: number;
  /** Spread of skin tones, 0 (one tone) .. 1 (light to dark). */
  skinTone: number;
  /** Strength of directional light and brightness variation, 0..1. */
  lighting: number;
  /** Random colour cast, 0..1. */
  colorCast: number;
  /** Background clutter (number and contrast of shapes), 0..1. */
  clutter: number;
  /** Std of additive pixel noise (fraction of full range). */
  noise: number;
  /** Probability of a blur pass. */
  blur: number;
  /** Probability of an occluder (sunglasses, hand, bar). */
  occlusion: number;
  /** Head scale jitter (+- fraction). */
  scaleJitter: number;
  /** Head position jitter (+- fraction of the image side). */
  shiftJitter: number;
}

/** Label distributions and framing of one dataset (the part of the domain that is not a nuisance knob). */
export interface SynthDomain {
  /** Tasks the dataset is labelled for. */
  tasks: TaskName[];
  /** Yaw: class weights over the 5 AFLW bins (uniform within a bin), or a zero-mean normal (degrees). */
  yaw: { bins: number[] } | { std: number };
  /** Weights over the 7 emotions (FER2013 order). */
  emotionWeights: number[];
  /** Weights over the 8 Adience age groups. */
  ageWeights: number[];
  /** Fraction of men. */
  maleFraction: number;
  /** Head half-width as a fraction of the image side (the crop tightness). */
  faceScale: number;
  /** Colour saturation of the final image (0 = gray). */
  saturation: number;
  /** Number of distinct identities (people) in the dataset. */
  identities: number;
  /** Identity ids start here, so datasets never share a person. */
  identityBase: number;
}

/** Defaults of one synthetic dataset. */
export interface SynthPreset {
  domain: SynthDomain;
  difficulty: SynthDifficulty;
  /** Default number of rows. */
  n: number;
}

/** The three datasets: different label sets, different nuisance distributions. */
export const SYNTH_PRESETS: Record<SynthName, SynthPreset> = {
  "synth-emotion": {
    n: 3000,
    domain: {
      tasks: ["emotion"],
      yaw: { std: 12 },
      emotionWeights: [1, 0.7, 1, 1.3, 1, 1, 1.2],
      ageWeights: [0.1, 0.3, 0.6, 1.2, 1.5, 1.2, 0.8, 0.6],
      maleFraction: 0.5,
      faceScale: 0.33,
      saturation: 0.35,
      identities: 900,
      identityBase: 0,
    },
    // Calibrated for the compare default budget (48 px, 1680 training rows, 4 passes, Adam 3e-3): STL
    // emotion 59-78 % test accuracy on data seeds 3 and 1 (docs/data.md); the first defaults (intensity
    // 0.5, jitter 0.18, identity 0.8, pitch 8, roll 7, lighting 0.5, clutter 0.3, noise 0.03, blur 0.3,
    // occlusion 0.08, scale 0.08, shift 0.05) gave 47 % with 6 passes.
    difficulty: {
      expressionIntensity: 1,
      expressionJitter: 0.05,
      cueNoise: 0.15,
      identityVariation: 0.4,
      pitch: 4,
      roll: 4,
      yawJitter: 0,
      skinTone: 0.7,
      lighting: 0.4,
      colorCast: 0.15,
      clutter: 0.2,
      noise: 0.015,
      blur: 0.05,
      occlusion: 0,
      scaleJitter: 0.04,
      shiftJitter: 0.03,
    },
  },
  "synth-pose": {
    n: 3000,
    domain: {
      tasks: ["pose"],
      yaw: { bins: [1.2, 1, 1, 0.9, 0.9] },
      emotionWeights: [0.03, 0.02, 0.03, 0.4, 0.04, 0.03, 0.6],
      ageWeights: [0.05, 0.1, 0.3, 1, 1.5, 1.3, 1, 0.7],
      maleFraction: 0.6,
      faceScale: 0.25,
      saturation: 1,
      identities: 700,
      identityBase: 1_000_000,
    },
    difficulty: {
      expressionIntensity: 0.4,
      expressionJitter: 0.2,
      cueNoise: 0.15,
      identityVariation: 0.9,
      pitch: 14,
      roll: 12,
      yawJitter: 0,
      skinTone: 0.9,
      lighting: 0.8,
      colorCast: 0.25,
      clutter: 0.75,
      noise: 0.04,
      blur: 0.25,
      occlusion: 0.15,
      scaleJitter: 0.15,
      shiftJitter: 0.08,
    },
  },
  "synth-age-gender": {
    n: 3000,
    domain: {
      tasks: ["gender", "age"],
      yaw: { std: 15 },
      emotionWeights: [0.03, 0.02, 0.03, 0.45, 0.04, 0.03, 0.5],
      ageWeights: [1, 1, 1, 1, 1.3, 1, 0.9, 0.9],
      maleFraction: 0.5,
      faceScale: 0.28,
      saturation: 0.85,
      identities: 1200,
      identityBase: 2_000_000,
    },
    difficulty: {
      expressionIntensity: 0.4,
      expressionJitter: 0.2,
      cueNoise: 0.12,
      identityVariation: 0.9,
      pitch: 7,
      roll: 5,
      yawJitter: 0,
      skinTone: 0.8,
      lighting: 0.6,
      colorCast: 0.3,
      clutter: 0.5,
      noise: 0.035,
      blur: 0.35,
      occlusion: 0.1,
      scaleJitter: 0.06,
      shiftJitter: 0.04,
    },
  },
};

/** AFLW pose class of a yaw in degrees, exactly as docs/original.md §2.4 (NaN falls into class 4, as the original). */
export function poseClass(yawDeg: number): number {
  if (Math.abs(yawDeg) < 10) return 0;
  if (yawDeg >= 10 && yawDeg < 60) return 1;
  if (yawDeg > -60 && yawDeg <= -10) return 2;
  if (yawDeg <= -60) return 3;
  return 4;
}

/** Age range (years) of each Adience group; sampling is uniform inside the range. */
export const AGE_GROUP_YEARS: readonly [number, number][] = [
  [0, 2.9],
  [4, 6.9],
  [8, 12.9],
  [15, 20.9],
  [25, 32.9],
  [38, 43.9],
  [48, 53.9],
  [60, 90],
];

/** Yaw range (degrees) of each AFLW bin used when sampling. */
const YAW_BINS: readonly [number, number][] = [[-10, 10], [10, 60], [-60, -10], [-90, -60], [60, 90]];

/** Everything that determines one face image. */
export interface FaceAttributes {
  emotion: number;
  /** Expression intensity in [0, 1]. */
  intensity: number;
  yaw: number;
  pitch: number;
  roll: number;
  /** 0 woman, 1 man. */
  gender: number;
  ageYears: number;
  ageGroup: number;
  identity: number;
}

// ---------------------------------------------------------------------------------------------------
// Expressions

/** Expression parameters (deltas from neutral at full intensity). */
interface Expr {
  curv: number; // mouth corner lift (+ smile)
  open: number; // mouth opening
  width: number; // mouth width factor - 1
  asym: number; // one-sided corner lift
  teeth: number; // 1 = show teeth when open
  browIn: number; // inner brow end lift (+ up)
  browOut: number; // outer brow end lift
  browUp: number; // whole brow lift
  eye: number; // eye openness factor - 1
}

const EXPRESSIONS: Expr[] = [
  // angry: lowered V brows, narrowed eyes, pressed slightly down-turned lips
  {
    curv: -0.25,
    open: 0.05,
    width: -0.15,
    asym: 0,
    teeth: 1,
    browIn: -0.8,
    browOut: 0.15,
    browUp: -0.35,
    eye: -0.35,
  },
  // disgust: one corner raised, upper lip up, lowered brows, squint
  {
    curv: -0.3,
    open: 0.2,
    width: -0.05,
    asym: 0.55,
    teeth: 1,
    browIn: -0.45,
    browOut: -0.1,
    browUp: -0.2,
    eye: -0.45,
  },
  // fear: raised inner brows, wide eyes, stretched half-open mouth
  {
    curv: -0.2,
    open: 0.45,
    width: 0.2,
    asym: 0,
    teeth: 0.5,
    browIn: 0.7,
    browOut: 0,
    browUp: 0.45,
    eye: 0.45,
  },
  // happy: smile, slightly narrowed eyes
  {
    curv: 0.8,
    open: 0.45,
    width: 0.2,
    asym: 0,
    teeth: 1,
    browIn: 0.05,
    browOut: 0.05,
    browUp: 0.05,
    eye: -0.2,
  },
  // sad: down-turned mouth, raised inner brows, droopy eyes
  { curv: -0.65, open: 0, width: -0.1, asym: 0, teeth: 0, browIn: 0.6, browOut: -0.3, browUp: 0, eye: -0.25 },
  // surprise: round open mouth, high arched brows, wide eyes
  { curv: 0, open: 1, width: -0.35, asym: 0, teeth: 0, browIn: 0.3, browOut: 0.3, browUp: 0.75, eye: 0.5 },
  // neutral
  { curv: 0, open: 0, width: 0, asym: 0, teeth: 0, browIn: 0, browOut: 0, browUp: 0, eye: 0 },
];

// ---------------------------------------------------------------------------------------------------
// Sampling

function pickWeighted(rng: Rng, w: number[]): number {
  const s = w.reduce((a, b) => a + b, 0);
  let r = rng.next() * s;
  for (let i = 0; i < w.length; i++) {
    r -= w[i];
    if (r < 0) return i;
  }
  return w.length - 1;
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

type Col = [number, number, number];

function mix(a: Col, b: Col, t: number): Col {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

function scaleCol(a: Col, k: number): Col {
  return [a[0] * k, a[1] * k, a[2] * k];
}

const SKIN: Col[] = [[0.97, 0.83, 0.72], [0.88, 0.67, 0.52], [0.7, 0.5, 0.36], [0.42, 0.28, 0.2]];
const HAIR: Col[] = [[0.07, 0.05, 0.04], [0.22, 0.13, 0.07], [0.42, 0.27, 0.14], [0.82, 0.66, 0.38], [
  0.55,
  0.22,
  0.09,
]];
const IRIS: Col[] = [[0.25, 0.14, 0.07], [0.12, 0.08, 0.05], [0.25, 0.42, 0.62], [0.3, 0.45, 0.3]];

/** Per-person constants (drawn from the identity id alone). */
interface Identity {
  gender: number;
  skin: Col;
  hair: Col;
  iris: Col;
  longHair: boolean;
  beardProne: boolean;
  hairlineFront: number;
  width: number;
  jawWidth: number;
  jawLength: number;
  eyeSep: number;
  eyeSize: number;
  eyeY: number;
  browThick: number;
  noseSize: number;
  mouthWidth: number;
  lipThick: number;
  mouthY: number;
}

function makeIdentity(id: number, domain: SynthDomain, d: SynthDifficulty, seedRng: Rng): Identity {
  const r = seedRng.derive(`identity:${id}`);
  const v = d.identityVariation;
  const gender = r.next() < domain.maleFraction ? 1 : 0;
  const j = (s: number) => r.normal(0, s * v);
  // Skin: a point on the light..dark palette; the knob widens the range around the middle.
  const st = clamp(0.35 + (r.next() - 0.5) * 2 * 0.65 * d.skinTone, 0, 1) * (SKIN.length - 1);
  const si = Math.min(Math.floor(st), SKIN.length - 2);
  const skin = mix(SKIN[si], SKIN[si + 1], st - si);
  const hair = HAIR[pickWeighted(r, [3, 3, 2, 1.2, 0.5])];
  const iris = IRIS[pickWeighted(r, [3, 3, 1, 1])];
  const cueFlip = r.next() < d.cueNoise;
  const longHair = (gender === 0) !== cueFlip ? r.next() < 0.85 : r.next() < 0.1;
  return {
    gender,
    skin,
    hair,
    iris,
    longHair,
    beardProne: gender === 1 ? r.next() < 0.5 : cueFlip && r.next() < 0.15,
    hairlineFront: -0.62 + j(0.08),
    width: 1 + j(0.05),
    jawWidth: (gender === 1 ? 1.02 : 0.92) + j(0.06),
    jawLength: (gender === 1 ? 1.0 : 0.95) + j(0.06),
    eyeSep: 0.37 + j(0.03),
    eyeSize: 1 + j(0.1),
    eyeY: j(0.03),
    browThick: (gender === 1 ? 1.35 : 0.85) * (1 + j(0.2)),
    noseSize: (gender === 1 ? 1.08 : 0.95) * (1 + j(0.12)),
    mouthWidth: 1 + j(0.1),
    lipThick: (gender === 1 ? 0.9 : 1.15) * (1 + j(0.15)),
    mouthY: j(0.03),
  };
}

/** Draw the attributes of one row. */
function sampleAttributes(
  r: Rng,
  domain: SynthDomain,
  d: SynthDifficulty,
  identity: Identity,
  id: number,
): FaceAttributes {
  const emotion = pickWeighted(r, domain.emotionWeights);
  const intensity = emotion === 6 ? 0 : r.uniform(d.expressionIntensity, 1);
  let yaw: number;
  if ("bins" in domain.yaw) {
    const [lo, hi] = YAW_BINS[pickWeighted(r, domain.yaw.bins)];
    yaw = r.uniform(lo, hi);
  } else {
    yaw = clamp(r.normal(0, domain.yaw.std), -89, 89);
  }
  yaw = clamp(yaw + (d.yawJitter > 0 ? r.normal(0, d.yawJitter) : 0), -89.9, 89.9);
  const ageGroup = pickWeighted(r, domain.ageWeights);
  const [a0, a1] = AGE_GROUP_YEARS[ageGroup];
  return {
    emotion,
    intensity,
    yaw,
    pitch: clamp(r.normal(0, d.pitch), -35, 35),
    roll: clamp(r.normal(0, d.roll), -35, 35),
    gender: identity.gender,
    ageYears: r.uniform(a0, a1),
    ageGroup,
    identity: id,
  };
}

// ---------------------------------------------------------------------------------------------------
// Rendering primitives (pixel coordinates, RGB floats in [0, 1])

interface Canvas {
  size: number;
  rgb: Float32Array;
  /** Lambert shade of the surface under each pixel (1 for background). */
  shade: Float32Array;
  /** Front-most surface depth (view z, head units); -inf for background. */
  z: Float32Array;
}

/** A 2-D ellipse as a quadratic form around a centre, with its bounding box half-extents. */
interface Ell {
  cx: number;
  cy: number;
  q11: number;
  q12: number;
  q22: number;
  ex: number;
  ey: number;
}

/** Ellipse from conjugate semi-axes A and B (the images of the unit circle's axes). */
function ellFromAxes(cx: number, cy: number, ax: number, ay: number, bx: number, by: number): Ell {
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

function ellFromQ(cx: number, cy: number, q11: number, q12: number, q22: number): Ell {
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
function ellCov(e: Ell, x: number, y: number): number {
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
interface Paint {
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

function fillEll(cv: Canvas, e: Ell, p: Paint): void {
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
function strokePoly(cv: Canvas, pts: number[], hw: number, p: Paint): void {
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

function fillPoly(cv: Canvas, pts: number[], p: Paint): void {
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

// ---------------------------------------------------------------------------------------------------
// 3-D head: rotation, surface, projection

type Mat3 = [number, number, number, number, number, number, number, number, number];

/** R = Rz(roll) Rx(pitch) Ry(yaw); yaw > 0 turns the face towards +x (image right), pitch > 0 looks up. */
function rotation(yawDeg: number, pitchDeg: number, rollDeg: number): Mat3 {
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

function rot(R: Mat3, x: number, y: number, z: number): [number, number, number] {
  return [R[0] * x + R[1] * y + R[2] * z, R[3] * x + R[4] * y + R[5] * z, R[6] * x + R[7] * y + R[8] * z];
}

function rotT(R: Mat3, x: number, y: number, z: number): [number, number, number] {
  return [R[0] * x + R[3] * y + R[6] * z, R[1] * x + R[4] * y + R[7] * z, R[2] * x + R[5] * y + R[8] * z];
}

/** Surface materials. */
enum Mat {
  Skin,
  /** Skin carrying scalp hair and beard regions. */
  Head,
  Hair,
  Cloth,
}

interface Ellipsoid {
  /** Centre and semi-axes in head (or body) coordinates. */
  c: [number, number, number];
  r: [number, number, number];
  col: Col;
  mat: Mat;
  body?: boolean;
}

/** A ray-castable ellipsoid in view space (head units, head centre at origin). */
interface ViewEllipsoid {
  src: Ellipsoid;
  R: Mat3;
  cx: number;
  cy: number;
  cz: number;
  q: Mat3;
  sil: Ell;
}

function toView(e: Ellipsoid, R: Mat3): ViewEllipsoid {
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
interface Scene {
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
function projectPoly(scene: Scene, pts: number[]): { pts: number[]; zs: number[]; z: number } {
  const out: number[] = [], zs: number[] = [];
  for (let k = 0; k < pts.length; k += 2) {
    const [px, py, pz] = projectFace(scene, pts[k], pts[k + 1]);
    out.push(px, py);
    zs.push(pz);
  }
  return { pts: out, zs, z: Math.max(...zs) };
}

/** A small ellipse lying on the face surface at (x, y) with semi-axes (rx, ry) in head units, tilted by `tilt`. */
function faceEll(
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

// ---------------------------------------------------------------------------------------------------
// Scene construction and rendering

interface FacePlan {
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

function randCol(r: Rng): Col {
  return [r.next(), r.next(), r.next()];
}

function planFace(
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
  // Expression: prototype scaled by intensity, plus per-face jitter.
  const base = EXPRESSIONS[attrs.emotion];
  const k = attrs.intensity, jit = d.expressionJitter;
  const ex: Expr = {
    curv: base.curv * k + r.normal(0, 0.25 * jit),
    open: Math.max(0, base.open * k + r.normal(0, 0.12 * jit)),
    width: base.width * k + r.normal(0, 0.15 * jit),
    asym: base.asym * k * (r.next() < 0.5 ? 1 : -1) + r.normal(0, 0.15 * jit),
    teeth: base.teeth,
    browIn: base.browIn * k + r.normal(0, 0.3 * jit),
    browOut: base.browOut * k + r.normal(0, 0.2 * jit),
    browUp: base.browUp * k + r.normal(0, 0.25 * jit),
    eye: base.eye * k + r.normal(0, 0.2 * jit),
  };
  if (attrs.emotion === 3 && r.next() < 0.4) ex.open *= 0.15; // closed-mouth smiles
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

/** Ray-cast the ellipsoids with a z-buffer, Lambert shading, scalp hair and beard regions. */
function drawBody(cv: Canvas, plan: FacePlan): void {
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

function drawFeatures(cv: Canvas, plan: FacePlan): void {
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
function renderPlan(plan: FacePlan, size: number, r: Rng, out: Uint8Array, offset: number): void {
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

// ---------------------------------------------------------------------------------------------------
// Datasets

/** Options of the synthetic generator. */
export interface SynthOptions {
  seed: number;
  /** Image side in pixels. */
  size: number;
  /** Rows (default from the preset). */
  n?: number;
  /** Overrides of the preset's nuisance knobs. */
  difficulty?: Partial<SynthDifficulty>;
}

/** A generated synthetic dataset: pixels, own labels, and the full truth of every row. */
export interface SynthData {
  rows: GeneratedRows;
  truth: EmbeddedTruth;
}

/** The full knob set of a dataset after overrides. */
export function synthDifficulty(name: SynthName, overrides?: Partial<SynthDifficulty>): SynthDifficulty {
  const d = { ...SYNTH_PRESETS[name].difficulty, ...overrides };
  for (const [k, v] of Object.entries(d)) {
    if (!(typeof v === "number" && Number.isFinite(v) && v >= 0)) {
      throw new RangeError(`synth difficulty ${k} must be a finite number >= 0, got ${v}`);
    }
  }
  return d;
}

function checkName(name: string): SynthName {
  if (!(SYNTH_NAMES as readonly string[]).includes(name)) {
    throw new Error(`unknown synthetic dataset "${name}"; expected one of ${SYNTH_NAMES.join(", ")}`);
  }
  return name as SynthName;
}

/**
 * Generate a synthetic dataset in memory (deterministic from name, seed and knobs; row i does not depend on n
 * or on the image size except through the pixel grid).
 */
export function generateSynth(name: string, opts: SynthOptions): SynthData {
  const nm = checkName(name);
  const preset = SYNTH_PRESETS[nm];
  const n = opts.n ?? preset.n;
  const size = opts.size;
  if (!(Number.isInteger(size) && size >= 8 && size <= 1024)) {
    throw new RangeError(`synth: size must be an integer in [8, 1024], got ${size}`);
  }
  if (!(Number.isInteger(n) && n >= 1)) throw new RangeError(`synth: n must be a positive integer, got ${n}`);
  const d = synthDifficulty(nm, opts.difficulty);
  const domain = preset.domain;
  const root = new Rng(opts.seed).derive(`synth:${nm}`);
  const idRoot = new Rng(opts.seed).derive("synth-identities");
  const rgb = new Uint8Array(n * size * size * 3);
  const truth = {
    emotion: new Int32Array(n),
    pose: new Int32Array(n),
    gender: new Int32Array(n),
    age: new Int32Array(n),
  };
  const attr = {
    yaw: new Float32Array(n),
    pitch: new Float32Array(n),
    roll: new Float32Array(n),
    ageYears: new Float32Array(n),
    identity: new Float32Array(n),
    intensity: new Float32Array(n),
  };
  const identities = new Map<number, Identity>();
  for (let i = 0; i < n; i++) {
    const r = root.derive(`row:${i}`);
    const id = domain.identityBase + r.int(domain.identities);
    let ident = identities.get(id);
    if (!ident) {
      ident = makeIdentity(id, domain, d, idRoot);
      identities.set(id, ident);
    }
    const a = sampleAttributes(r, domain, d, ident, id);
    const plan = planFace(a, ident, r, domain, d);
    renderPlan(plan, size, r, rgb, i * size * size * 3);
    truth.emotion[i] = a.emotion;
    truth.pose[i] = poseClass(a.yaw);
    truth.gender[i] = a.gender;
    truth.age[i] = a.ageGroup;
    attr.yaw[i] = a.yaw;
    attr.pitch[i] = a.pitch;
    attr.roll[i] = a.roll;
    attr.ageYears[i] = a.ageYears;
    attr.identity[i] = a.identity;
    attr.intensity[i] = a.intensity;
  }
  const own: Partial<Record<TaskName, Int32Array>> = {};
  for (const t of domain.tasks) own[t] = truth[t as keyof typeof truth].slice();
  return {
    rows: { n, size, rgb, labels: own },
    truth: { dataset: nm, n, labels: truth, attributes: attr },
  };
}

/** Task specs a synthetic dataset is labelled for. */
export function synthTasks(name: string): TaskSpec[] {
  return SYNTH_PRESETS[checkName(name)].domain.tasks.map((t) => faceTask(t));
}

/** Options of {@link loadSynth}. */
export type SynthLoadOptions = LoadOptions & EmbeddedOptions & { difficulty?: Partial<SynthDifficulty> };

function source(name: string, opts: SynthLoadOptions): EmbeddedSource {
  const nm = checkName(name);
  const n = opts.size ?? SYNTH_PRESETS[nm].n;
  const d = synthDifficulty(nm, opts.difficulty);
  const key = {
    name: nm,
    seed: opts.seed,
    size: opts.imageSize,
    n,
    hash: configHash({ v: SYNTH_VERSION, d, domain: SYNTH_PRESETS[nm].domain }),
  };
  return {
    kind: "synth",
    key,
    generate: () =>
      generateSynth(nm, { seed: opts.seed, size: opts.imageSize, n, difficulty: opts.difficulty }),
  };
}

/** Load (generate or read from `.cache/synth/`) a synthetic dataset as an {@link ImageSet}; never reads the truth file. */
export async function loadSynth(name: string, opts: SynthLoadOptions): Promise<ImageSet> {
  const rows = await loadRows(source(name, opts), opts);
  return toImageSet(name, rows, { ...opts, tasks: synthTasks(name) });
}

/** The hidden truth of every row (all four face tasks plus yaw, pitch, roll, age in years, identity). */
export function loadSynthTruth(name: string, opts: SynthLoadOptions): Promise<EmbeddedTruth> {
  return loadTruth(source(name, opts), opts);
}
