/**
 * Seeded image augmentation on HWC float images (docs/original.md §2.7, fix B19): random rotation (+-10 deg),
 * shift (+-10 % of width and height), zoom (0.9-1.1) and a random horizontal flip, applied as one
 * inverse affine map with bilinear sampling, the same map for every channel. Grayscale images are
 * augmented too (the original skipped them).
 *
 * Compat note: the original (Keras 2.1.5 helpers fed HWC arrays while assuming CHW) rotated and shifted
 * the width x channel plane, zoomed in 3-10x and flipped every image upside down. That behaviour scrambles
 * colour planes and is not reproduced; all README runs used `--is_augmentation=False` anyway.
 *
 * A horizontal flip mirrors the head's yaw, so pose classes (and rotation bins) swap under it; the
 * batch generators apply {@link flipPermutation} to such targets, and never flip rows with a digit label.
 * @module
 */
import type { Rng } from "../core/rng.ts";
import type { TaskName, TaskSpec } from "../core/types.ts";

export type { AugmentOptions } from "../core/batches.ts";
import type { AugmentOptions } from "../core/batches.ts";

/** One drawn transform (exposed so tests and the generators can apply a known transform). */
export interface AugmentParams {
  /** Rotation in degrees (counter-clockwise on screen). */
  angle: number;
  /** Shift in pixels (x right, y down). */
  dx: number;
  dy: number;
  /** Zoom factor (> 1 enlarges). */
  zoom: number;
  flip: boolean;
}

/** Image shape, HWC. */
export interface ImageShape {
  height: number;
  width: number;
  channels: number;
}

/** The default ranges of {@link AugmentOptions}. */
export const DEFAULT_AUGMENT: Required<AugmentOptions> = {
  rotation: 10,
  shift: 0.1,
  zoom: [0.9, 1.1],
  flip: true,
  fill: "nearest",
  cval: -1,
};

/** Draw one transform from the ranges (always consumes the same number of random values). */
export function drawAugmentParams(rng: Rng, shape: ImageShape, opts: AugmentOptions = {}): AugmentParams {
  const o = { ...DEFAULT_AUGMENT, ...opts };
  const angle = rng.uniform(-o.rotation, o.rotation);
  const dx = rng.uniform(-o.shift, o.shift) * shape.width;
  const dy = rng.uniform(-o.shift, o.shift) * shape.height;
  const zoom = rng.uniform(o.zoom[0], o.zoom[1]);
  const flip = rng.next() < 0.5 && o.flip;
  return { angle, dx, dy, zoom, flip };
}

/**
 * Apply a transform to one HWC image `src` (length h*w*c), writing `dst` (may not alias `src`).
 * Output pixel p maps back to source point C + R(-angle) * (p - C - shift) / zoom, mirrored first when flipped.
 */
export function applyAugment(
  src: Float32Array,
  dst: Float32Array,
  shape: ImageShape & { params: AugmentParams; fill?: "nearest" | "constant"; cval?: number },
): void {
  const { height: h, width: w, channels: c, params } = shape;
  const fill = shape.fill ?? "nearest";
  const cval = shape.cval ?? -1;
  if (src.length !== h * w * c || dst.length < h * w * c) {
    throw new RangeError(`applyAugment: expected ${h}x${w}x${c} = ${h * w * c} values, got ${src.length}`);
  }
  if (src === dst) throw new Error("applyAugment: src and dst must be different arrays");
  const a = (params.angle * Math.PI) / 180;
  const cos = Math.cos(a) / params.zoom, sin = Math.sin(a) / params.zoom;
  const cx = w / 2, cy = h / 2;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      // Output pixel centre relative to the image centre, minus the shift.
      const px = x + 0.5 - cx - params.dx;
      const py = y + 0.5 - cy - params.dy;
      // Inverse rotation (screen coordinates, y down) and zoom.
      let sx = cos * px - sin * py;
      const sy = sin * px + cos * py;
      if (params.flip) sx = -sx;
      let fx = sx + cx - 0.5, fy = sy + cy - 0.5;
      const o = (y * w + x) * c;
      const outside = fx < -0.5 || fy < -0.5 || fx > w - 0.5 || fy > h - 0.5;
      if (outside && fill === "constant") {
        for (let k = 0; k < c; k++) dst[o + k] = cval;
        continue;
      }
      fx = Math.min(Math.max(fx, 0), w - 1);
      fy = Math.min(Math.max(fy, 0), h - 1);
      const x0 = Math.floor(fx), y0 = Math.floor(fy);
      const x1 = Math.min(x0 + 1, w - 1), y1 = Math.min(y0 + 1, h - 1);
      const wx = fx - x0, wy = fy - y0;
      const i00 = (y0 * w + x0) * c,
        i01 = (y0 * w + x1) * c,
        i10 = (y1 * w + x0) * c,
        i11 = (y1 * w + x1) * c;
      const w00 = (1 - wx) * (1 - wy), w01 = wx * (1 - wy), w10 = (1 - wx) * wy, w11 = wx * wy;
      for (let k = 0; k < c; k++) {
        dst[o + k] = src[i00 + k] * w00 + src[i01 + k] * w01 + src[i10 + k] * w10 + src[i11 + k] * w11;
      }
    }
  }
}

/** Draw a transform and apply it; returns the drawn parameters. */
export function augmentImage(
  src: Float32Array,
  dst: Float32Array,
  shape: ImageShape & { rng: Rng; options?: AugmentOptions },
): AugmentParams {
  const o = { ...DEFAULT_AUGMENT, ...shape.options };
  const params = drawAugmentParams(shape.rng, shape, o);
  applyAugment(src, dst, { ...shape, params, fill: o.fill, cval: o.cval });
  return params;
}

/**
 * How a task's class ids change under a horizontal flip: a permutation (index = old class,
 * value = new class), `null` when the label does not change, or `"forbidden"` when a flip would
 * make the label wrong (digits).
 */
export function flipPermutation(task: TaskSpec): Int32Array | null | "forbidden" {
  const name: TaskName = task.name;
  if (name === "pose") {
    // AFLW bins (docs/original.md §2.4): 1 = [10, 60) <-> 2 = (-60, -10]; 3 = <= -60 <-> 4 = >= 60.
    if (task.classes !== 5) return "forbidden";
    return Int32Array.from([0, 2, 1, 4, 3]);
  }
  if (name === "rotation") {
    // Rotation bins are symmetric around 0 (see digits_rot.ts): bin k <-> bin C-1-k.
    return Int32Array.from({ length: task.classes }, (_, k) => task.classes - 1 - k);
  }
  if (name === "digit") return "forbidden";
  return null;
}
