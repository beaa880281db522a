/**
 * ExpW loader: `label.lst` (or `label.txt`) lines
 * `image face_id top left right bottom confidence expression` (expression 0-6, FER2013 order).
 * Each face is cropped out of the original image into its own file `<image>_<face_id>` (docs/original.md B25: the
 * original code mapped every face of an image to one crop). When the original is missing, a
 * pre-cropped `cropped_images/<image>` (the original code's input) is used for single-face images only.
 * @module
 */
import { join } from "node:path";
import { EMOTION7_LABELS } from "../label_spaces.ts";
import {
  classId,
  cropName,
  type DatasetLoader,
  finite,
  firstDir,
  firstFile,
  isFile,
  type PrepItem,
  readLines,
  type SkippedRow,
  where,
} from "./_common.ts";

/** One parsed ExpW label line, or a reason it is unusable. */
export interface ExpwFace {
  image: string;
  faceId: string;
  top: number;
  left: number;
  right: number;
  bottom: number;
  confidence: number;
  emotion: number;
}

/** Parse one ExpW label line (whitespace-separated, 8 tokens). */
export function parseExpwLine(line: string): ExpwFace | string {
  const t = line.trim().split(/\s+/);
  if (t.length < 8) {
    return `expected 8 fields (image face_id top left right bottom confidence label), got ${t.length}`;
  }
  const [top, left, right, bottom] = [t[2], t[3], t[4], t[5]].map(finite);
  if (top === undefined || left === undefined || right === undefined || bottom === undefined) {
    return "face box is not numeric";
  }
  if (right <= left || bottom <= top) {
    return `empty face box (top ${top}, left ${left}, right ${right}, bottom ${bottom})`;
  }
  const emotion = classId(t[7], EMOTION7_LABELS.length);
  if (emotion === undefined) return `unknown label '${t[7]}'`;
  return { image: t[0], faceId: t[1], top, left, right, bottom, confidence: finite(t[6]) ?? NaN, emotion };
}

/** The ExpW loader. */
export const expwLoader: DatasetLoader = {
  name: "expw",
  title: "ExpW (Expression in-the-Wild)",
  folder: "ExpW",
  extraColumns: ["face_id", "confidence"],
  layouts: [
    "ROOT/label/label.lst (or label.txt; also under ROOT/data/) with originals in ROOT/image/origin/ " +
    "(or ROOT/data/image/origin/, ROOT/origin/); optional pre-cropped faces in .../image/cropped_images/",
  ],
  download: "download ExpW (label.lst and the origin image archives) from the ExpW project page of CUHK's " +
    "Multimedia Lab (non-commercial research use only)",
  async scan(root) {
    const bases = [root, join(root, "data")];
    const label = await firstFile(bases.flatMap((b) => [
      join(b, "label", "label.lst"),
      join(b, "label", "label.txt"),
      join(b, "label.lst"),
      join(b, "label.txt"),
    ]));
    if (!label) return undefined;
    const origin = await firstDir(bases.flatMap((b) => [join(b, "image", "origin"), join(b, "origin")]));
    const cropped = await firstDir(
      bases.flatMap((b) => [join(b, "image", "cropped_images"), join(b, "cropped_images")]),
    );
    const lines = await readLines(label);
    const faces: (ExpwFace | string)[] = lines.map((l) => (l.trim() === "" ? "" : parseExpwLine(l)));
    const perImage = new Map<string, number>();
    for (const f of faces) if (typeof f !== "string") perImage.set(f.image, (perImage.get(f.image) ?? 0) + 1);
    const items: PrepItem[] = [];
    const skipped: SkippedRow[] = [];
    const seen = new Set<string>();
    const fileOk = new Map<string, boolean>();
    async function has(p: string): Promise<boolean> {
      let ok = fileOk.get(p);
      if (ok === undefined) fileOk.set(p, ok = await isFile(p));
      return ok;
    }
    for (let l = 0; l < faces.length; l++) {
      const f = faces[l];
      if (f === "") continue;
      const w = where(root, label, l + 1);
      if (typeof f === "string") {
        skipped.push({ where: w, reason: f });
        continue;
      }
      const key = `${f.image}\u0000${f.faceId}`;
      if (seen.has(key)) {
        skipped.push({ where: w, reason: `duplicate face ${f.faceId} of ${f.image}` });
        continue;
      }
      seen.add(key);
      const extra = { face_id: f.faceId, confidence: f.confidence };
      const orig = origin ? join(origin, f.image) : undefined;
      if (orig && await has(orig)) {
        items.push({
          where: w,
          source: {
            kind: "crop",
            path: orig,
            box: { x: f.left, y: f.top, width: f.right - f.left, height: f.bottom - f.top },
          },
          output: cropName(f.image, f.faceId),
          labels: { emotion: f.emotion },
          extra,
        });
        continue;
      }
      const pre = cropped ? join(cropped, f.image) : undefined;
      if (pre && await has(pre)) {
        if (perImage.get(f.image) === 1) {
          items.push({
            where: w,
            source: { kind: "file", path: pre },
            labels: { emotion: f.emotion },
            extra,
          });
        } else {
          skipped.push({
            where: w,
            reason: `original missing and the pre-cropped ${f.image} is shared by ${
              perImage.get(f.image)
            } faces`,
          });
        }
        continue;
      }
      skipped.push({
        where: w,
        reason: `missing file ${orig ? where(root, orig) : `image/origin/${f.image}`}`,
      });
    }
    const src = origin
      ? `originals ${where(root, origin)}/`
      : `pre-cropped ${cropped ? where(root, cropped) : "?"}/`;
    return { layout: `labels ${where(root, label)} + ${src}`, items, skipped };
  },
};
