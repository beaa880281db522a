/**
 * Adience loader: `fold_{0..4}_data.txt` (tab-separated: user_id, original_image, face_id, age, gender,
 * x, y, dx, dy, tilt_ang, fiducial_yaw_angle, fiducial_score; one header line) with faces in
 * `faces/<user_id>/coarse_tilt_aligned_face.<face_id>.<original_image>` (or the `aligned/` landmark
 * variant). Gender f -> 0, m -> 1 (other values skipped); age group = index of the lower bound of a
 * "(lo, hi)" pair. Rows whose age is not such a pair ("None", a bare number) are skipped: the 13-token
 * guard of docs/original.md B25 (whitespace splitting gives 13 tokens exactly when the age is a pair). The tilt and yaw
 * columns are read from their own fields (the original read the wrong tokens).
 * Split: the official folds; fold 4 -> test, fold 3 -> val, folds 0-2 -> train (subject-disjoint).
 * @module
 */
import { join } from "node:path";
import { adienceAgeGroup } from "../label_spaces.ts";
import {
  type DatasetLoader,
  firstDir,
  firstFile,
  type PrepItem,
  readLines,
  type SkippedRow,
  type SplitName,
  where,
} from "./_common.ts";

/** The fields of one Adience row. */
export interface AdienceRow {
  userId: string;
  image: string;
  faceId: string;
  age: number;
  gender: number;
  tilt: string;
  yaw: string;
}

/** Parse one data line of a fold file, or return why it is skipped. */
export function parseAdienceLine(line: string): AdienceRow | string {
  let f: string[];
  if (line.includes("\t")) {
    f = line.split("\t").map((s) => s.trim());
    if (f.length < 12) return `expected 12 tab-separated fields, got ${f.length}`;
  } else {
    // Whitespace-split rows (as the original parsed them): "(lo, hi)" spans two tokens -> 13 tokens.
    const t = line.trim().split(/\s+/);
    if (t.length !== 13) {
      return `expected 13 whitespace tokens, got ${t.length} (age is not a "(lo, hi)" pair)`;
    }
    f = [t[0], t[1], t[2], `${t[3]} ${t[4]}`, ...t.slice(5)];
  }
  const age = adienceAgeGroup(f[3]);
  if (age === undefined) return `age '${f[3]}' is not a known "(lo, hi)" group`;
  const g = f[4].toLowerCase();
  if (g !== "f" && g !== "m") return `unknown gender '${f[4]}'`;
  return { userId: f[0], image: f[1], faceId: f[2], age, gender: g === "f" ? 0 : 1, tilt: f[9], yaw: f[10] };
}

const FOLD_SPLIT: SplitName[] = ["train", "train", "train", "val", "test"];

/** The Adience loader. */
export const adienceLoader: DatasetLoader = {
  name: "adience",
  title: "Adience",
  folder: "Adience",
  // Column names as the original CSV spelled them (docs/original.md §2.2), so its consumers still find them.
  extraColumns: ["face_id", "fold", "tilt_ang", "fuducial_yaw_angle"],
  layouts: [
    "ROOT/fold_{0..4}_data.txt (or ROOT/labels_list/) with faces in ROOT/faces/<user_id>/" +
    "coarse_tilt_aligned_face.<face_id>.<image> (or ROOT/aligned/<user_id>/landmark_aligned_face.<face_id>.<image>)",
  ],
  download:
    "download the Adience benchmark (fold_*_data.txt and the aligned faces) from the Open University of " +
    "Israel's Adience page after accepting its non-commercial research licence",
  async scan(root) {
    const listDir = await firstDir([join(root, "labels_list"), root]);
    if (!listDir) return undefined;
    const folds: [number, string][] = [];
    for (let k = 0; k < 5; k++) {
      const f = await firstFile([join(listDir, `fold_${k}_data.txt`), join(root, `fold_${k}_data.txt`)]);
      if (f) folds.push([k, f]);
    }
    if (folds.length === 0) return undefined;
    const faces = await firstDir([join(root, "faces")]);
    const aligned = await firstDir([join(root, "aligned")]);
    const items: PrepItem[] = [];
    const skipped: SkippedRow[] = [];
    for (const [k, file] of folds) {
      const lines = await readLines(file);
      for (let l = 1; l < lines.length; l++) {
        if (lines[l].trim() === "") continue;
        const w = where(root, file, l + 1);
        const r = parseAdienceLine(lines[l]);
        if (typeof r === "string") {
          skipped.push({ where: w, reason: r });
          continue;
        }
        const candidates = [
          ...(faces ? [join(faces, r.userId, `coarse_tilt_aligned_face.${r.faceId}.${r.image}`)] : []),
          ...(aligned ? [join(aligned, r.userId, `landmark_aligned_face.${r.faceId}.${r.image}`)] : []),
        ];
        const path = await firstFile(candidates);
        if (!path) {
          skipped.push({
            where: w,
            reason: `missing file faces/${r.userId}/coarse_tilt_aligned_face.${r.faceId}.${r.image}`,
          });
          continue;
        }
        items.push({
          where: w,
          source: { kind: "file", path },
          labels: { gender: r.gender, age: r.age },
          extra: { face_id: r.faceId, fold: k, tilt_ang: r.tilt, fuducial_yaw_angle: r.yaw },
          split: FOLD_SPLIT[k],
        });
      }
    }
    return {
      layout: `folds ${folds.map(([k]) => k).join(",")} in ${where(root, listDir) || "."}/ + ${
        faces ? "faces/" : aligned ? "aligned/" : "(no image folder)"
      }`,
      items,
      skipped,
    };
  },
};
