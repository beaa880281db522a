/**
 * FER+ loader. Two layouts:
 * - the FERPlus vote file `fer2013new.csv` (`Usage,Image name,neutral,happiness,surprise,sadness,anger,
 *   disgust,fear,contempt,unknown,NF`: votes of 10 annotators). Label = majority vote over the 10 columns
 *   after dropping single votes; rows without a strict majority, or whose majority is `unknown` or `NF`
 *   (not a face), are skipped. Images come from `FER2013Train|FER2013Valid|FER2013Test/<Image name>`, or,
 *   when those folders are absent, from the pixels of the same row of `fer2013.csv` (the two files are
 *   row-aligned). Official split from `Usage`.
 * - the label lists of the original code (2.2): `labels_list/train-aug-c0..7.txt`, `validation.txt`,
 *   images `ferplus_whole/<id>.jpg`.
 * @module
 */
import { argmaxRow } from "../../core/metrics.ts";
import { dirname, join } from "node:path";
import { parseCsv } from "../../core/csv.ts";
import { FERPLUS_LABELS } from "../label_spaces.ts";
import {
  classId,
  DatasetFormatError,
  type DatasetLoader,
  firstDir,
  firstFile,
  isFile,
  type PrepItem,
  readLines,
  type ScanResult,
  type SkippedRow,
  where,
} from "./_common.ts";
import { FER_SIDE, FER_USAGE_SPLIT, parseFerPixels, readFerCsv } from "./fer2013.ts";

/** The vote columns of `fer2013new.csv`, in order: the 8 classes, then `unknown` and `NF`. */
export const FERPLUS_VOTE_COLUMNS: readonly string[] = [...FERPLUS_LABELS, "unknown", "NF"];

/** FERPlus image folders per FER2013 Usage. */
const USAGE_FOLDER: Record<string, string> = {
  Training: "FER2013Train",
  PublicTest: "FER2013Valid",
  PrivateTest: "FER2013Test",
};

/**
 * The majority label of one row of votes (8 classes + unknown + NF): single votes are dropped as
 * outliers, then the top class must hold more than half of the remaining votes. Returns the class id,
 * or a reason to skip the row.
 */
export function ferplusMajority(votes: readonly number[]): number | string {
  if (votes.length !== FERPLUS_VOTE_COLUMNS.length) {
    return `expected ${FERPLUS_VOTE_COLUMNS.length} vote counts`;
  }
  const kept = votes.map((v) => (v > 1 ? v : 0));
  const sum = kept.reduce((a, b) => a + b, 0);
  if (sum === 0) return "no class has more than one vote";
  const best = argmaxRow(Float32Array.from(kept), 0, kept.length);
  if (kept[best] * 2 <= sum) return "no majority vote";
  if (best === 8) return "majority vote is 'unknown'";
  if (best === 9) return "majority vote is 'NF' (not a face)";
  return best;
}

async function scanVotes(root: string, csv: string): Promise<ScanResult> {
  const table = parseCsv(await Deno.readTextFile(csv), csv);
  for (const c of ["Usage", "Image name", ...FERPLUS_VOTE_COLUMNS]) {
    if (!table.columns.includes(c)) {
      throw new DatasetFormatError(
        `${csv}: header has no '${c}' column (found: ${table.columns.join(", ")})`,
      );
    }
  }
  const imgBase = await firstDir(
    [root, join(root, "data"), dirname(csv)].flatMap((b) =>
      Object.values(USAGE_FOLDER).map((f) => join(b, f))
    ),
  );
  const base = imgBase ? dirname(imgBase) : undefined;
  const ferCsv = await firstFile([
    join(root, "fer2013.csv"),
    join(dirname(csv), "fer2013.csv"),
    join(root, "fer2013", "fer2013.csv"),
    join(dirname(root), "fer2013", "fer2013.csv"),
    join(dirname(root), "fer2013.csv"),
  ]);
  const items: PrepItem[] = [];
  const skipped: SkippedRow[] = [];
  const needPixels = new Map<number, PrepItem>();
  for (let r = 0; r < table.rows.length; r++) {
    const row = table.rows[r];
    const w = where(root, csv, r + 2);
    const usage = row["Usage"].trim();
    const split = FER_USAGE_SPLIT[usage];
    if (split === undefined) {
      skipped.push({ where: w, reason: `unknown Usage '${usage}'` });
      continue;
    }
    const name = row["Image name"].trim();
    if (name === "") {
      skipped.push({ where: w, reason: "no image name (image removed by FER+)" });
      continue;
    }
    const votes = FERPLUS_VOTE_COLUMNS.map((c) => Number(row[c]));
    if (!votes.every((v) => Number.isFinite(v) && v >= 0)) {
      skipped.push({ where: w, reason: "vote counts are not non-negative numbers" });
      continue;
    }
    const emotion = ferplusMajority(votes);
    if (typeof emotion === "string") {
      skipped.push({ where: w, reason: emotion });
      continue;
    }
    const item: PrepItem = {
      where: w,
      source: { kind: "file", path: "" },
      labels: { emotion },
      split,
      rejectBlank: true,
    };
    const path = base ? join(base, USAGE_FOLDER[usage], name) : undefined;
    if (path && await isFile(path)) {
      item.source = { kind: "file", path };
      items.push(item);
    } else if (ferCsv) {
      item.output = `${usage}/${name.replace(/[^\w.-]/g, "_")}`;
      if (!/\.png$/i.test(item.output)) item.output += ".png";
      needPixels.set(r, item);
      items.push(item);
    } else {
      skipped.push({
        where: w,
        reason: `missing file ${
          path ?? `${USAGE_FOLDER[usage]}/${name}`
        } (and no fer2013.csv to take the pixels from)`,
      });
    }
  }
  if (needPixels.size > 0 && ferCsv) {
    const bad = new Map<number, string>();
    await readFerCsv(ferCsv, (i, f, line) => {
      const item = needPixels.get(i);
      if (!item) return;
      const px = parseFerPixels(f["pixels"]);
      if (typeof px === "string") return void bad.set(i, `${where(root, ferCsv, line)}: ${px}`);
      item.source = { kind: "pixels", width: FER_SIDE, height: FER_SIDE, gray: px };
      needPixels.delete(i);
    });
    const drop = new Set(needPixels.values());
    for (const [i, item] of needPixels) {
      skipped.push({
        where: item.where,
        reason: bad.get(i) ?? `row ${i + 2} is missing from ${where(root, ferCsv)}`,
      });
    }
    let k = 0;
    for (const it of items) if (!drop.has(it)) items[k++] = it;
    items.length = k;
  }
  const src = base
    ? `images ${where(root, base) || "."}/FER2013*/`
    : `pixels from ${ferCsv ? where(root, ferCsv) : "?"}`;
  return { layout: `FERPlus votes ${where(root, csv)} + ${src}`, items, skipped };
}

async function scanLists(root: string, lists: string, images: string): Promise<ScanResult> {
  const items: PrepItem[] = [];
  const skipped: SkippedRow[] = [];
  const seen = new Set<string>();
  const files: [string, "train" | "val"][] = [];
  for (let c = 0; c < FERPLUS_LABELS.length; c++) files.push([join(lists, `train-aug-c${c}.txt`), "train"]);
  files.push([join(lists, "validation.txt"), "val"]);
  for (const [file, split] of files) {
    if (!(await isFile(file))) continue;
    const lines = await readLines(file);
    for (let l = 0; l < lines.length; l++) {
      const toks = lines[l].trim().split(/\s+/);
      if (toks.length === 1 && toks[0] === "") continue;
      const w = where(root, file, l + 1);
      // Training names carry an augmentation suffix after '-'; validation names an extension.
      const id = split === "train" ? toks[0].split("-")[0] : toks[0].split(".")[0];
      if (seen.has(id)) continue;
      const emotion = classId(toks[1], FERPLUS_LABELS.length);
      if (emotion === undefined) {
        skipped.push({ where: w, reason: `unknown label '${toks[1] ?? ""}'` });
        continue;
      }
      const path = join(images, `${id}.jpg`);
      if (!(await isFile(path))) {
        skipped.push({ where: w, reason: `missing file ${where(root, path)}` });
        continue;
      }
      seen.add(id);
      items.push({ where: w, source: { kind: "file", path }, labels: { emotion }, split });
    }
  }
  return { layout: `label lists ${where(root, lists)}/ + ${where(root, images)}/`, items, skipped };
}

/** The FER+ loader. */
export const ferplusLoader: DatasetLoader = {
  name: "ferplus",
  title: "FER+ (FERPlus)",
  folder: "ferplus",
  extraColumns: [],
  layouts: [
    "fer2013new.csv (FERPlus votes) in ROOT with images in ROOT/FER2013{Train,Valid,Test}/ or fer2013.csv beside it",
    "label lists ROOT/labels_list/train-aug-c0..7.txt + validation.txt with images ROOT/ferplus_whole/<id>.jpg",
  ],
  download:
    "download fer2013new.csv from Microsoft's FERPlus repository (labels under its MIT-style licence) and " +
    "fer2013.csv from the Kaggle FER2013 challenge (research use); put both in the root folder",
  async scan(root) {
    const votes = await firstFile([join(root, "fer2013new.csv"), join(root, "data", "fer2013new.csv")]);
    if (votes) return await scanVotes(root, votes);
    const lists = await firstDir([join(root, "labels_list")]);
    if (lists) {
      const any = await firstFile([join(lists, "validation.txt"), join(lists, "train-aug-c0.txt")]);
      if (any) return await scanLists(root, lists, join(root, "ferplus_whole"));
    }
    return undefined;
  },
};
