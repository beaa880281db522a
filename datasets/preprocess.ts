/**
 * The one preprocessing function shared by training, evaluation and the demos (docs/original.md §2.5, fix B20):
 * RGBA pixels -> bilinear resize -> grayscale (1 channel) or BGR (3 channels, keras-vggface order)
 * -> float32 x/128 - 1.
 * @module
 */

/** Options of {@link preprocessPixels}. */
export interface PreprocessOptions {
  /** Output side (square). */
  size: number;
  /** 1 = grayscale, 3 = BGR. */
  channels: 1 | 3;
}

/** Raw 8-bit pixels, RGBA interleaved (as imagescript's `bitmap`). */
export interface RgbaImage {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** width*height*4 bytes, RGBA, row-major. */
  data: Uint8Array | Uint8ClampedArray;
}

/** Scale an 8-bit value into the network range (x/128 - 1, float32; the original used float16). */
export function scalePixel(v: number): number {
  return v / 128 - 1;
}

/**
 * Resize (bilinear, half-pixel centres) and convert one RGBA image into a size*size*channels
 * float32 array, written into `out` at `offset` when given.
 */
export function preprocessPixels(
  img: RgbaImage,
  opts: PreprocessOptions,
  out?: Float32Array,
  offset = 0,
): Float32Array {
  const { size, channels } = opts;
  const dst = out ?? new Float32Array(size * size * channels);
  const sx = img.width / size;
  const sy = img.height / size;
  const w = img.width;
  const h = img.height;
  const d = img.data;
  let o = offset;
  for (let y = 0; y < size; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), h - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, h - 1);
    const wy = fy - y0;
    for (let x = 0; x < size; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), w - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, w - 1);
      const wx = fx - x0;
      const i00 = (y0 * w + x0) * 4,
        i01 = (y0 * w + x1) * 4,
        i10 = (y1 * w + x0) * 4,
        i11 = (y1 * w + x1) * 4;
      const w00 = (1 - wx) * (1 - wy), w01 = wx * (1 - wy), w10 = (1 - wx) * wy, w11 = wx * wy;
      const r = d[i00] * w00 + d[i01] * w01 + d[i10] * w10 + d[i11] * w11;
      const g = d[i00 + 1] * w00 + d[i01 + 1] * w01 + d[i10 + 1] * w10 + d[i11 + 1] * w11;
      const b = d[i00 + 2] * w00 + d[i01 + 2] * w01 + d[i10 + 2] * w10 + d[i11 + 2] * w11;
      if (channels === 1) {
        dst[o++] = scalePixel(0.299 * r + 0.587 * g + 0.114 * b);
      } else {
        dst[o++] = scalePixel(b);
        dst[o++] = scalePixel(g);
        dst[o++] = scalePixel(r);
      }
    }
  }
  return dst;
}
