/**
 * FER2013 loader. Two layouts:
 * - the official `fer2013.csv` (`emotion,pixels,Usage`: 48x48 grayscale pixels as space-separated
 *   integers); each row becomes a PNG written by prep, with the official split
 *   (Training -> train, PublicTest -> val, PrivateTest -> test);
 * - the unpacked folders `{Training,PublicTest,PrivateTest}/<0-6>/*.jpg` the original code read (2.2).
 * Blank images (all pixels equal) are skipped, replacing the original's "< 400 bytes" size test.
 * @module
 */
import { join } from "node:path";
import { parseCsvRows } from "../../core/csv.ts";
import { EMOTION7_LABELS } from "../label_spaces.ts";
import {
  classId,
  DatasetFormatError,
  type DatasetLoader,
  firstDir,
  firstFile,
  isDir,
  type PrepItem,
  scanClassFolders,
  type ScanResult,
  type SkippedRow,
  type SplitName,
  streamLines,
  where,
} from "./_common.ts";

/** FER2013 `Usage` values -> split roles. */
export const FER_USAGE_SPLIT: Readonly<Record<string, SplitName>> = {
  Training: "train",
  PublicTest: "val",
  PrivateTest: "test",
};

/** Side of a FER2013 image. */
export const FER_SIDE = 48;

/** Parse one `pixels` field (2304 integers 0-255) or return a reason it is bad. */
export function parseFerPixels(field: string): Uint8Array | string {
  const toks = field.trim().split(/\s+/);
  if (toks.length !== FER_SIDE * FER_SIDE) {
    return `pixels has ${toks.length} values, expected ${FER_SIDE * FER_SIDE}`;
  }
  const out = new Uint8Array(toks.length);
  for (let i = 0; i < toks.length; i++) {
    const v = Number(toks[i]);
    if (!Number.isInteger(v) || v < 0 || v > 255) return `pixel ${i} is '${toks[i]}', not an integer 0-255`;
    out[i] = v;
  }
  return out;
}

/**
 * Read the pixel rows of a FER2013-format CSV. `onRow` receives the 0-based data row index, the
 * row's fields by column name, and its line number.
 */
export async function readFerCsv(
  path: string,
  onRow: (index: number, fields: Record<string, string>, line: number) => void,
): Promise<string[]> {
  let columns: string[] | undefined;
  let index = 0;
  for await (const [lineNo, line] of streamLines(path)) {
    if (line.trim() === "") continue;
    // A line without quotes is plain comma-separated (RFC 4180); the full parser is ~20x slower on
    // FER2013's 7 KB pixel fields, so it only handles quoted lines.
    const rec = line.includes('"') ? parseCsvRows(line, `${path}:${lineNo}`)[0] ?? [] : line.split(",");
    if (columns === undefined) {
      columns = rec.map((c) => c.trim());
      for (const need of ["pixels"]) {
        if (!columns.includes(need)) {
          throw new DatasetFormatError(
            `${path}: header has no '${need}' column (found: ${columns.join(", ")})`,
          );
        }
      }
      continue;
    }
    const fields: Record<string, string> = {};
    for (let c = 0; c < columns.length; c++) fields[columns[c]] = rec[c] ?? "";
    onRow(index++, fields, lineNo);
  }
  if (columns === undefined) throw new DatasetFormatError(`${path}: empty file`);
  return columns;
}

async function scanCsv(root: string, csv: string): Promise<ScanResult> {
  const items: PrepItem[] = [];
  const skipped: SkippedRow[] = [];
  const columns = await readFerCsv(csv, (i, f, line) => {
    const w = where(root, csv, line);
    const usage = (f["Usage"] ?? "").trim();
    const split = FER_USAGE_SPLIT[usage];
    if (split === undefined) return void skipped.push({ where: w, reason: `unknown Usage '${usage}'` });
    const emotion = classId(f["emotion"], EMOTION7_LABELS.length);
    if (emotion === undefined) {
      return void skipped.push({ where: w, reason: `unknown label '${f["emotion"]}'` });
    }
    const px = parseFerPixels(f["pixels"]);
    if (typeof px === "string") return void skipped.push({ where: w, reason: px });
    items.push({
      where: w,
      source: { kind: "pixels", width: FER_SIDE, height: FER_SIDE, gray: px },
      output: `${usage}/${String(i).padStart(5, "0")}.png`,
      labels: { emotion },
      extra: { row: i },
      split,
      rejectBlank: true,
    });
  });
  for (const need of ["emotion", "Usage"]) {
    if (!columns.includes(need)) {
      throw new DatasetFormatError(`${csv}: header has no '${need}' column (found: ${columns.join(", ")})`);
    }
  }
  return { layout: `official CSV ${where(root, csv)}`, items, skipped };
}

async function scanFolders(root: string, base: string): Promise<ScanResult> {
  const items: PrepItem[] = [];
  const skipped: SkippedRow[] = [];
  for (const [usage, split] of Object.entries(FER_USAGE_SPLIT)) {
    const dir = join(base, usage);
    if (!(await isDir(dir))) continue;
    await scanClassFolders({
      root,
      dir,
      split,
      classOf: (name) => classId(name, EMOTION7_LABELS.length),
      items,
      skipped,
      rejectBlank: true,
    });
  }
  return {
    layout: `unpacked folders ${where(root, base) || "."}/{Training,PublicTest,PrivateTest}/<0-6>/`,
    items,
    skipped,
  };
}

/** The FER2013 loader. */
export const fer2013Loader: DatasetLoader = {
  name: "fer2013",
  title: "FER2013",
  folder: "fer2013",
  extraColumns: ["row"],
  layouts: [
    "fer2013.csv (columns emotion,pixels,Usage) in ROOT or ROOT/fer2013/",
    "unpacked images ROOT/{Training,PublicTest,PrivateTest}/<0-6>/*.jpg (or under ROOT/fer2013/)",
  ],
  download:
    "download fer2013.csv from the Kaggle competition 'Challenges in Representation Learning: Facial Expression " +
    "Recognition Challenge' (research use under the competition's terms)",
  async scan(root) {
    const csv = await firstFile([join(root, "fer2013.csv"), join(root, "fer2013", "fer2013.csv")]);
    if (csv) return await scanCsv(root, csv);
    for (const base of [root, join(root, "fer2013")]) {
      const found = await firstDir(Object.keys(FER_USAGE_SPLIT).map((u) => join(base, u)));
      if (found) return await scanFolders(root, base);
    }
    return undefined;
  },
};
