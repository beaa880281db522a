/**
 * The three synthetic datasets as data: their names, the nuisance knobs ({@link SynthDifficulty}), the label
 * distributions and framing of each domain ({@link SynthDomain}), and the calibrated defaults
 * ({@link SYNTH_PRESETS}), plus the checks on names and knob overrides. Kept free of rendering code so the
 * calibration can be read and tuned in one place; the preset objects feed the cache key (`configHash`), so
 * their key order matters as much as their values.
 * @module
 */
import type { TaskName } from "../../core/types.ts";

/** Bump when the renderer changes, so cached datasets are regenerated. */
export const SYNTH_VERSION = 4;

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
  /**
   * Std (degrees) of the annotator's error on yaw: the pose label bins the drawn yaw plus this error while
   * the image shows the drawn yaw, as AFLW's labels come from a 3-D fit to hand-placed landmarks. Flips
   * only rows near a bin edge; the images do not change with it (docs/data.md measures it).
   */
  yawLabelNoise: number;
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
  yaw:
    | { bins: number[] }
    | { std: number }
    /** A mixture: each row is drawn from the zero-mean normal with probability `normalShare`, else from the bins. */
    | { bins: number[]; std: number; normalShare: number };
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
  /** Label distributions and framing. */
  domain: SynthDomain;
  /** Default nuisance knobs. */
  difficulty: SynthDifficulty;
  /** Default number of rows. */
  n: number;
}

/**
 * The emotion/pose pair is one face space with a controlled domain shift (issue 16): at shift 0 both datasets
 * draw faces from {@link PAIR_CENTER} (same label distributions, same nuisances, different people); at shift
 * s every number moves a fraction s of the way towards that dataset's end in {@link PAIR_ENDS}: the emotion
 * dataset towards near-frontal faces (yaw from a normal of std 16 deg), full-strength expressions and an
 * "in the wild" look (background clutter, strong lighting, colour cast, noise); the pose dataset towards yaws
 * from the five AFLW bins (profiles included), weaker expressions and more neutral/happy faces, on clean
 * backgrounds in even light. Each teacher meets on the other dataset what it never saw: the emotion teacher
 * profiles and weak expressions, the pose teacher clutter and harsh light. The ends were chosen by measuring
 * both teachers' transfer (bench/shift_curve.sh, docs/data.md), never by which method wins. The default 0.8 is
 * the shift at which teachers trained to near their plateau still meet a real shift (both gaps above 10 pp, both
 * transfers above 60 %); at 0.6 they close most of it (docs/data.md).
 */
export const DEFAULT_DOMAIN_SHIFT = 0.8;

/** Std (degrees) of the normal yaw component of the pair: near-frontal faces, many near the ±10 deg bin edges. */
const PAIR_YAW_STD = 16;

/**
 * Std (degrees) of the annotator's yaw error on both datasets of the pair (the same at every shift): the pose
 * labels, and the hidden pose truth the teachers are scored on, bin the drawn yaw plus this error, as AFLW's
 * labels come from a 3-D fit to hand-placed landmarks. Without it the network reads the rendered yaw to within
 * about 2 deg and STL pose ends at 94-96 %, above the 70-90 % that issue 16 asks of STL; with 6 deg it ends at
 * about 82-85 % and the pose teacher still transfers above 60 % with a gap above 10 pp (docs/data.md).
 */
const PAIR_YAW_LABEL_NOISE = 6;

/** The numeric part of a dataset's defaults: what the domain shift interpolates. */
interface PairPoint {
  yawBins: number[];
  /** Share of rows whose yaw is drawn from a zero-mean normal of std {@link PAIR_YAW_STD} instead of the bins. */
  yawNormalShare: number;
  emotionWeights: number[];
  ageWeights: number[];
  maleFraction: number;
  faceScale: number;
  saturation: number;
  difficulty: SynthDifficulty;
}

/** Shift 0: the face distribution both datasets share. */
const PAIR_CENTER: PairPoint = {
  yawBins: [1.6, 1.2, 1.2, 0.6, 0.6],
  yawNormalShare: 0.5,
  emotionWeights: [1, 0.8, 1, 1.2, 1, 1, 1.2],
  ageWeights: [0.05, 0.2, 0.45, 1.1, 1.5, 1.25, 0.9, 0.65],
  maleFraction: 0.55,
  faceScale: 0.31,
  saturation: 0.7,
  difficulty: {
    expressionIntensity: 0.9,
    expressionJitter: 0.045,
    cueNoise: 0.15,
    identityVariation: 0.55,
    pitch: 4.5,
    roll: 4.5,
    yawJitter: 0,
    yawLabelNoise: PAIR_YAW_LABEL_NOISE,
    skinTone: 0.8,
    lighting: 0.475,
    colorCast: 0.2,
    clutter: 0.45,
    noise: 0.0225,
    blur: 0.035,
    occlusion: 0.0,
    scaleJitter: 0.05,
    shiftJitter: 0.04,
  },
};

/** Shift 1: where each dataset of the pair ends up. */
const PAIR_ENDS: Record<"synth-emotion" | "synth-pose", PairPoint> = {
  "synth-emotion": {
    yawBins: [1.6, 1.2, 1.2, 0.6, 0.6],
    yawNormalShare: 1,
    emotionWeights: [1, 0.8, 1, 1.2, 1, 1, 1.2],
    ageWeights: [0.1, 0.3, 0.6, 1.2, 1.5, 1.2, 0.8, 0.6],
    maleFraction: 0.5,
    faceScale: 0.32,
    saturation: 0.3,
    difficulty: {
      expressionIntensity: 1,
      expressionJitter: 0.03,
      cueNoise: 0.15,
      identityVariation: 0.4,
      pitch: 5,
      roll: 5,
      yawJitter: 0,
      yawLabelNoise: PAIR_YAW_LABEL_NOISE,
      skinTone: 0.7,
      lighting: 0.8,
      colorCast: 0.35,
      clutter: 0.9,
      noise: 0.04,
      blur: 0.05,
      occlusion: 0,
      scaleJitter: 0.05,
      shiftJitter: 0.04,
    },
  },
  "synth-pose": {
    yawBins: [1.6, 1.2, 1.2, 0.6, 0.6],
    yawNormalShare: 0,
    emotionWeights: [0.8, 0.6, 0.8, 1.4, 0.9, 0.9, 1.5],
    ageWeights: [0.05, 0.1, 0.3, 1, 1.5, 1.3, 1, 0.7],
    maleFraction: 0.6,
    faceScale: 0.3,
    saturation: 1,
    difficulty: {
      expressionIntensity: 0.8,
      expressionJitter: 0.06,
      cueNoise: 0.15,
      identityVariation: 0.7,
      pitch: 4,
      roll: 4,
      yawJitter: 0,
      yawLabelNoise: PAIR_YAW_LABEL_NOISE,
      skinTone: 0.9,
      lighting: 0.15,
      colorCast: 0.05,
      clutter: 0,
      noise: 0.005,
      blur: 0.02,
      occlusion: 0,
      scaleJitter: 0.05,
      shiftJitter: 0.04,
    },
  },
};

/** The two datasets of the shifted pair. */
export const PAIR_NAMES = ["synth-emotion", "synth-pose"] as const;

const lerp = (a: number, b: number, t: number) => a + (b - a) * t;
const lerpAll = (a: number[], b: number[], t: number) => a.map((v, i) => lerp(v, b[i], t));

/** Defaults of a pair dataset at domain shift `shift` in [0, 1]. */
function pairPreset(name: "synth-emotion" | "synth-pose", shift: number): SynthPreset {
  if (!(shift >= 0 && shift <= 1)) throw new RangeError(`domain shift must be in [0, 1], got ${shift}`);
  const c = PAIR_CENTER, e = PAIR_ENDS[name];
  const difficulty = Object.fromEntries(
    Object.entries(c.difficulty).map((
      [k, v],
    ) => [k, lerp(v, e.difficulty[k as keyof SynthDifficulty], shift)]),
  ) as unknown as SynthDifficulty;
  return {
    n: 3000,
    domain: {
      tasks: [name === "synth-emotion" ? "emotion" : "pose"],
      yaw: {
        bins: lerpAll(c.yawBins, e.yawBins, shift),
        std: PAIR_YAW_STD,
        normalShare: lerp(c.yawNormalShare, e.yawNormalShare, shift),
      },
      emotionWeights: lerpAll(c.emotionWeights, e.emotionWeights, shift),
      ageWeights: lerpAll(c.ageWeights, e.ageWeights, shift),
      maleFraction: lerp(c.maleFraction, e.maleFraction, shift),
      faceScale: lerp(c.faceScale, e.faceScale, shift),
      saturation: lerp(c.saturation, e.saturation, shift),
      identities: name === "synth-emotion" ? 900 : 700,
      identityBase: name === "synth-emotion" ? 0 : 1_000_000,
    },
    difficulty,
  };
}

/** The defaults of a dataset; the emotion/pose pair at `domainShift` (default {@link DEFAULT_DOMAIN_SHIFT}). */
export function synthPreset(name: SynthName, domainShift?: number): SynthPreset {
  if (name === "synth-emotion" || name === "synth-pose") {
    return pairPreset(name, domainShift ?? DEFAULT_DOMAIN_SHIFT);
  }
  return SYNTH_PRESETS[name];
}

/** The three datasets at their defaults (the pair at {@link DEFAULT_DOMAIN_SHIFT}). */
export const SYNTH_PRESETS: Record<SynthName, SynthPreset> = {
  "synth-emotion": pairPreset("synth-emotion", DEFAULT_DOMAIN_SHIFT),
  "synth-pose": pairPreset("synth-pose", DEFAULT_DOMAIN_SHIFT),
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
      yawLabelNoise: 0,
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

/** The full knob set of a dataset after overrides. */
export function synthDifficulty(
  name: SynthName,
  overrides?: Partial<SynthDifficulty>,
  domainShift?: number,
): SynthDifficulty {
  const d = { ...synthPreset(name, domainShift).difficulty, ...overrides };
  for (const [k, v] of Object.entries(d)) {
    if (!(typeof v === "number" && Number.isFinite(v) && v >= 0)) {
      throw new RangeError(`synth difficulty ${k} must be a finite number >= 0, got ${v}`);
    }
  }
  return d;
}

/** `name` as a {@link SynthName}; throws naming the valid names otherwise. */
export function checkName(name: string): SynthName {
  if (!(SYNTH_NAMES as readonly string[]).includes(name)) {
    throw new Error(`unknown synthetic dataset "${name}"; expected one of ${SYNTH_NAMES.join(", ")}`);
  }
  return name as SynthName;
}
