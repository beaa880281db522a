/**
 * Facial expressions: one prototype per emotion (FER2013 order) as deltas of mouth, brow and eye
 * parameters from neutral, and the per-face expression (prototype scaled by intensity plus jitter) the
 * feature drawing reads. Kept as data apart from the drawing so the emotion cues can be tuned without
 * touching geometry.
 * @module
 */
import type { Rng } from "../../core/rng.ts";

/** Expression parameters (deltas from neutral at full intensity). */
export interface Expr {
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

/** Full-intensity prototypes, indexed by emotion (angry, disgust, fear, happy, sad, surprise, neutral). */
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

/**
 * The expression of one face: the emotion's prototype scaled by `intensity`, plus normal jitter of std
 * `jitter` (in units of a full expression) on each parameter; 40 % of smiles keep the mouth nearly closed.
 * Draws from `r` in a fixed order (the row's stream continues after it).
 */
export function faceExpression(emotion: number, intensity: number, jitter: number, r: Rng): Expr {
  const base = EXPRESSIONS[emotion];
  const k = intensity, jit = jitter;
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
  if (emotion === 3 && r.next() < 0.4) ex.open *= 0.15; // closed-mouth smiles
  return ex;
}
