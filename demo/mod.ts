/**
 * Image and video demos: face detection (face-api or an OpenCV Haar cascade), the pretrained real-face
 * heads and/or every trained head on each face crop, annotated outputs and JSON. Entry points:
 * `deno task demo:image` (`image_demo.ts`), `deno task demo:video` (`video_demo.ts`) and
 * `deno task demo:agreement` (`pretrained/agreement_cli.ts`: the heads against hand-labelled real faces).
 *
 * ```ts
 * import { loadDetector, loadRunPredictor, processImage, TextPainter } from "./demo/mod.ts";
 * const detector = await loadDetector({ detector: "tiny" });
 * const predictor = await loadRunPredictor("runs/my-run");
 * const r = await processImage("photo.jpg", { detector, predictors: [predictor], painter: await TextPainter.load(), outDir: "out" });
 * ```
 * @module
 */
export * from "./detect.ts";
export * from "./haar.ts";
export * from "./draw.ts";
export * from "./track.ts";
export * from "./video_io.ts";
export * from "./predictor.ts";
export * from "./head_output.ts";
export * from "./pretrained/mod.ts";
export {
  IMAGE_EXTENSIONS,
  imageDemoMain,
  listImages,
  processImage,
  readImage,
  rgbaOf,
} from "./image_demo.ts";
export type { FaceResult, ImageResult, ProcessImageOptions } from "./image_demo.ts";
export { makeSampleGif, processVideo, VIDEO_OPTIONS, videoDemoMain } from "./video_demo.ts";
export {
  AGREEMENT_EXTRA_OPTIONS,
  AGREEMENT_FORMAT_VERSION,
  AGREEMENT_OPTIONS,
  agreementMain,
} from "./pretrained/agreement_cli.ts";
export type {
  FrameResult,
  ProcessVideoOptions,
  SampleGifOptions,
  TrackedFace,
  VideoResult,
} from "./video_demo.ts";
export type { RgbaImage } from "../datasets/preprocess.ts";
export type { ModelExtension, MultiTaskModel, TaskSpec } from "../core/types.ts";
export type { Options } from "../core/options.ts";
