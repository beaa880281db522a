/**
 * What one row shows: the label definitions shared with evaluation (the AFLW pose bins of docs/original.md §2.4, the
 * Adience age ranges) and the per-row draw of emotion, intensity, yaw, pitch, roll and age from a
 * dataset's domain. Kept apart from the renderer because these are the ground truth the labels and the
 * hidden truth file are made of; the renderer only consumes them.
 * @module
 */
import type { Rng } from "../../core/rng.ts";
import type { Identity } from "./_identities.ts";
import { clamp, pickWeighted } from "./_math.ts";
import { yawDegreesToPoseClass } from "../label_spaces.ts";
import type { SynthDifficulty, SynthDomain } from "./_presets.ts";

/** AFLW pose class of a yaw in degrees (the shared binning of the label spaces). */
export const poseClass: (yawDeg: number) => number = yawDegreesToPoseClass;

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

/** Largest |yaw| (degrees) a row's yaw, drawn or labelled, may take: just inside the ±90 deg profile bins. */
const YAW_LIMIT = 89.9;

/**
 * The pose label of a row: the AFLW bin of its drawn yaw plus the annotator's error when `noise` (std, degrees)
 * is above 0. The error has its own random stream per row (`yaw-label:<row>` of `root`), so the images and
 * every other draw are the same as without it.
 */
export function poseLabel(yaw: number, noise: number, root: Rng, row: number): number {
  if (noise === 0) return poseClass(yaw);
  return poseClass(clamp(yaw + root.derive(`yaw-label:${row}`).normal(0, noise), -YAW_LIMIT, YAW_LIMIT));
}

/** Yaw range (degrees) of each AFLW bin used when sampling. */
const YAW_BINS: readonly [number, number][] = [[-10, 10], [10, 60], [-60, -10], [-90, -60], [60, 90]];

/** Everything that determines one face image. */
export interface FaceAttributes {
  /** Emotion class, FER2013 order (6 = neutral). */
  emotion: number;
  /** Expression intensity in [0, 1]. */
  intensity: number;
  /** Head yaw in degrees (> 0 turns towards image right). */
  yaw: number;
  /** Head pitch in degrees (> 0 looks up). */
  pitch: number;
  /** Head roll in degrees. */
  roll: number;
  /** 0 woman, 1 man. */
  gender: number;
  /** Age in years. */
  ageYears: number;
  /** Adience age group of `ageYears` (index into {@link AGE_GROUP_YEARS}). */
  ageGroup: number;
  /** Person id (unique across the three datasets). */
  identity: number;
}

/** Draw the attributes of one row (the draw order is part of the dataset: changing it changes every row). */
export function sampleAttributes(
  r: Rng,
  domain: SynthDomain,
  d: SynthDifficulty,
  identity: Identity,
  id: number,
): FaceAttributes {
  const emotion = pickWeighted(r, domain.emotionWeights);
  const intensity = emotion === 6 ? 0 : r.uniform(d.expressionIntensity, 1);
  let yaw: number;
  const y = domain.yaw;
  // A mixture draws its component first: normal (near-frontal, many yaws near the ±10 deg bin edge) or bins.
  const fromBins = "bins" in y && !("normalShare" in y && r.next() < y.normalShare);
  if (fromBins) {
    const [lo, hi] = YAW_BINS[pickWeighted(r, (y as { bins: number[] }).bins)];
    yaw = r.uniform(lo, hi);
  } else {
    yaw = clamp(r.normal(0, (y as { std: number }).std), -89, 89);
  }
  yaw = clamp(yaw + (d.yawJitter > 0 ? r.normal(0, d.yawJitter) : 0), -YAW_LIMIT, YAW_LIMIT);
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
