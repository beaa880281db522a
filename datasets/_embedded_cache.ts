/**
 * Shared plumbing of the embedded (generated) datasets: the on-disk cache of rendered pixels and own-task
 * labels, the separate hidden-truth file, and the conversion of 8-bit RGB rows into an {@link ImageSet}.
 *
 * Cache layout: `<cacheDir>/<kind>/<name>-<seed>-<size>-<n>-<hash>.bin` holds the pixels and the labels the
 * dataset carries; `<same>.truth.json` holds every task's truth and is read only by evaluation. Training
 * reads only the `.bin`, so it is identical with or without the truth file. Both are written atomically.
 * @module
 */
import { join } from "node:path";
import { exists, writeFileAtomic, writeJsonAtomic } from "../core/fs.ts";
import { hashString } from "../core/rng.ts";
import type { HiddenTruth, ImageSet, LoadOptions, TaskName, TaskSpec } from "../core/types.ts";
import { preprocessPixels } from "./preprocess.ts";
import { kfoldSplit, type Split, strataKey, stratifiedSplit } from "./splits.ts";

const MAGIC = "SAMTLEMB";
const FORMAT_VERSION = 1;

/** Options every embedded dataset accepts on top of {@link LoadOptions}. */
export interface EmbeddedOptions {
  /** Cache root (default `.cache`); set `cache: false` to always regenerate. */
  cacheDir?: string;
  /** Whether to read and write the cache (default true). */
  cache?: boolean;
  /** K of the compat K-fold split (default 5). */
  compatFolds?: number;
}

/** Generated rows: 8-bit RGB pixels plus the labels the dataset carries. */
export interface GeneratedRows {
  n: number;
  size: number;
  /** n*size*size*3 bytes, RGB. */
  rgb: Uint8Array;
  /** The dataset's own task labels. */
  labels: Partial<Record<TaskName, Int32Array>>;
}

/** Hidden truth of generated rows, with continuous attributes (e.g. yaw in degrees). */
export interface EmbeddedTruth extends HiddenTruth {
  n: number;
  attributes: Record<string, Float32Array>;
}

/** Cache file paths of one generated dataset. */
export interface CachePaths {
  bin: string;
  truth: string;
}

/** Short stable hash (hex) of a JSON-able value. */
export function configHash(value: unknown): string {
  return (hashString(JSON.stringify(value)) >>> 0).toString(16).padStart(8, "0");
}

/** Where a generated dataset is cached. */
export function cachePaths(
  kind: string,
  key: { name: string; seed: number; size: number; n: number; hash: string },
  dir?: string,
): CachePaths {
  const base = join(dir ?? ".cache", kind, `${key.name}-${key.seed}-${key.size}-${key.n}-${key.hash}`);
  return { bin: `${base}.bin`, truth: `${base}.truth.json` };
}

/** Serialise generated rows (own labels only). */
export function encodeRows(name: string, rows: GeneratedRows): Uint8Array {
  const tasks = Object.keys(rows.labels) as TaskName[];
  const header = new TextEncoder().encode(JSON.stringify({ name, n: rows.n, size: rows.size, tasks }));
  const headerPad = (4 - (header.length % 4)) % 4;
  const total = 16 + header.length + headerPad + tasks.length * rows.n * 4 + rows.rgb.length;
  const out = new Uint8Array(total);
  out.set(new TextEncoder().encode(MAGIC), 0);
  const dv = new DataView(out.buffer);
  dv.setUint32(8, FORMAT_VERSION, true);
  dv.setUint32(12, header.length, true);
  out.set(header, 16);
  let o = 16 + header.length + headerPad;
  for (const t of tasks) {
    out.set(new Uint8Array(rows.labels[t]!.buffer, rows.labels[t]!.byteOffset, rows.n * 4), o);
    o += rows.n * 4;
  }
  out.set(rows.rgb, o);
  return out;
}

/** Parse a cache file written by {@link encodeRows}; throws naming the file when it is damaged. */
export function decodeRows(bytes: Uint8Array, file: string): GeneratedRows {
  const bad = (why: string) => new Error(`${file}: damaged dataset cache (${why}); delete it to regenerate`);
  if (bytes.length < 16 || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) throw bad("bad magic");
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dv.getUint32(8, true) !== FORMAT_VERSION) throw bad("unknown format version");
  const hl = dv.getUint32(12, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + hl))) as {
    n: number;
    size: number;
    tasks: TaskName[];
  };
  let o = 16 + hl + ((4 - (hl % 4)) % 4);
  const px = header.n * header.size * header.size * 3;
  if (bytes.length !== o + header.tasks.length * header.n * 4 + px) throw bad("truncated");
  const labels: Partial<Record<TaskName, Int32Array>> = {};
  for (const t of header.tasks) {
    labels[t] = new Int32Array(bytes.slice(o, o + header.n * 4).buffer);
    o += header.n * 4;
  }
  return { n: header.n, size: header.size, rgb: bytes.slice(o, o + px), labels };
}

/** Serialise hidden truth as JSON. */
export function encodeTruth(t: EmbeddedTruth): unknown {
  const obj = (r: Record<string, ArrayLike<number> | undefined>) =>
    Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Array.from(v ?? [])]));
  return { dataset: t.dataset, n: t.n, labels: obj(t.labels), attributes: obj(t.attributes) };
}

/** Parse hidden truth JSON written by {@link encodeTruth}. */
export function decodeTruth(text: string, file: string): EmbeddedTruth {
  let raw: {
    dataset: string;
    n: number;
    labels: Record<string, number[]>;
    attributes: Record<string, number[]>;
  };
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: damaged hidden-truth file (${(e as Error).message}); delete it to regenerate`);
  }
  const labels: Partial<Record<TaskName, Int32Array>> = {};
  for (const [k, v] of Object.entries(raw.labels)) labels[k as TaskName] = Int32Array.from(v);
  const attributes: Record<string, Float32Array> = {};
  for (const [k, v] of Object.entries(raw.attributes ?? {})) attributes[k] = Float32Array.from(v);
  return { dataset: raw.dataset, n: raw.n, labels, attributes };
}

/** A generator of one embedded dataset: pixels + own labels, and the full truth. */
export interface EmbeddedSource {
  kind: string;
  key: { name: string; seed: number; size: number; n: number; hash: string };
  generate():
    | { rows: GeneratedRows; truth: EmbeddedTruth }
    | Promise<{ rows: GeneratedRows; truth: EmbeddedTruth }>;
}

async function generateAndStore(src: EmbeddedSource, paths: CachePaths | null) {
  const out = await src.generate();
  if (paths) {
    await writeFileAtomic(paths.bin, encodeRows(src.key.name, out.rows));
    await writeJsonAtomic(paths.truth, encodeTruth(out.truth));
  }
  return out;
}

/** Own-label rows, from the cache when present (never reads the truth file). */
export async function loadRows(src: EmbeddedSource, opts: EmbeddedOptions): Promise<GeneratedRows> {
  const paths = opts.cache === false ? null : cachePaths(src.kind, src.key, opts.cacheDir);
  if (paths && await exists(paths.bin)) return decodeRows(await Deno.readFile(paths.bin), paths.bin);
  return (await generateAndStore(src, paths)).rows;
}

/** Hidden truth, from the truth file when present, else regenerated (and cached). */
export async function loadTruth(src: EmbeddedSource, opts: EmbeddedOptions): Promise<EmbeddedTruth> {
  const paths = opts.cache === false ? null : cachePaths(src.kind, src.key, opts.cacheDir);
  if (paths && await exists(paths.truth)) {
    return decodeTruth(await Deno.readTextFile(paths.truth), paths.truth);
  }
  return (await generateAndStore(src, paths)).truth;
}

/**
 * Turn 8-bit RGB rows into an {@link ImageSet}: the shared preprocessing (identity resize, grayscale or
 * BGR, x/128 - 1) and the split (stratified by the own labels, or the compat fold-0 K-fold).
 */
/**
 * Contiguous parts: the last `test` rows are the test split, the `val` rows before them validation, the rest
 * training (the rows generated beyond the training set, see `LoadOptions.heldOutRows`).
 */
export function heldOutSplit(n: number, rows: { val: number; test: number }): Split {
  const train = n - rows.val - rows.test;
  if (!(Number.isInteger(rows.val) && Number.isInteger(rows.test) && rows.val >= 0 && rows.test >= 0)) {
    throw new RangeError(`held-out rows must be integers >= 0, got val ${rows.val}, test ${rows.test}`);
  }
  if (train < 1) {
    throw new RangeError(`held-out rows (${rows.val} + ${rows.test}) leave no training rows of ${n}`);
  }
  const range = (from: number, count: number) => Int32Array.from({ length: count }, (_, i) => from + i);
  return { train: range(0, train), val: range(train, rows.val), test: range(train + rows.val, rows.test) };
}

/** Total rows to generate: the training rows plus any held-out rows beyond them. */
export function generatedRows(size: number, opts: { heldOutRows?: { val: number; test: number } }): number {
  return size + (opts.heldOutRows ? opts.heldOutRows.val + opts.heldOutRows.test : 0);
}

export function toImageSet(
  name: string,
  rows: GeneratedRows,
  opts: LoadOptions & EmbeddedOptions & { tasks: TaskSpec[] },
): ImageSet {
  const { n, size } = rows;
  const c = opts.channels;
  const images = new Float32Array(n * size * size * c);
  const rgba = new Uint8Array(size * size * 4);
  const px = size * size;
  for (let i = 0; i < n; i++) {
    const src = rows.rgb.subarray(i * px * 3, (i + 1) * px * 3);
    for (let p = 0; p < px; p++) {
      rgba[p * 4] = src[p * 3];
      rgba[p * 4 + 1] = src[p * 3 + 1];
      rgba[p * 4 + 2] = src[p * 3 + 2];
      rgba[p * 4 + 3] = 255;
    }
    preprocessPixels({ width: size, height: size, data: rgba }, { size, channels: c }, images, i * px * c);
  }
  const labelCols = opts.tasks.map((t) => rows.labels[t.name]!);
  let split: Split;
  if (opts.compatSplit) {
    split = kfoldSplit(n, { k: opts.compatFolds ?? 5, seed: 1 });
  } else if (opts.heldOutRows) {
    split = heldOutSplit(n, opts.heldOutRows);
  } else {
    split = stratifiedSplit(strataKey(labelCols, opts.tasks.map((t) => t.classes)), {
      seed: opts.seed,
      valFraction: opts.valFraction,
      testFraction: opts.testFraction,
    });
  }
  return {
    name,
    tasks: opts.tasks,
    n,
    height: size,
    width: size,
    channels: c,
    images,
    labels: rows.labels,
    split,
  };
}
