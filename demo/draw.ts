/**
 * Crops and annotations for the demos: face crops widened like the original and clamped to the image
 * (docs/original.md B26), white boxes, and one text line per head (label and probability) next to each box.
 * @module
 */
import type { Image } from "imagescript";
import type { RgbaImage } from "../datasets/preprocess.ts";
import type { FaceBox } from "./detect.ts";

/** An integer pixel rectangle. */
export interface PixelRect {
  /** Left column. */
  x: number;
  /** Top row. */
  y: number;
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
}

/** Options of {@link cropRect}. */
export interface CropOptions {
  /** Widening left and right in pixels (the original demos: 20). */
  padX?: number;
  /** Widening above and below in pixels (the original demos: 40). */
  padY?: number;
}

/**
 * The crop of a detected face: the box widened by (padX, padY) as the original demos, then clamped
 * to the image, so a face at the border never wraps around (docs/original.md B26). Always at least 1x1 pixel.
 */
export function cropRect(
  box: FaceBox,
  imgWidth: number,
  imgHeight: number,
  opts: CropOptions = {},
): PixelRect {
  const padX = opts.padX ?? 20, padY = opts.padY ?? 40;
  const x0 = Math.min(Math.max(Math.floor(box.x - padX), 0), imgWidth - 1);
  const y0 = Math.min(Math.max(Math.floor(box.y - padY), 0), imgHeight - 1);
  const x1 = Math.max(Math.min(Math.ceil(box.x + box.width + padX), imgWidth), x0 + 1);
  const y1 = Math.max(Math.min(Math.ceil(box.y + box.height + padY), imgHeight), y0 + 1);
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

/** Copy a rectangle of an RGBA image (the rectangle must lie inside the image). */
export function cropPixels(img: RgbaImage, r: PixelRect): RgbaImage {
  if (
    r.x < 0 || r.y < 0 || r.x + r.width > img.width || r.y + r.height > img.height || r.width < 1 ||
    r.height < 1
  ) {
    throw new Error(
      `crop ${r.width}x${r.height}+${r.x}+${r.y} is outside the ${img.width}x${img.height} image`,
    );
  }
  const out = new Uint8Array(r.width * r.height * 4);
  for (let y = 0; y < r.height; y++) {
    const src = ((r.y + y) * img.width + r.x) * 4;
    out.set(img.data.subarray(src, src + r.width * 4), y * r.width * 4);
  }
  return { width: r.width, height: r.height, data: out };
}

/** One head's decision for a face, as drawn and written to JSON. */
export interface HeadResult {
  /** Head name, e.g. `emotion`. */
  task: string;
  /** Class name drawn for the head. */
  label: string;
  /** Probability of `label`. */
  prob: number;
  /** Appended to the line, e.g. `27 y` or `[synthetic]`. */
  note?: string;
}

/** A face to draw: its box, an optional track id, and one line per head. */
export interface FaceAnnotation {
  /** Detected face box. */
  box: FaceBox;
  /** Track id (video), drawn as `#id`. */
  track?: number;
  /** One line per head. */
  heads: HeadResult[];
}

/** Text colours per head (RGBA), the original's colours as they appeared on screen. */
export const HEAD_COLORS: Record<string, number> = {
  emotion: 0x4080ffff,
  age: 0xff4040ff,
  gender: 0x40ff40ff,
  pose: 0xffff00ff,
};

export { defaultFontPath, TextPainter } from "../core/text_painter.ts";
import type { TextPainter } from "../core/text_painter.ts";

/** Options of {@link annotate}. */
export interface AnnotateOptions {
  /** Renders the label text. */
  painter: TextPainter;
  /** Font size in pixels (default: image-relative, 12..40). */
  fontSize?: number;
  /** Box line thickness (default: image-relative, at least 2). */
  thickness?: number;
  /** A warning line drawn across the top-left corner (e.g. heads trained on synthetic faces only). */
  banner?: string;
}

/** Colour of the warning banner and of `[synthetic]` marks. */
export const WARNING_COLOR = 0xff9900ff;

function outline(img: Image, r: PixelRect, t: number, color: number): void {
  // imagescript's drawBox is 1-based and fills; four bars make an outline.
  const x = Math.round(r.x) + 1, y = Math.round(r.y) + 1, w = Math.round(r.width), h = Math.round(r.height);
  img.drawBox(x, y, w, t, color);
  img.drawBox(x, y + h - t, w, t, color);
  img.drawBox(x, y, t, h, color);
  img.drawBox(x + w - t, y, t, h, color);
}

/**
 * Draw every face's box (white) and, next to it, one line per head: `task: label 0.87`
 * (plus the track id when given). Lines go above the box when they fit, else below it, moved further
 * when they would cover another face's lines.
 */
export async function annotate(img: Image, faces: FaceAnnotation[], opts: AnnotateOptions): Promise<Image> {
  const side = Math.min(img.width, img.height);
  const size = opts.fontSize ?? Math.min(40, Math.max(12, Math.round(side / 45)));
  const t = opts.thickness ?? Math.max(2, Math.round(side / 400));
  // Boxes first, then the label blocks, so no box is drawn over a neighbour's text.
  const rects = faces.map((f) => {
    const r = {
      x: Math.max(0, Math.min(f.box.x, img.width - 1)),
      y: Math.max(0, Math.min(f.box.y, img.height - 1)),
      width: 0,
      height: 0,
    };
    r.width = Math.max(t * 2, Math.min(f.box.x + f.box.width, img.width) - r.x);
    r.height = Math.max(t * 2, Math.min(f.box.y + f.box.height, img.height) - r.y);
    outline(img, r, t, 0xffffffff);
    return r;
  });
  const placed: PixelRect[] = [];
  const overlaps = (a: PixelRect) =>
    placed.some((b) =>
      a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height
    );
  for (const [k, f] of faces.entries()) {
    const r = rects[k];
    const lines: { text: string; color: number }[] = [];
    if (f.track !== undefined) lines.push({ text: `#${f.track}`, color: 0xffffffff });
    for (const h of f.heads) {
      lines.push({
        text: `${h.task}: ${h.label} ${h.prob.toFixed(2)}${h.note ? ` ${h.note}` : ""}`,
        color: h.note?.includes("synthetic") ? WARNING_COLOR : HEAD_COLORS[h.task] ?? 0xffffffff,
      });
    }
    const rendered = await Promise.all(lines.map((l) => opts.painter.render(l.text, size, l.color)));
    const lineH = Math.round(size * 1.2);
    const blockH = lineH * rendered.length + 4;
    const blockW = Math.max(0, ...rendered.map((im) => im.width)) + 8;
    const left = Math.max(0, Math.min(r.x, img.width - blockW));
    // Above the box when it fits, else below; then further up or down until it clears the other labels.
    const above = r.y - blockH - 2, below = r.y + r.height + 2;
    const tops = [above, below];
    for (let d = lineH; d < img.height; d += lineH) tops.push(below + d, above - d);
    const fits = (y: number) => y >= 0 && y + blockH <= img.height;
    const top = tops.find((y) => fits(y) && !overlaps({ x: left, y, width: blockW, height: blockH })) ??
      Math.max(0, Math.min(fits(above) ? above : below, img.height - blockH));
    placed.push({ x: left, y: top, width: blockW, height: blockH });
    // A dark backing box keeps the text readable on any photo.
    img.drawBox(
      left + 1,
      top + 1,
      Math.min(blockW, img.width - left),
      Math.min(blockH, img.height - top),
      0x202020ff,
    );
    rendered.forEach((im, i) => img.composite(im, left + 4, top + 2 + i * lineH));
  }
  if (opts.banner) {
    const im = await opts.painter.render(opts.banner, size, WARNING_COLOR);
    const w = Math.min(im.width + 8, img.width), h = Math.min(Math.round(size * 1.2) + 4, img.height);
    img.drawBox(1, 1, w, h, 0x202020ff);
    img.composite(im, 4, 2);
  }
  return img;
}
