/**
 * Image files <-> raw RGBA pixels with imagescript: decode JPEG/PNG/GIF/TIFF, encode PNG/JPEG,
 * crop with clamping to the image bounds (docs/original.md B26's unclamped crops), grayscale pixel buffers.
 * @module
 */
import { decode as isDecode, Image } from "imagescript";
import type { RgbaImage } from "./preprocess.ts";

export type { RgbaImage } from "./preprocess.ts";

/** A face box in pixels (top-left corner plus size), possibly reaching outside the image. */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Error for an image file that is missing, unsupported or corrupt; the message names the file. */
export class ImageReadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ImageReadError";
  }
}

/** The container format from the first bytes, or undefined when unknown. */
export function sniffImageFormat(bytes: Uint8Array): "png" | "jpeg" | "gif" | "tiff" | undefined {
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) {
    return "png";
  }
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return "jpeg";
  if (bytes.length >= 6 && bytes[0] === 0x47 && bytes[1] === 0x49 && bytes[2] === 0x46) return "gif";
  if (
    bytes.length >= 4 &&
    ((bytes[0] === 0x49 && bytes[1] === 0x49 && bytes[2] === 0x2a) ||
      (bytes[0] === 0x4d && bytes[1] === 0x4d && bytes[3] === 0x2a))
  ) return "tiff";
  return undefined;
}

/** Decode image bytes (first frame of a GIF) into RGBA pixels. `file` labels error messages. */
export async function decodeImage(bytes: Uint8Array, file = "<image>"): Promise<RgbaImage> {
  const fmt = sniffImageFormat(bytes);
  if (fmt === undefined) {
    throw new ImageReadError(`${file}: not a JPEG/PNG/GIF/TIFF image (${bytes.length} bytes)`);
  }
  let decoded: unknown;
  try {
    decoded = await isDecode(bytes, true);
  } catch (e) {
    throw new ImageReadError(`${file}: cannot decode ${fmt}: ${(e as Error).message ?? e}`);
  }
  const img = (Array.isArray(decoded) ? decoded[0] : decoded) as Image | undefined;
  if (!img || !(img.width > 0) || !(img.height > 0)) throw new ImageReadError(`${file}: empty ${fmt} image`);
  return { width: img.width, height: img.height, data: img.bitmap };
}

/** Read and decode an image file; a missing or unreadable file is an {@link ImageReadError}. */
export async function readImage(path: string): Promise<RgbaImage> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new ImageReadError(`${path}: file not found`);
    throw new ImageReadError(`${path}: cannot read: ${(e as Error).message}`);
  }
  return await decodeImage(bytes, path);
}

/**
 * Crop `box` out of `img`, clamped to the image. Throws when nothing of the box lies inside the image.
 * Fractional coordinates are rounded outwards so the crop covers the whole box.
 */
export function cropImage(img: RgbaImage, box: Box): RgbaImage {
  const vals = [box.x, box.y, box.width, box.height];
  if (!vals.every(Number.isFinite)) {
    throw new RangeError(`crop box has a non-finite value: ${JSON.stringify(box)}`);
  }
  const x0 = Math.max(0, Math.floor(box.x));
  const y0 = Math.max(0, Math.floor(box.y));
  const x1 = Math.min(img.width, Math.ceil(box.x + box.width));
  const y1 = Math.min(img.height, Math.ceil(box.y + box.height));
  if (x1 <= x0 || y1 <= y0) {
    throw new RangeError(
      `crop box ${JSON.stringify(box)} lies outside the ${img.width}x${img.height} image`,
    );
  }
  const w = x1 - x0, h = y1 - y0;
  const data = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) {
    const src = ((y0 + y) * img.width + x0) * 4;
    data.set(img.data.subarray(src, src + w * 4), y * w * 4);
  }
  return { width: w, height: h, data };
}

/** Expand 8-bit grayscale pixels (row-major) into an opaque RGBA image. */
export function grayToRgba(gray: Uint8Array, width: number, height: number): RgbaImage {
  if (gray.length !== width * height) {
    throw new RangeError(`grayscale buffer has ${gray.length} values, expected ${width}x${height}`);
  }
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < gray.length; i++) {
    data[4 * i] = data[4 * i + 1] = data[4 * i + 2] = gray[i];
    data[4 * i + 3] = 255;
  }
  return { width, height, data };
}

/** True when every pixel has the same colour (a blank image, as FER2013 has a few). */
export function isBlank(img: RgbaImage): boolean {
  const d = img.data;
  for (let i = 4; i < d.length; i += 4) {
    if (d[i] !== d[0] || d[i + 1] !== d[1] || d[i + 2] !== d[2]) return false;
  }
  return true;
}

/** Options of {@link encodeImage}. */
export interface EncodeOptions {
  /** Output format (default png). */
  format?: "png" | "jpeg";
  /** JPEG quality 1-100 (default 95). */
  quality?: number;
}

/** Encode RGBA pixels as PNG (lossless) or JPEG. */
export async function encodeImage(img: RgbaImage, opts: EncodeOptions = {}): Promise<Uint8Array> {
  const out = new Image(img.width, img.height);
  out.bitmap.set(img.data);
  if ((opts.format ?? "png") === "jpeg") {
    const q = Math.round(Math.min(100, Math.max(1, opts.quality ?? 95)));
    return await out.encodeJPEG(q as Parameters<Image["encodeJPEG"]>[0]);
  }
  return await out.encode(1);
}
