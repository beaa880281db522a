/**
 * Convolution / pooling geometry shared by the kernels (thin wrapper over tfjs' own conv_util so
 * the padding rules are exactly those of tfjs).
 * @module
 */
import { backend_util } from "@tensorflow/tfjs-core";
import type { NamedAttrMap } from "@tensorflow/tfjs-core";

/** Geometry of a 2-D convolution or pooling window in NHWC layout. */
export interface ConvGeometry {
  batch: number;
  inH: number;
  inW: number;
  inC: number;
  outH: number;
  outW: number;
  outC: number;
  fh: number;
  fw: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  padTop: number;
  padLeft: number;
}

type Pad = "same" | "valid" | number | backend_util.ExplicitPadding;
type Rounding = "floor" | "round" | "ceil" | undefined;

function fromInfo(info: backend_util.Conv2DInfo): ConvGeometry {
  return {
    batch: info.batchSize,
    inH: info.inHeight,
    inW: info.inWidth,
    inC: info.inChannels,
    outH: info.outHeight,
    outW: info.outWidth,
    outC: info.outChannels,
    fh: info.filterHeight,
    fw: info.filterWidth,
    sh: info.strideHeight,
    sw: info.strideWidth,
    dh: info.dilationHeight,
    dw: info.dilationWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
}

function requireNhwc(attrs: NamedAttrMap, kernel: string): void {
  const fmt = attrs.dataFormat as string | undefined;
  if (fmt !== undefined && fmt !== "NHWC" && fmt !== "channelsLast") {
    throw new Error(`kernel pack ${kernel}: only NHWC is supported (got dataFormat=${fmt})`);
  }
}

/** Geometry of a (depthwise) convolution from the kernel's attributes. */
export function convGeometry(
  xShape: number[],
  filterShape: number[],
  opts: { attrs: NamedAttrMap; kernel: string; depthwise?: boolean },
): ConvGeometry {
  requireNhwc(opts.attrs, opts.kernel);
  const a = opts.attrs;
  const info = backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    a.strides as [number, number],
    (a.dilations ?? 1) as [number, number],
    a.pad as Pad,
    a.dimRoundingMode as Rounding,
    opts.depthwise ?? false,
  );
  return fromInfo(info);
}

/** Geometry of a 2-D pooling window from the kernel's attributes. */
export function poolGeometry(xShape: number[], attrs: NamedAttrMap): ConvGeometry {
  const info = backend_util.computePool2DInfo(
    xShape as [number, number, number, number],
    attrs.filterSize as [number, number],
    attrs.strides as [number, number],
    1,
    attrs.pad as Pad,
    attrs.dimRoundingMode as Rounding,
  );
  return fromInfo(info);
}

let chunkBudget = 1 << 22;

/**
 * Sets the largest im2col / col2im buffer (floats) the GEMM kernels use before splitting the batch
 * into chunks (default 4 Mi floats = 16 MiB); returns the previous value. Tests lower it to cover
 * the chunked path.
 */
export function setChunkBudget(floats: number): number {
  if (!(floats >= 1)) throw new Error(`setChunkBudget: budget must be >= 1 float (got ${floats})`);
  const old = chunkBudget;
  chunkBudget = floats;
  return old;
}

/** Number of batch images per chunk so that one im2col buffer stays under the chunk budget. */
export function batchChunk(batch: number, floatsPerImage: number): number {
  return Math.max(1, Math.min(batch, Math.floor(chunkBudget / Math.max(1, floatsPerImage))));
}

/**
 * dst[c·rows + r] = src[off + r·cols + c]: a row-major [rows, cols] block transposed to [cols, rows].
 * Blocked so both sides stay in cache. (XNNPACK's GEMM is only fast without transpose flags.)
 */
export function transpose2d(
  src: Float32Array,
  dst: Float32Array,
  shape: { rows: number; cols: number; srcOffset?: number },
): void {
  const { rows, cols } = shape;
  const off = shape.srcOffset ?? 0;
  const B = 32;
  for (let r0 = 0; r0 < rows; r0 += B) {
    const r1 = Math.min(rows, r0 + B);
    for (let c0 = 0; c0 < cols; c0 += B) {
      const c1 = Math.min(cols, c0 + B);
      for (let r = r0; r < r1; r++) {
        const s = off + r * cols;
        for (let c = c0; c < c1; c++) dst[c * rows + r] = src[s + c];
      }
    }
  }
}

/** [rows, channels] of a channels-last tensor viewed as [rows, C] (per-channel statistics). */
export function rowsAndChannels(shape: readonly number[]): [number, number] {
  const c = shape[shape.length - 1];
  return [shape.reduce((p, d) => p * d, 1) / c, c];
}
