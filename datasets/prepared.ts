/**
 * Load a prepared dataset: `<dataDir>/db/<name>_cleaned.csv` (written by `deno task prep`, or by the
 * original Python converters) -> validated rows -> decoded, preprocessed images -> {@link ImageSet}.
 *
 * - Every row is checked: class ids in range for the label space, the file exists and decodes. A bad
 *   row is a one-line error naming the CSV row and file; with `skipBadSamples` it is skipped and listed.
 * - Decoded images are cached on disk (`.cache/decoded/<hash>.f32` + `.json`), keyed by the CSV, the
 *   image size/channels and every image file's size and mtime, so an epoch never decodes JPEGs again.
 * - Splits (via `splits.ts`): the CSV's official `split` tags (FER2013/FER+ Usage, SFEW Train/Val,
 *   Adience folds) with any missing part carved out of train; otherwise the shared seeded stratified
 *   train/val/test split; `compatSplit` gives the original fold-0 split of
 *   `KFold(5, shuffle=True, random_state=1)` (numpy's shuffle reproduced; val = test).
 * @module
 */
import { dirname, isAbsolute, join, resolve } from "node:path";
import { parseCsv } from "../core/csv.ts";
import { writeFileAtomic, writeJsonAtomic } from "../core/fs.ts";
import type { ImageSet, LoadOptions, TaskName } from "../core/types.ts";
import { readImage } from "./image_io.ts";
import { DATASET_TASKS, labelSpace, type RealDatasetName } from "./label_spaces.ts";
import { DatasetNotFoundError, getLoader, notFoundMessage, type SkippedRow } from "./loaders/mod.ts";
import { preprocessPixels } from "./preprocess.ts";
import { DEFAULT_TEST_FRACTION, DEFAULT_VAL_FRACTION, kfoldSplit, stratifiedSplit } from "./splits.ts";

/** Bumped whenever decoding or preprocessing changes, so stale caches are not reused. */
const CACHE_VERSION = "prepared-v1:preprocessPixels-bilinear";

/** Options of {@link loadPrepared}: the common {@link LoadOptions} plus cache and logging control. */
export interface PreparedLoadOptions extends LoadOptions {
  /** Folder of the decoded-image cache (default `.cache/decoded`). */
  cacheDir?: string;
  /** Neither read nor write the decoded-image cache. */
  noCache?: boolean;
  /** Where skipped rows are listed (default `console.warn`). */
  log?: (line: string) => void;
}

/** What {@link loadPreparedDetailed} returns. */
export interface PreparedLoadResult {
  set: ImageSet;
  /** Rows left out (only with `skipBadSamples`; otherwise the first bad row throws). */
  skipped: SkippedRow[];
  /** True when the images came from the decoded-image cache. */
  cacheHit: boolean;
  /** The CSV that was read. */
  csv: string;
}

/** Error for a bad prepared CSV or row; one line naming the file and row. */
export class PreparedDataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PreparedDataError";
  }
}

/** Options of {@link makeSplit}. */
export interface SplitOptions {
  seed: number;
  valFraction?: number;
  testFraction?: number;
  compatSplit?: boolean;
  /** A stratum (class, or combined class of several tasks) per row. */
  strata: Int32Array;
  /** Official split tag per row (`train`, `val`, `test` or "" for none). */
  tags?: readonly string[];
}

/** Take `count` rows of `pool`, stratified, with the shared seeded splitter; returns [taken, rest]. */
function carve(pool: number[], strata: Int32Array, count: number, seed: number): [number[], number[]] {
  if (count <= 0 || pool.length === 0) return [[], pool];
  const sub = Int32Array.from(pool, (i) => strata[i]);
  const s = stratifiedSplit(sub, { seed, valFraction: count / pool.length, testFraction: 0 });
  const taken = Array.from(s.val, (j) => pool[j]);
  const rest = Array.from(s.train, (j) => pool[j]);
  return [taken, rest];
}

/**
 * Train/val/test row indices for n rows: `compatSplit` -> the original KFold(5) fold 0 (val = test);
 * official tags -> those parts, any missing val/test part carved (stratified, at least one row when its
 * fraction is non-zero) out of train; no tags -> the shared seeded stratified split.
 */
export function makeSplit(n: number, opts: SplitOptions): ImageSet["split"] {
  if (opts.compatSplit) return kfoldSplit(n, { k: 5, seed: 1, fold: 0 });
  const vf = opts.valFraction ?? DEFAULT_VAL_FRACTION, tf = opts.testFraction ?? DEFAULT_TEST_FRACTION;
  const tags = opts.tags ?? [];
  if (!tags.some((t) => t !== "")) {
    return stratifiedSplit(opts.strata, { seed: opts.seed, valFraction: vf, testFraction: tf });
  }
  let train: number[] = [], val: number[] = [], test: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = tags[i] ?? "";
    if (t === "val") val.push(i);
    else if (t === "test") test.push(i);
    else train.push(i);
  }
  const want = (f: number) => (f > 0 ? Math.min(Math.max(1, Math.round(f * n)), train.length - 1) : 0);
  if (test.length === 0) [test, train] = carve(train, opts.strata, want(tf), opts.seed);
  if (val.length === 0) [val, train] = carve(train, opts.strata, want(vf), opts.seed + 1);
  const arr = (a: number[]) => Int32Array.from(a).sort();
  return { train: arr(train), val: arr(val), test: arr(test) };
}

/** The prepared CSV of a dataset under `dataDir`, or undefined (also finds the original `SFEW_cleaned.csv`). */
export async function findPreparedCsv(name: RealDatasetName, dataDir: string): Promise<string | undefined> {
  const want = `${name}_cleaned.csv`;
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(join(dataDir, "db"))) if (e.isFile) names.push(e.name);
  } catch { /* no db folder */ }
  const hit = names.includes(want) ? want : names.sort().find((n) => n.toLowerCase() === want);
  return hit === undefined ? undefined : join(dataDir, "db", hit);
}

async function statKey(path: string): Promise<string | undefined> {
  try {
    const st = await Deno.stat(path);
    return st.isFile ? `${st.size}:${st.mtime?.getTime() ?? 0}` : undefined;
  } catch {
    return undefined;
  }
}

async function sha256Hex(text: string): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, "0")).join("");
}

interface CacheMeta {
  version: string;
  n: number;
  height: number;
  width: number;
  channels: number;
  /** Candidate positions that decoded, in order. */
  kept: number[];
  /** Candidates that did not decode: [position, reason]. */
  bad: [number, string][];
}

/** Load a prepared dataset and report what was skipped and whether the cache was used. */
export async function loadPreparedDetailed(
  name: string,
  opts: PreparedLoadOptions,
): Promise<PreparedLoadResult> {
  const loader = getLoader(name);
  const ds = loader.name;
  const dataDir = opts.dataDir ?? "data";
  const { imageSize: size, channels } = opts;
  if (!(Number.isInteger(size) && size >= 1)) {
    throw new RangeError(`imageSize must be a positive integer, got ${size}`);
  }
  const csv = await findPreparedCsv(ds, dataDir);
  if (!csv) {
    throw new DatasetNotFoundError(
      `no prepared CSV ${join(dataDir, "db", `${ds}_cleaned.csv`)}: ${notFoundMessage(ds, dataDir)}`,
    );
  }
  let table;
  try {
    table = parseCsv(await Deno.readTextFile(csv), csv);
  } catch (e) {
    throw new PreparedDataError((e as Error).message);
  }
  const tasks = DATASET_TASKS[ds];
  const specs = tasks.map((t) => labelSpace(ds, t));
  for (const c of ["full_path", ...tasks]) {
    if (!table.columns.includes(c)) {
      throw new PreparedDataError(
        `${csv}: no '${c}' column (found: ${
          table.columns.join(", ")
        }); re-run deno task prep --dataset=${ds}`,
      );
    }
  }
  const skipped: SkippedRow[] = [];
  const bad = (row: number, path: string, reason: string) => {
    const where = `${csv} row ${row + 2}${path ? ` (${path})` : ""}`;
    if (!opts.skipBadSamples) throw new PreparedDataError(`${where}: ${reason}`);
    skipped.push({ where, reason });
  };
  // Paths are relative to dataDir (prep's output); the original CSVs used paths starting with `data/`.
  const roots = [dataDir, dirname(resolve(dataDir))];
  interface Cand {
    row: number;
    path: string;
    key: string;
    labels: number[];
    tag: string;
  }
  const cands: Cand[] = [];
  for (let r = 0; r < table.rows.length; r++) {
    const row = table.rows[r];
    const fp = (row.full_path ?? "").trim();
    if (fp === "") {
      bad(r, "", "empty full_path");
      continue;
    }
    const labels: number[] = [];
    let err: string | undefined;
    specs.forEach((s, k) => {
      const v = (row[s.name] ?? "").trim();
      const c = /^\d+(\.0*)?$/.test(v) ? Number(v) : NaN;
      if (!(c >= 0 && c < s.classes)) err ??= `${s.name} '${v}' is not a class id 0-${s.classes - 1}`;
      labels[k] = c;
    });
    const tag = (row.split ?? "").trim().toLowerCase();
    if (!["", "train", "val", "test"].includes(tag)) err ??= `split '${row.split}' is not train, val or test`;
    if (err) {
      bad(r, fp, err);
      continue;
    }
    let path: string | undefined, key: string | undefined;
    for (const base of isAbsolute(fp) ? [""] : roots) {
      const p = base ? join(base, fp) : fp;
      key = await statKey(p);
      if (key) {
        path = p;
        break;
      }
    }
    if (!path || !key) {
      bad(r, fp, `missing file (looked under ${isAbsolute(fp) ? "/" : roots.join(" and ")})`);
      continue;
    }
    cands.push({ row: r, path, key, labels, tag });
  }

  const px = size * size * channels;
  const cacheDir = opts.cacheDir ?? join(".cache", "decoded");
  const hash = await sha256Hex(
    JSON.stringify([CACHE_VERSION, resolve(csv), size, channels, cands.map((c) => [resolve(c.path), c.key])]),
  );
  const blobPath = join(cacheDir, `${hash}.f32`), metaPath = join(cacheDir, `${hash}.json`);
  let images: Float32Array | undefined;
  let meta: CacheMeta | undefined;
  let cacheHit = false;
  if (!opts.noCache) {
    try {
      const m = JSON.parse(await Deno.readTextFile(metaPath)) as CacheMeta;
      const bytes = await Deno.readFile(blobPath);
      if (m.version === CACHE_VERSION && bytes.byteLength === m.kept.length * px * 4) {
        images = bytes.byteOffset % 4 === 0
          ? new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4)
          : new Float32Array(bytes.slice().buffer);
        meta = m;
        cacheHit = true;
      }
    } catch { /* no usable cache entry */ }
  }
  if (!meta || !images) {
    const kept: number[] = [];
    const badDecode: [number, string][] = [];
    let buf = new Float32Array(cands.length * px);
    for (let i = 0; i < cands.length; i++) {
      try {
        const img = await readImage(cands[i].path);
        preprocessPixels(img, { size, channels }, buf, kept.length * px);
        kept.push(i);
      } catch (e) {
        const reason = `unreadable image: ${(e as Error).message}`;
        if (!opts.skipBadSamples) bad(cands[i].row, cands[i].path, reason);
        badDecode.push([i, reason]);
      }
    }
    if (kept.length < cands.length) buf = buf.slice(0, kept.length * px);
    images = buf;
    meta = {
      version: CACHE_VERSION,
      n: kept.length,
      height: size,
      width: size,
      channels,
      kept,
      bad: badDecode,
    };
    if (!opts.noCache) {
      await writeFileAtomic(blobPath, new Uint8Array(images.buffer, images.byteOffset, images.byteLength));
      await writeJsonAtomic(metaPath, meta);
    }
  }
  for (const [i, reason] of meta.bad) bad(cands[i].row, cands[i].path, reason);

  const n = meta.kept.length;
  const labels: Partial<Record<TaskName, Int32Array>> = {};
  specs.forEach((s, k) => {
    labels[s.name] = Int32Array.from(meta!.kept, (i) => cands[i].labels[k]);
  });
  const strata = Int32Array.from(
    meta.kept,
    (i) => cands[i].labels.reduce((a, c, k) => a * specs[k].classes + c, 0),
  );
  const split = makeSplit(n, {
    seed: opts.seed,
    valFraction: opts.valFraction,
    testFraction: opts.testFraction,
    compatSplit: opts.compatSplit,
    strata,
    tags: meta.kept.map((i) => cands[i].tag),
  });
  if (skipped.length > 0) {
    const log = opts.log ?? ((s: string) => console.warn(s));
    log(`${ds}: skipped ${skipped.length} bad row(s) of ${csv}:`);
    for (const s of skipped.slice(0, 20)) log(`  ${s.where}: ${s.reason}`);
    if (skipped.length > 20) log(`  ... and ${skipped.length - 20} more`);
  }
  const set: ImageSet = {
    name: ds,
    tasks: specs,
    n,
    height: size,
    width: size,
    channels,
    images,
    labels,
    split,
    paths: meta.kept.map((i) => cands[i].path),
  };
  return { set, skipped, cacheHit, csv };
}

/**
 * Load a prepared real dataset as an {@link ImageSet} (see the module doc). Throws
 * `DatasetNotFoundError` with download and prep instructions when the CSV is absent.
 */
export async function loadPrepared(name: string, opts: PreparedLoadOptions): Promise<ImageSet> {
  return (await loadPreparedDetailed(name, opts)).set;
}
