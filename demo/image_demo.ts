/**
 * `deno task demo:image [--run=DIR]... [--heads=...] [--input=FILE_OR_DIR] [--out=DIR] [--detector=ssd|tiny |
 * --cascade=FILE]`: detect faces in photos, run every head on each face crop (clamped; a run's heads see
 * the training preprocessing, the pretrained real-face heads their own) and write the annotated image
 * plus a JSON file with boxes, labels and probabilities per head. Without `--run` the pretrained heads
 * answer; without `--input` it uses face-api's sample photos.
 * @module
 */
import { basename, extname, join } from "node:path";
import { Image } from "imagescript";
import { writeFileAtomic, writeJsonAtomic } from "../core/fs.ts";
import { OptionError } from "../core/options.ts";
import { checkOutDir } from "../core/out_dir.ts";
import type { RgbaImage } from "../datasets/preprocess.ts";
import {
  defaultOutDir,
  demoBackend,
  demoDetector,
  loadHeadSources,
  parseDemoArgs,
  pretrainedTasksOf,
  resolveRunDirs,
  runMain,
} from "./_cli.ts";
import { type FaceBox, type FaceDetector, sampleImages } from "./detect.ts";
import { annotate, cropPixels, cropRect, type PixelRect, TextPainter } from "./draw.ts";
import { type HeadSource, predictFaces } from "./predictor.ts";
import { type HeadJson, headJson, headNote, syntheticBanner } from "./head_output.ts";

/** Image extensions the demo reads. */
export const IMAGE_EXTENSIONS = [".jpg", ".jpeg", ".png"];

/** One face of an annotated image, as written to JSON. */
export interface FaceResult {
  /** Position in the detector's left-to-right order. */
  index: number;
  /** Detected face box. */
  box: FaceBox;
  /** The clamped crop the heads saw. */
  crop: PixelRect;
  /** Milliseconds of head inference for this face (preprocessing included). */
  inferenceMs: number;
  /** Per head: arg-max label, its probability, every class's probability, what it was trained on, estimates. */
  heads: Record<string, HeadJson>;
}

/** Everything the demo found in one image. */
export interface ImageResult {
  /** Input path. */
  image: string;
  /** Image width in pixels. */
  width: number;
  /** Image height in pixels. */
  height: number;
  /** Face detector. */
  detector: string;
  /** Milliseconds of face detection. */
  detectMs: number;
  /** Faces, left to right. */
  faces: FaceResult[];
  /** Written files (absent in a dry run). */
  annotated?: string;
  /** The JSON file written. */
  json?: string;
}

/** Options of {@link processImage}. */
export interface ProcessImageOptions {
  /** Face detector. */
  detector: FaceDetector;
  /** Head sources (pretrained heads and/or one predictor per run; a task comes from the first that has it). */
  predictors: HeadSource[];
  /** Label text renderer. */
  painter: TextPainter;
  /** Output folder; nothing is written when absent. */
  outDir?: string;
  /** Runs behind the predictors, recorded in the JSON. */
  runs?: string[];
}

/** Decode a JPEG or PNG file into an imagescript image; the error names the file. */
export async function readImage(path: string): Promise<Image> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    throw new Error(`--input=${path}: cannot read the file (${(e as Error).message})`);
  }
  try {
    return await Image.decode(bytes);
  } catch (e) {
    throw new Error(`${path}: not a readable JPEG/PNG image (${(e as Error).message})`);
  }
}

/** Pixels of an imagescript image in the shared {@link RgbaImage} form (no copy). */
export function rgbaOf(img: Image): RgbaImage {
  return { width: img.width, height: img.height, data: img.bitmap };
}

/** The images an `--input` names: a file, or the JPEG/PNG files of a folder (sorted); default: face-api's samples. */
export async function listImages(input?: string): Promise<string[]> {
  if (input === undefined) return sampleImages();
  let st: Deno.FileInfo;
  try {
    st = await Deno.stat(input);
  } catch (e) {
    throw new OptionError(`--input=${input}: ${(e as Error).message.split(":")[0]}`);
  }
  if (st.isFile) {
    if (!IMAGE_EXTENSIONS.includes(extname(input).toLowerCase())) {
      throw new OptionError(`--input=${input}: expected a ${IMAGE_EXTENSIONS.join("/")} file or a folder`);
    }
    return [input];
  }
  const out: string[] = [];
  for await (const e of Deno.readDir(input)) {
    if (e.isFile && IMAGE_EXTENSIONS.includes(extname(e.name).toLowerCase())) out.push(join(input, e.name));
  }
  if (out.length === 0) {
    throw new OptionError(`--input=${input}: the folder holds no ${IMAGE_EXTENSIONS.join("/")} files`);
  }
  return out.sort();
}

/** Detect, crop, predict and (with `outDir`) write the annotated image and its JSON. */
export async function processImage(path: string, opts: ProcessImageOptions): Promise<ImageResult> {
  const img = await readImage(path);
  const px = rgbaOf(img);
  const t0 = performance.now();
  const boxes = await opts.detector.detect(px);
  const detectMs = performance.now() - t0;
  const faces: FaceResult[] = [];
  for (const [index, box] of boxes.entries()) {
    const crop = cropRect(box, img.width, img.height);
    const t1 = performance.now();
    const [heads] = await predictFaces(opts.predictors, [cropPixels(px, crop)]);
    const inferenceMs = performance.now() - t1;
    faces.push({
      index,
      box,
      crop,
      inferenceMs,
      heads: Object.fromEntries(heads.map((h) => [h.task, headJson(h)])),
    });
  }
  const result: ImageResult = {
    image: path,
    width: img.width,
    height: img.height,
    detector: opts.detector.name,
    detectMs,
    faces,
  };
  if (opts.outDir === undefined) return result;
  await annotate(
    img,
    faces.map((f) => ({
      box: f.box,
      heads: Object.entries(f.heads).map(([task, h]) => ({
        task,
        label: h.label,
        prob: h.prob,
        note: headNote(h),
      })),
    })),
    { painter: opts.painter, banner: syntheticBanner(opts.predictors) },
  );
  const ext = extname(path).toLowerCase();
  const stem = basename(path, extname(path));
  const png = ext === ".png";
  result.annotated = join(opts.outDir, `${stem}_annotated${png ? ".png" : ".jpg"}`);
  result.json = join(opts.outDir, `${stem}.json`);
  await writeFileAtomic(result.annotated, png ? await img.encode() : await img.encodeJPEG(90));
  await writeJsonAtomic(result.json, {
    image: path,
    width: img.width,
    height: img.height,
    detector: opts.detector.name,
    runs: opts.runs ?? [],
    sources: opts.predictors.map((p) => p.source),
    detect_ms: round(detectMs),
    faces: faces.map((f) => ({
      index: f.index,
      box: { x: round(f.box.x), y: round(f.box.y), width: round(f.box.width), height: round(f.box.height) },
      score: round(f.box.score, 4),
      crop: f.crop,
      inference_ms: round(f.inferenceMs),
      heads: f.heads,
    })),
  });
  return result;
}

function round(v: number, digits = 1): number {
  const k = 10 ** digits;
  return Math.round(v * k) / k;
}

/** The image demo's command line; returns an exit code. */
export async function imageDemoMain(args: string[]): Promise<number> {
  const o = parseDemoArgs(args, {
    title: "deno task demo:image [--run=DIR]... [--heads=pretrained[:HEADS]|run] [--input=FILE_OR_DIR] " +
      "[--out=DIR] [--detector=ssd|tiny | --cascade=FILE]",
  });
  if (!o) return 0;
  const quiet = o.quiet === true;
  const inputs = await listImages(typeof o.input === "string" ? o.input : undefined);
  const runs = await resolveRunDirs(o);
  const pretrained = pretrainedTasksOf(o, runs);
  const outDir = typeof o.out === "string" ? o.out : defaultOutDir(runs);
  await checkOutDir(outDir);
  if (o.dry_run) {
    const msg = { inputs, runs, pretrained, out: outDir, written: false };
    console.log(
      o.json
        ? JSON.stringify(msg, null, 2)
        : `dry run: ${inputs.length} image(s), run(s) ${runs.join(", ") || "none"}, pretrained heads ${
          pretrained.join(", ") || "none"
        }; nothing written`,
    );
    return 0;
  }
  const backend = await demoBackend(o);
  const predictors = await loadHeadSources(runs, o);
  const detector = await demoDetector(o);
  const painter = await TextPainter.load(typeof o.font === "string" ? o.font : undefined);
  if (!quiet && !o.json) {
    console.log(
      `backend ${backend}, detector ${detector.name}, heads ${
        predictors.flatMap((p) => p.tasks.map((t) => t.name)).join(", ")
      }`,
    );
  }
  const results: ImageResult[] = [];
  try {
    for (const path of inputs) {
      const r = await processImage(path, { detector, predictors, painter, outDir, runs });
      results.push(r);
      if (!quiet && !o.json) {
        console.log(
          `${path}: ${r.faces.length} face(s), detection ${r.detectMs.toFixed(0)} ms -> ${r.annotated}`,
        );
        for (const f of r.faces) {
          const heads = Object.entries(f.heads).map(([t, h]) =>
            `${t} ${h.label} ${h.prob.toFixed(2)}${headNote(h) ? ` (${headNote(h)})` : ""}`
          ).join(", ");
          console.log(`  face ${f.index}: ${heads} (inference ${f.inferenceMs.toFixed(1)} ms)`);
        }
      }
    }
  } finally {
    predictors.forEach((p) => p.dispose());
  }
  if (o.json) {
    console.log(JSON.stringify(
      results.map((r) => ({
        image: r.image,
        annotated: r.annotated,
        json: r.json,
        faces: r.faces.length,
        detect_ms: round(r.detectMs),
      })),
      null,
      2,
    ));
  } else if (quiet) {
    console.log(
      `${results.length} image(s), ${results.reduce((a, r) => a + r.faces.length, 0)} face(s) -> ${outDir}`,
    );
  }
  return 0;
}

if (import.meta.main) await runMain(imageDemoMain);
