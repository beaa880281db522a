/**
 * Types and helpers shared by the dataset loaders. A loader turns a raw dataset folder into a list
 * of {@link PrepItem}s (where each face image comes from, its labels, its official split) plus the
 * rows it had to skip; `prep.ts` then writes the images and the cleaned CSV.
 * @module
 */
import { basename, join, relative } from "node:path";
import type { TaskName } from "../../core/types.ts";
import type { RealDatasetName } from "../label_spaces.ts";
import type { Box } from "../image_io.ts";

/** The role a row plays in an official split. */
export type SplitName = "train" | "val" | "test";

/** Where the pixels of one prepared sample come from. */
export type ImageSource =
  /** An existing face image, referenced in place (decoded once to check it). */
  | { kind: "file"; path: string }
  /** A face box cut out of an original image; the crop is written by prep. */
  | { kind: "crop"; path: string; box: Box }
  /** 8-bit grayscale pixels stored in a label file (FER2013 CSV); written by prep as PNG. */
  | { kind: "pixels"; width: number; height: number; gray: Uint8Array };

/** One sample found by a loader. */
export interface PrepItem {
  /** Where the row came from, for messages: `file:line`. */
  where: string;
  source: ImageSource;
  /** Output file name under `<out>/prepared/<dataset>/` for crops and pixel images. */
  output?: string;
  /** Class id per task the dataset labels. */
  labels: Partial<Record<TaskName, number>>;
  /** Extra CSV columns (face_id, yaw, fold, ...). */
  extra?: Record<string, string | number>;
  /** Official split, when the dataset has one. */
  split?: SplitName;
  /** Skip images whose pixels are all equal (FER2013 has blank images). */
  rejectBlank?: boolean;
}

/** A row that was not turned into a sample, and why. */
export interface SkippedRow {
  where: string;
  reason: string;
}

/** What a loader found under a dataset root. */
export interface ScanResult {
  /** Which of the loader's layouts was found (one-line description). */
  layout: string;
  items: PrepItem[];
  skipped: SkippedRow[];
}

/** A real-dataset loader: detects one of its layouts under a root and lists the samples. */
export interface DatasetLoader {
  name: RealDatasetName;
  /** Human-readable dataset name. */
  title: string;
  /** Folder name the dataset usually unpacks to (default `--root` is `<out>/<folder>`). */
  folder: string;
  /** Extra CSV columns, after `db_name, full_path, <tasks>, split`. */
  extraColumns: readonly string[];
  /** One line per supported layout (printed when nothing is found). */
  layouts: readonly string[];
  /** Where to get the dataset and under which terms. */
  download: string;
  /** List the samples, or return undefined when no supported layout is found under `root`. */
  scan(root: string): Promise<ScanResult | undefined>;
}

/** Thrown for a label file that cannot be parsed at all (not for single bad rows). */
export class DatasetFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DatasetFormatError";
  }
}

/** True when `path` is an existing regular file. */
export async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/** True when `path` is an existing directory. */
export async function isDir(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch {
    return false;
  }
}

/** The first of `candidates` that is a file, or undefined. */
export async function firstFile(candidates: string[]): Promise<string | undefined> {
  for (const c of candidates) if (await isFile(c)) return c;
  return undefined;
}

/** The first of `candidates` that is a directory, or undefined. */
export async function firstDir(candidates: string[]): Promise<string | undefined> {
  for (const c of candidates) if (await isDir(c)) return c;
  return undefined;
}

/** Directory entries sorted by name (stable CSV order on every file system). */
export async function sortedEntries(dir: string): Promise<Deno.DirEntry[]> {
  const out: Deno.DirEntry[] = [];
  for await (const e of Deno.readDir(dir)) out.push(e);
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

const IMAGE_EXT = /\.(jpe?g|png|gif|tiff?|bmp)$/i;

/** True when the file name has an image extension. */
export function isImageName(name: string): boolean {
  return IMAGE_EXT.test(name);
}

/** Every file under `dir` (recursively), as a map from base name to path; the first path wins. */
export async function indexFiles(dir: string): Promise<Map<string, string>> {
  const map = new Map<string, string>();
  async function walk(d: string): Promise<void> {
    for (const e of await sortedEntries(d)) {
      const p = join(d, e.name);
      if (e.isDirectory) await walk(p);
      else if (e.isFile && !map.has(e.name)) map.set(e.name, p);
    }
  }
  if (await isDir(dir)) await walk(dir);
  return map;
}

/** Read a text label file, normalising line ends; returns its lines (trailing empty line dropped). */
export async function readLines(path: string): Promise<string[]> {
  const text = await Deno.readTextFile(path);
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/**
 * Stream the lines of a large text file (FER2013's CSV is ~300 MB) without holding it as one string.
 * Yields [1-based line number, line].
 */
export async function* streamLines(path: string): AsyncGenerator<[number, string]> {
  const file = await Deno.open(path, { read: true });
  const decoder = new TextDecoder();
  let rest = "";
  let lineNo = 0;
  try {
    const buf = new Uint8Array(1 << 20);
    while (true) {
      const n = await file.read(buf);
      if (n === null) break;
      rest += decoder.decode(buf.subarray(0, n), { stream: true });
      // Scan with an index and cut the consumed prefix once per chunk (not once per line).
      let from = 0, i: number;
      while ((i = rest.indexOf("\n", from)) >= 0) {
        const line = rest.slice(from, i).replace(/\r$/, "");
        from = i + 1;
        lineNo++;
        yield [lineNo, lineNo === 1 ? line.replace(/^\uFEFF/, "") : line];
      }
      rest = rest.slice(from);
    }
    rest += decoder.decode();
    if (rest.length > 0) yield [lineNo + 1, rest.replace(/\r$/, "")];
  } finally {
    file.close();
  }
}

/** `file:line` with the file shown relative to the dataset root. */
export function where(root: string, file: string, line?: number): string {
  const rel = relative(root, file) || basename(file);
  return line === undefined ? rel : `${rel}:${line}`;
}

/** The file name without its last extension. */
export function stem(name: string): string {
  const b = basename(name);
  const i = b.lastIndexOf(".");
  return i > 0 ? b.slice(0, i) : b;
}

/** Output name for a face crop: `<image stem>_<face id>.<ext>` (one file per face, docs/original.md B25). */
export function cropName(image: string, faceId: string | number): string {
  const b = basename(image);
  const ext = /\.png$/i.test(b) ? "png" : "jpg";
  return `${stem(b).replace(/[^\w.-]/g, "_")}_${String(faceId).replace(/[^\w.-]/g, "_")}.${ext}`;
}

/** Parse a finite number, or undefined. */
export function finite(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const t = s.trim();
  if (t === "") return undefined;
  const v = Number(t);
  return Number.isFinite(v) ? v : undefined;
}

/** Parse a non-negative integer class id below `classes`, or undefined. */
export function classId(s: string | undefined, classes: number): number | undefined {
  if (s === undefined) return undefined;
  const t = s.trim();
  if (!/^\d+(\.0*)?$/.test(t)) return undefined;
  const v = Number(t);
  return v < classes ? v : undefined;
}

/** Options of {@link scanClassFolders}. */
export interface ClassFolderScan {
  /** Dataset root (for `where` labels). */
  root: string;
  /** Folder holding one sub-folder per class. */
  dir: string;
  split: SplitName;
  /** Class id of a folder name, or undefined for an unknown folder. */
  classOf: (folder: string) => number | undefined;
  items: PrepItem[];
  skipped: SkippedRow[];
  /** Reject blank images at prep time. */
  rejectBlank?: boolean;
}

/** Walk `dir/<class>/<image>` and add one emotion item per image (unknown class folders are skipped). */
export async function scanClassFolders(opts: ClassFolderScan): Promise<void> {
  const { root, dir, split, items, skipped } = opts;
  for (const cls of await sortedEntries(dir)) {
    if (!cls.isDirectory) continue;
    const emotion = opts.classOf(cls.name);
    for (const f of await sortedEntries(join(dir, cls.name))) {
      if (!f.isFile || !isImageName(f.name)) continue;
      const path = join(dir, cls.name, f.name);
      if (emotion === undefined) {
        skipped.push({ where: where(root, path), reason: `unknown class folder '${cls.name}'` });
        continue;
      }
      items.push({
        where: where(root, path),
        source: { kind: "file", path },
        labels: { emotion },
        split,
        ...(opts.rejectBlank ? { rejectBlank: true } : {}),
      });
    }
  }
}
