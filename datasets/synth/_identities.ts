/**
 * People: the per-person constants (gender, skin, hair and iris colour, hair length, beard tendency, face
 * geometry) drawn from the identity id alone, so every row of one person shares them across a dataset and
 * identities act as the real datasets' repeated subjects. The palettes live here because only identities
 * pick from them.
 * @module
 */
import type { Rng } from "../../core/rng.ts";
import { clamp, type Col, mix, pickWeighted } from "./_math.ts";
import type { SynthDifficulty, SynthDomain } from "./_presets.ts";

/** Light to dark skin tones; an identity interpolates between neighbours. */
const SKIN: Col[] = [[0.97, 0.83, 0.72], [0.88, 0.67, 0.52], [0.7, 0.5, 0.36], [0.42, 0.28, 0.2]];
/** Hair colours: black, dark brown, brown, blond, red. */
const HAIR: Col[] = [[0.07, 0.05, 0.04], [0.22, 0.13, 0.07], [0.42, 0.27, 0.14], [0.82, 0.66, 0.38], [
  0.55,
  0.22,
  0.09,
]];
/** Iris colours: brown, dark brown, blue, green. */
const IRIS: Col[] = [[0.25, 0.14, 0.07], [0.12, 0.08, 0.05], [0.25, 0.42, 0.62], [0.3, 0.45, 0.3]];

/** Per-person constants (drawn from the identity id alone). */
export interface Identity {
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

/**
 * The constants of person `id` (a stream derived from `seedRng` and the id, so the person is the same in
 * every row and whatever row order or count).
 */
export function makeIdentity(id: number, domain: SynthDomain, d: SynthDifficulty, seedRng: Rng): Identity {
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
