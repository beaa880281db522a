/**
 * Pretrained real-face heads for the demos (emotion, pose, gender, age from `@vladmandic/human`'s
 * shipped models), the age and pose mappings into the toolkit's label spaces, and the hand-labelled
 * real-face set they are measured on.
 *
 * ```ts
 * import { loadPretrainedHeads } from "./demo/pretrained/mod.ts";
 * const heads = await loadPretrainedHeads({ tasks: ["age", "gender"] });
 * ```
 * @module
 */
export * from "./age_groups.ts";
export * from "./pose_from_mesh.ts";
export * from "./heads.ts";
export * from "./real_faces.ts";
