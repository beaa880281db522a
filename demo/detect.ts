/**
 * Face detectors for the demos: face-api's tiny face detector or SSD MobileNet v1 (weights shipped
 * in the `@vladmandic/face-api` npm package, run on plain TensorFlow.js, no tfjs-node), or an OpenCV
 * Haar cascade XML evaluated by `haar.ts` (the original demos' detector, scale 1.3, min-neighbours 5).
 * @module
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import faceapi from "@vladmandic/face-api/dist/face-api.node-wasm.js";
import type { RgbaImage } from "../datasets/preprocess.ts";
import { detectMultiScale, type HaarCascade, loadCascade, rgbaToGray } from "./haar.ts";

/** A face box in image pixels (top-left corner, size) with a detector score in [0, 1]. */
export interface FaceBox {
  /** Left edge in pixels. */
  x: number;
  /** Top edge in pixels. */
  y: number;
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** Detector confidence in [0, 1] (1 for a Haar cascade). */
  score: number;
}

/** Detector kinds accepted by `--detector` (`haar` is chosen by giving `--cascade=FILE`). */
export type DetectorKind = "tiny" | "ssd" | "haar";

/** A loaded face detector. */
export interface FaceDetector {
  /** Which detector this is, for logs and JSON output. */
  readonly name: DetectorKind;
  /** Find faces; boxes are sorted left to right. */
  detect(img: RgbaImage): Promise<FaceBox[]>;
}

/** Options of {@link loadDetector}. */
export interface DetectorOptions {
  /** `tiny` (default) or `ssd`; ignored when `cascade` is given. */
  detector?: "tiny" | "ssd";
  /** An OpenCV Haar cascade XML file: selects the Haar detector. */
  cascade?: string;
  /** Minimum face-api score (default 0.5). */
  minScore?: number;
  /** Tiny detector input side, a multiple of 32 (default 416). */
  inputSize?: number;
  /** Haar pyramid step (default 1.3, as the original demos). */
  scaleFactor?: number;
  /** Haar grouping threshold (default 5, as the original demos). */
  minNeighbors?: number;
  /** Folder with face-api weights (default: the npm package's `model/`). */
  modelDir?: string;
}

/** The folder holding `@vladmandic/face-api` (its `model/` weights and `demo/` sample photos). */
export function faceApiDir(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve("@vladmandic/face-api/package.json"));
}

/** The sample group photos shipped with face-api (`demo/sample1.jpg` ... `sample6.jpg`). */
export function sampleImages(): string[] {
  const dir = join(faceApiDir(), "demo");
  return [1, 2, 3, 4, 5, 6].map((i) => join(dir, `sample${i}.jpg`));
}

const loaded = new Set<string>();

function rgbTensor(img: RgbaImage) {
  const n = img.width * img.height;
  const rgb = new Int32Array(n * 3);
  const d = img.data;
  for (let i = 0, j = 0, k = 0; i < n; i++, j += 4) {
    rgb[k++] = d[j];
    rgb[k++] = d[j + 1];
    rgb[k++] = d[j + 2];
  }
  return faceapi.tf.tensor3d(rgb, [img.height, img.width, 3], "int32");
}

function sortBoxes(boxes: FaceBox[]): FaceBox[] {
  return boxes.sort((a, b) => a.x - b.x || a.y - b.y);
}

async function loadFaceApi(kind: "tiny" | "ssd", opts: DetectorOptions): Promise<FaceDetector> {
  const dir = opts.modelDir ?? join(faceApiDir(), "model");
  const net = kind === "tiny" ? faceapi.nets.tinyFaceDetector : faceapi.nets.ssdMobilenetv1;
  const key = `${kind}:${dir}`;
  if (!loaded.has(key)) {
    try {
      await net.loadFromDisk(dir);
    } catch (e) {
      throw new Error(`face-api ${kind} detector: cannot load weights from ${dir} (${(e as Error).message})`);
    }
    loaded.add(key);
  }
  const minScore = opts.minScore ?? 0.5;
  const options = kind === "tiny"
    ? new faceapi.TinyFaceDetectorOptions({ inputSize: opts.inputSize ?? 416, scoreThreshold: minScore })
    : new faceapi.SsdMobilenetv1Options({ minConfidence: minScore });
  return {
    name: kind,
    async detect(img: RgbaImage): Promise<FaceBox[]> {
      const x = rgbTensor(img);
      try {
        const found = await faceapi.detectAllFaces(x, options);
        return sortBoxes(found.map((f) => ({
          x: f.box.x,
          y: f.box.y,
          width: f.box.width,
          height: f.box.height,
          score: f.score,
        })));
      } finally {
        x.dispose();
      }
    },
  };
}

/** Wrap a parsed cascade as a {@link FaceDetector} (score = 1: a cascade has no calibrated score). */
export function haarDetector(
  cascade: HaarCascade,
  opts: { scaleFactor?: number; minNeighbors?: number } = {},
): FaceDetector {
  return {
    name: "haar",
    detect(img: RgbaImage): Promise<FaceBox[]> {
      const found = detectMultiScale(cascade, rgbaToGray(img), {
        scaleFactor: opts.scaleFactor ?? 1.3,
        minNeighbors: opts.minNeighbors ?? 5,
      });
      return Promise.resolve(
        sortBoxes(found.map((r) => ({ x: r.x, y: r.y, width: r.width, height: r.height, score: 1 }))),
      );
    },
  };
}

/** Load the detector the options select (`cascade` wins over `detector`). */
export async function loadDetector(opts: DetectorOptions = {}): Promise<FaceDetector> {
  if (opts.cascade) return haarDetector(await loadCascade(opts.cascade), opts);
  const kind = opts.detector ?? "tiny";
  if (kind !== "tiny" && kind !== "ssd") throw new Error(`--detector=${kind}: expected tiny or ssd`);
  return await loadFaceApi(kind, opts);
}
