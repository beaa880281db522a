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
 * occlusion, scale/shift jitter. Each nuisance has one knob in {@link SynthDifficulty}; one more,
 * `yawLabelNoise`, is an annotator's error on the yaw the pose label bins (on the emotion/pose pair), which
 * leaves the images as they are.
 *
 * Three disjoint datasets, each labelled for its own task(s) only and with its own nuisance distribution
 * (domain shift): `synth-emotion` (near-frontal faces), `synth-pose` (mostly neutral/happy faces over all
 * yaws), `synth-age-gender`. The full truth of every row goes to a separate file (see `_embedded_cache.ts`).
 *
 * ```ts
 * import { generateSynth, loadSynth } from "./datasets/synth/mod.ts";
 * const data = generateSynth("synth-pose", { seed: 0, size: 64, n: 16 }); // pixels, labels, truth
 * const set = await loadSynth("synth-emotion", { imageSize: 48, channels: 1, seed: 0 }); // cached ImageSet
 * ```
 *
 * Layout (one private module per concern, imported only through this file; dependencies point down the list):
 * - `_presets.ts`: names, nuisance knobs, domains, calibrated presets
 * - `_math.ts`: clamp, weighted pick, colour arithmetic
 * - `_expressions.ts`: emotion prototypes and the per-face expression
 * - `_identities.ts`: per-person constants and palettes
 * - `_face_attributes.ts`: pose and age label definitions, per-row attribute draw
 * - `_raster.ts`: anti-aliased, depth-tested 2-D shapes
 * - `_head_3d.ts`: rotation, ellipsoids, projection onto the face surface
 * - `_face_plan.ts`: every random choice of one face
 * - `_draw_head.ts`, `_draw_features.ts`, `_render_face.ts`: plan to pixels
 * - `_dataset.ts`: generation, caching and loading of whole datasets
 * @module
 */
export {
  generateSynth,
  loadSynth,
  loadSynthTruth,
  type SynthData,
  synthDataVersion,
  type SynthLoadOptions,
  type SynthOptions,
  synthTasks,
} from "./_dataset.ts";
export { AGE_GROUP_YEARS, type FaceAttributes, poseClass } from "./_face_attributes.ts";
export {
  DEFAULT_DOMAIN_SHIFT,
  PAIR_NAMES,
  SYNTH_NAMES,
  SYNTH_PRESETS,
  SYNTH_VERSION,
  type SynthDifficulty,
  synthDifficulty,
  type SynthDomain,
  type SynthName,
  type SynthPreset,
  synthPreset,
} from "./_presets.ts";
