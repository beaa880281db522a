/**
 * AFLW loader. Two layouts:
 * - the SQLite database `aflw.sqlite` (read with Deno's built-in `node:sqlite`): tables Faces
 *   (face_id, file_id), FaceImages (file_id, filepath), FacePose (face_id, roll, pitch, yaw in radians),
 *   FaceRect (face_id, x, y, w, h); images under `flickr/<filepath>`;
 * - the CSV export the original code read (2.2): `faceid.csv` (face_id, file_id), `facepose.csv`
 *   (face_id, roll, pitch, yaw), `facerect.csv` (face_id, x, y, w, h), with originals under `flickr/`
 *   or `images/`, or pre-cropped `cropped_images/<file_id>` (used for single-face images only).
 * Every face is cropped into its own file `<image>_<face_id>` (docs/original.md B25). Pose class from yaw (docs/original.md §2.4).
 * @module
 */
import { basename, dirname, join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { parseCsvRows } from "../../core/csv.ts";
import { yawToPoseClass } from "../label_spaces.ts";
import type { Box } from "../image_io.ts";
import {
  cropName,
  DatasetFormatError,
  type DatasetLoader,
  finite,
  firstDir,
  firstFile,
  indexFiles,
  isFile,
  type PrepItem,
  type ScanResult,
  type SkippedRow,
  where,
} from "./_common.ts";

/** One AFLW face with its image, box and angles (radians). */
export interface AflwFace {
  faceId: string;
  /** Image path relative to the image folder (SQLite `filepath`) or the bare file id (CSV). */
  image: string;
  box?: Box;
  roll?: number;
  pitch?: number;
  yaw?: number;
}

type Row = Record<string, unknown>;

function num(v: unknown): number | undefined {
  if (typeof v === "number") return Number.isFinite(v) ? v : undefined;
  if (typeof v === "bigint") return Number(v);
  if (typeof v === "string") return finite(v);
  return undefined;
}

/** Read every face of an AFLW SQLite database. */
export function readAflwSqlite(path: string): AflwFace[] {
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path, { readOnly: true });
  } catch (e) {
    throw new DatasetFormatError(`${path}: cannot open SQLite database: ${(e as Error).message}`);
  }
  try {
    const q = (sql: string): Row[] => {
      try {
        return db.prepare(sql).all() as Row[];
      } catch (e) {
        throw new DatasetFormatError(`${path}: ${(e as Error).message} (in: ${sql})`);
      }
    };
    const rects = new Map<string, Box>();
    for (const r of q("SELECT face_id, x, y, w, h FROM FaceRect ORDER BY rowid")) {
      const id = String(r.face_id);
      const [x, y, w, h] = [r.x, r.y, r.w, r.h].map(num);
      if (!rects.has(id) && x !== undefined && y !== undefined && w !== undefined && h !== undefined) {
        rects.set(id, { x, y, width: w, height: h });
      }
    }
    const poses = new Map<string, [number | undefined, number | undefined, number | undefined]>();
    for (const r of q("SELECT face_id, roll, pitch, yaw FROM FacePose ORDER BY rowid")) {
      const id = String(r.face_id);
      if (!poses.has(id)) poses.set(id, [num(r.roll), num(r.pitch), num(r.yaw)]);
    }
    const faces: AflwFace[] = [];
    const sql =
      "SELECT Faces.face_id AS face_id, FaceImages.filepath AS filepath, Faces.file_id AS file_id " +
      "FROM Faces LEFT JOIN FaceImages ON Faces.file_id = FaceImages.file_id ORDER BY Faces.face_id";
    for (const r of q(sql)) {
      const id = String(r.face_id);
      const pose = poses.get(id);
      faces.push({
        faceId: id,
        image: String(r.filepath ?? r.file_id ?? ""),
        box: rects.get(id),
        roll: pose?.[0],
        pitch: pose?.[1],
        yaw: pose?.[2],
      });
    }
    return faces;
  } finally {
    db.close();
  }
}

/** Read an AFLW CSV export; columns by header name when present, else by position. */
async function readCsvTable(path: string, names: string[]): Promise<Map<string, string[]>> {
  const rows = parseCsvRows(await Deno.readTextFile(path), path);
  const out = new Map<string, string[]>();
  if (rows.length === 0) return out;
  let idx = names.map((_, i) => i);
  let start = 0;
  if (finite(rows[0][0]) === undefined) {
    const header = rows[0].map((h) => h.trim().toLowerCase());
    // A leading unnamed column is a pandas index: shift positions by one.
    const shift = header[0] === "" ? 1 : 0;
    idx = names.map((n, i) => (header.includes(n) ? header.indexOf(n) : i + shift));
    start = 1;
  }
  for (let r = start; r < rows.length; r++) {
    const rec = idx.map((i) => (rows[r][i] ?? "").trim());
    if (rec[0] !== "" && !out.has(rec[0])) out.set(rec[0], rec.slice(1));
  }
  return out;
}

async function readAflwCsv(base: string): Promise<AflwFace[]> {
  const ids = await readCsvTable(join(base, "faceid.csv"), ["face_id", "file_id"]);
  const poses = await readCsvTable(join(base, "facepose.csv"), ["face_id", "roll", "pitch", "yaw"]);
  const rects = await readCsvTable(join(base, "facerect.csv"), ["face_id", "x", "y", "w", "h"]);
  const faces: AflwFace[] = [];
  for (const [faceId, [fileId]] of ids) {
    const p = poses.get(faceId);
    const r = rects.get(faceId)?.map(finite);
    faces.push({
      faceId,
      image: fileId,
      box: r && r.every((v) => v !== undefined)
        ? { x: r[0]!, y: r[1]!, width: r[2]!, height: r[3]! }
        : undefined,
      roll: finite(p?.[0]),
      pitch: finite(p?.[1]),
      yaw: finite(p?.[2]),
    });
  }
  return faces;
}

async function toItems(
  source: string,
  faces: AflwFace[],
  resolve: (image: string) => Promise<string | undefined>,
  cropped?: string,
): Promise<Pick<ScanResult, "items" | "skipped">> {
  const items: PrepItem[] = [];
  const skipped: SkippedRow[] = [];
  const perImage = new Map<string, number>();
  for (const f of faces) perImage.set(f.image, (perImage.get(f.image) ?? 0) + 1);
  for (const f of faces) {
    const w = `${source} face_id ${f.faceId}`;
    if (f.yaw === undefined) {
      skipped.push({ where: w, reason: "no pose (FacePose yaw missing)" });
      continue;
    }
    const labels = { pose: yawToPoseClass(f.yaw) };
    const extra = { face_id: f.faceId, yaw: f.yaw, pitch: f.pitch ?? "", roll: f.roll ?? "" };
    const orig = f.image ? await resolve(f.image) : undefined;
    if (orig) {
      if (!f.box || !(f.box.width > 0) || !(f.box.height > 0)) {
        skipped.push({ where: w, reason: "no usable face box (FaceRect missing or empty)" });
        continue;
      }
      items.push({
        where: w,
        source: { kind: "crop", path: orig, box: f.box },
        output: cropName(f.image, f.faceId),
        labels,
        extra,
      });
      continue;
    }
    const pre = cropped && f.image ? join(cropped, basename(f.image)) : undefined;
    if (pre && await isFile(pre)) {
      if (perImage.get(f.image) === 1) {
        items.push({ where: w, source: { kind: "file", path: pre }, labels, extra });
      } else {
        skipped.push({
          where: w,
          reason: `original missing and the pre-cropped ${basename(f.image)} is shared by ${
            perImage.get(f.image)
          } faces`,
        });
      }
      continue;
    }
    skipped.push({ where: w, reason: `missing file ${f.image || "(no image for this face)"}` });
  }
  return { items, skipped };
}

/** The AFLW loader. */
export const aflwLoader: DatasetLoader = {
  name: "aflw",
  title: "AFLW (Annotated Facial Landmarks in the Wild)",
  folder: "AFLW",
  extraColumns: ["face_id", "yaw", "pitch", "roll"],
  layouts: [
    "ROOT/aflw.sqlite (or ROOT/data/aflw.sqlite) with images in ROOT/flickr/ (or beside the database)",
    "ROOT/faceid.csv + facepose.csv + facerect.csv with originals in ROOT/flickr/ or ROOT/images/, " +
    "or pre-cropped ROOT/cropped_images/<file_id>",
  ],
  download:
    "request AFLW (aflw.sqlite and the flickr image folders) from Graz University of Technology's AFLW page " +
    "(non-commercial research licence)",
  async scan(root) {
    const sqlite = await firstFile([join(root, "aflw.sqlite"), join(root, "data", "aflw.sqlite")]);
    if (sqlite) {
      const faces = readAflwSqlite(sqlite);
      const imgDir = await firstDir([
        join(dirname(sqlite), "flickr"),
        join(root, "flickr"),
        join(root, "data", "flickr"),
      ]);
      let byName: Map<string, string> | undefined;
      const resolve = async (image: string): Promise<string | undefined> => {
        if (imgDir && await isFile(join(imgDir, image))) return join(imgDir, image);
        byName ??= await indexFiles(imgDir ?? join(root, "images"));
        return byName.get(basename(image));
      };
      const r = await toItems(
        where(root, sqlite),
        faces,
        resolve,
        await firstDir([join(root, "cropped_images")]),
      );
      return {
        layout: `SQLite ${where(root, sqlite)} + ${
          imgDir ? where(root, imgDir) + "/" : "(no flickr/ folder)"
        }`,
        ...r,
      };
    }
    if (await isFile(join(root, "faceid.csv"))) {
      for (const f of ["facepose.csv", "facerect.csv"]) {
        if (!(await isFile(join(root, f)))) {
          throw new DatasetFormatError(
            `${join(root, f)}: missing (the AFLW CSV layout needs faceid/facepose/facerect.csv)`,
          );
        }
      }
      const faces = await readAflwCsv(root);
      const imgDir = await firstDir([join(root, "flickr"), join(root, "images")]);
      const byName = imgDir ? await indexFiles(imgDir) : new Map<string, string>();
      const resolve = (image: string): Promise<string | undefined> =>
        Promise.resolve(byName.get(basename(image)));
      const r = await toItems("faceid.csv", faces, resolve, await firstDir([join(root, "cropped_images")]));
      return {
        layout: `CSV export faceid/facepose/facerect.csv + ${
          imgDir ? where(root, imgDir) + "/" : "cropped_images/"
        }`,
        ...r,
      };
    }
    return undefined;
  },
};
