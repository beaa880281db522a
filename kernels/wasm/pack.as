// SIMD kernels of the kernel pack, in AssemblyScript. Built by `deno task build:kernels` into
// pack.wasm. The module imports the tfjs wasm backend's own linear memory (env.memory), so every
// pointer below is a byte offset of a tensor on that heap: no copies in or out. It has no runtime,
// no static data and no allocations, so instantiating it never writes to the shared memory.
// All channel loops run four lanes at a time (f32x4) with a scalar tail.

// Reductions over all leading axes of a [rows, c] tensor run in two steps. The rows are cut into
// blocks of REDUCE_BLOCK; the threads split the *blocks* (a split of the channels would make every
// thread stream the whole tensor and write the same cache lines), each block's f32 partial sums go
// to part[block, c], and a combine step adds the blocks in order in f64. The sums depend only on the
// block size, so results are bit-identical for any thread count.
const REDUCE_BLOCK: i32 = 256;

/** Number of row blocks of a reduction over `rows` rows. */
export function reduceBlocks(rows: i32): i32 {
  return (rows + REDUCE_BLOCK - 1) / REDUCE_BLOCK;
}

// Per-thread accumulator rows of `lanes` floats, a cache line apart, so threads never share one.
@inline function threadScratch(tmp: usize, lanes: i32, t: i32): usize {
  return tmp + (<usize>(t * (((lanes + 15) & ~15) + 16)) << 2);
}

// Block partials of out[j] = Σ_r x[r*c + j]: part[b*c + j] (f32) for the blocks of this thread.
// tmp: per-thread scratch (threadScratch, c lanes).
export function channelSum(x: usize, rows: i32, c: i32, part: usize, tmp: usize, t: i32, nt: i32): void {
  const nb = reduceBlocks(rows);
  const c4 = c & ~3;
  const acc = threadScratch(tmp, c, t);
  for (let b = sliceLo(nb, t, nt); b < sliceLo(nb, t + 1, nt); b++) {
    const r0 = b * REDUCE_BLOCK, r1 = min(rows, r0 + REDUCE_BLOCK);
    memory.fill(acc, 0, <usize>c << 2);
    for (let q = r0; q < r1; q++) {
      const row = x + (<usize>(q * c) << 2);
      let j = 0;
      for (; j < c4; j += 4) {
        const p = acc + (<usize>j << 2);
        v128.store(p, f32x4.add(v128.load(p), v128.load(row + (<usize>j << 2))));
      }
      for (; j < c; j++) {
        const p = acc + (<usize>j << 2);
        store<f32>(p, load<f32>(p) + load<f32>(row + (<usize>j << 2)));
      }
    }
    memory.copy(part + (<usize>(b * c) << 2), acc, <usize>c << 2);
  }
}

// out[j] = scale · Σ_b part[b*c + j] in f64, for j < c: the combine step of a row-block reduction
// (channelSum, channelSqDev, batchNormGrad with c = 2 × its channels).
export function channelCombine(part: usize, nb: i32, c: i32, scale: f64, out: usize): void {
  for (let j = 0; j < c; j++) {
    let s: f64 = 0;
    for (let b = 0; b < nb; b++) s += <f64>load<f32>(part + (<usize>(b * c + j) << 2));
    store<f32>(out + (<usize>j << 2), <f32>(s * scale));
  }
}

// out[r, j] = a[r, j] (op) v[j] for a [rows, c] tensor and a [c] vector.
// op: 0 multiply, 1 add, 2 subtract (a - v), 3 reverse subtract (v - a), 4 divide (a / v), 5 copy v.
// Threads split the rows.
export function rowBroadcast(a: usize, v: usize, out: usize, rows: i32, c: i32, op: i32, t: i32, nt: i32): void {
  const c4 = c & ~3;
  for (let r = sliceLo(rows, t, nt); r < sliceLo(rows, t + 1, nt); r++) {
    const off = <usize>(r * c) << 2;
    let j = 0;
    for (; j < c4; j += 4) {
      const y = v128.load(v + (<usize>j << 2));
      v128.store(out + off + (<usize>j << 2), op == 5 ? y : vop(v128.load(a + off + (<usize>j << 2)), y, op));
    }
    for (; j < c; j++) {
      const y = load<f32>(v + (<usize>j << 2));
      store<f32>(out + off + (<usize>j << 2), op == 5 ? y : sop(load<f32>(a + off + (<usize>j << 2)), y, op));
    }
  }
}

@inline function vop(x: v128, y: v128, op: i32): v128 {
  if (op == 0) return f32x4.mul(x, y);
  if (op == 1) return f32x4.add(x, y);
  if (op == 2) return f32x4.sub(x, y);
  if (op == 3) return f32x4.sub(y, x);
  return f32x4.div(x, y);
}

@inline function sop(x: f32, y: f32, op: i32): f32 {
  if (op == 0) return x * y;
  if (op == 1) return x + y;
  if (op == 2) return x - y;
  if (op == 3) return y - x;
  return x / y;
}

// out[i] = a[i] (op) b[i] for two tensors of n elements (op as rowBroadcast, 0-4).
// Threads split the elements in blocks of 4.
export function elementwise(a: usize, b: usize, out: usize, n: i32, op: i32, t: i32, nt: i32): void {
  const blocks = (n + 3) >> 2;
  const i0 = sliceLo(blocks, t, nt) << 2, i1 = min(n, sliceLo(blocks, t + 1, nt) << 2);
  const i4 = i0 + ((i1 - i0) & ~3);
  let i = i0;
  if (op == 0) {
    for (; i < i4; i += 4) {
      const o = <usize>i << 2;
      v128.store(out + o, f32x4.mul(v128.load(a + o), v128.load(b + o)));
    }
  } else if (op == 1) {
    for (; i < i4; i += 4) {
      const o = <usize>i << 2;
      v128.store(out + o, f32x4.add(v128.load(a + o), v128.load(b + o)));
    }
  } else if (op == 2) {
    for (; i < i4; i += 4) {
      const o = <usize>i << 2;
      v128.store(out + o, f32x4.sub(v128.load(a + o), v128.load(b + o)));
    }
  } else {
    for (; i < i4; i += 4) {
      const o = <usize>i << 2;
      v128.store(out + o, vop(v128.load(a + o), v128.load(b + o), op));
    }
  }
  for (; i < i1; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, sop(load<f32>(a + o), load<f32>(b + o), op));
  }
}

// Geometry block shared by the window kernels, written by the caller at `g` (i32 each):
// 0 batch, 1 inH, 2 inW, 3 c, 4 outH, 5 outW, 6 fh, 7 fw, 8 sh, 9 sw, 10 dh, 11 dw, 12 padTop, 13 padLeft.
@inline function gi(g: usize, i: i32): i32 {
  return load<i32>(g + (<usize>i << 2));
}

// Depthwise conv filter gradient, channel multiplier 1: dw[r, s, c] = sum x[b, ih, iw, c] * dy[b, oh, ow, c].
// part: f32 scratch (fh*fw*c) summed per image; acc: f64 scratch (fh*fw*c); out: f32 result.
// Threads split the channels (in blocks of 4): part/acc entries of different threads never overlap.
export function depthwiseFilterGrad(x: usize, dy: usize, out: usize, g: usize, part: usize, acc: usize, t: i32, nt: i32): void {
  const batch = gi(g, 0), inH = gi(g, 1), inW = gi(g, 2), c = gi(g, 3), outH = gi(g, 4), outW = gi(g, 5);
  const fh = gi(g, 6), fw = gi(g, 7), sh = gi(g, 8), sw = gi(g, 9), dh = gi(g, 10), dw = gi(g, 11);
  const padTop = gi(g, 12), padLeft = gi(g, 13);
  const blocks = (c + 3) >> 2;
  const j0 = sliceLo(blocks, t, nt) << 2, j1 = min(c, sliceLo(blocks, t + 1, nt) << 2);
  if (j0 >= j1) return;
  const taps = fh * fw;
  const c4 = j0 + ((j1 - j0) & ~3);
  for (let k = 0; k < taps; k++) for (let j = j0; j < j1; j++) store<f64>(acc + (<usize>(k * c + j) << 3), 0);
  for (let b = 0; b < batch; b++) {
    for (let k = 0; k < taps; k++) for (let j = j0; j < j1; j++) store<f32>(part + (<usize>(k * c + j) << 2), 0);
    for (let oh = 0; oh < outH; oh++) {
      const dyRow = dy + (<usize>(((b * outH + oh) * outW) * c) << 2);
      for (let r = 0; r < fh; r++) {
        const ih = oh * sh - padTop + r * dh;
        if (ih < 0 || ih >= inH) continue;
        const xRow = x + (<usize>(((b * inH + ih) * inW) * c) << 2);
        for (let s = 0; s < fw; s++) {
          const pk = part + (<usize>((r * fw + s) * c) << 2);
          for (let ow = 0; ow < outW; ow++) {
            const iw = ow * sw - padLeft + s * dw;
            if (iw < 0 || iw >= inW) continue;
            const xp = xRow + (<usize>(iw * c) << 2);
            const dp = dyRow + (<usize>(ow * c) << 2);
            let j = j0;
            for (; j < c4; j += 4) {
              const o = <usize>j << 2;
              v128.store(pk + o, f32x4.add(v128.load(pk + o), f32x4.mul(v128.load(xp + o), v128.load(dp + o))));
            }
            for (; j < j1; j++) {
              const o = <usize>j << 2;
              store<f32>(pk + o, load<f32>(pk + o) + load<f32>(xp + o) * load<f32>(dp + o));
            }
          }
        }
      }
    }
    for (let k = 0; k < taps; k++) {
      for (let j = j0; j < j1; j++) {
        const q = k * c + j;
        const a = acc + (<usize>q << 3);
        store<f64>(a, load<f64>(a) + <f64>load<f32>(part + (<usize>q << 2)));
      }
    }
  }
  for (let k = 0; k < taps; k++) {
    for (let j = j0; j < j1; j++) {
      const q = k * c + j;
      store<f32>(out + (<usize>q << 2), <f32>load<f64>(acc + (<usize>q << 3)));
    }
  }
}

// Depthwise conv input gradient, channel multiplier 1: dx[b, ih, iw, c] += dy[b, oh, ow, c] * w[r, s, c].
// dx must be zero on entry.
// Threads split the batch (each image's dx belongs to one thread).
export function depthwiseInputGrad(dy: usize, w: usize, dx: usize, g: usize, t: i32, nt: i32): void {
  const batch = gi(g, 0), inH = gi(g, 1), inW = gi(g, 2), c = gi(g, 3), outH = gi(g, 4), outW = gi(g, 5);
  const fh = gi(g, 6), fw = gi(g, 7), sh = gi(g, 8), sw = gi(g, 9), dh = gi(g, 10), dw = gi(g, 11);
  const padTop = gi(g, 12), padLeft = gi(g, 13);
  const c4 = c & ~3;
  for (let b = sliceLo(batch, t, nt); b < sliceLo(batch, t + 1, nt); b++) {
    for (let oh = 0; oh < outH; oh++) {
      const dyRow = dy + (<usize>(((b * outH + oh) * outW) * c) << 2);
      for (let r = 0; r < fh; r++) {
        const ih = oh * sh - padTop + r * dh;
        if (ih < 0 || ih >= inH) continue;
        const xRow = dx + (<usize>(((b * inH + ih) * inW) * c) << 2);
        for (let s = 0; s < fw; s++) {
          const wk = w + (<usize>((r * fw + s) * c) << 2);
          for (let ow = 0; ow < outW; ow++) {
            const iw = ow * sw - padLeft + s * dw;
            if (iw < 0 || iw >= inW) continue;
            const xp = xRow + (<usize>(iw * c) << 2);
            const dp = dyRow + (<usize>(ow * c) << 2);
            let j = 0;
            for (; j < c4; j += 4) {
              const o = <usize>j << 2;
              v128.store(xp + o, f32x4.add(v128.load(xp + o), f32x4.mul(v128.load(dp + o), v128.load(wk + o))));
            }
            for (; j < c; j++) {
              const o = <usize>j << 2;
              store<f32>(xp + o, load<f32>(xp + o) + load<f32>(dp + o) * load<f32>(wk + o));
            }
          }
        }
      }
    }
  }
}

// Max-pool gradient: dy goes to the first maximum (row-major window order) of each window, per
// channel; padding never wins; an all-NaN window routes nothing. Each thread zeroes its images'
// part of dx first (memory.fill: a native memset). Per window and block of 4 channels, the running
// maximum and its index stay in registers. Threads split the batch.
export function maxPoolGrad(x: usize, dy: usize, dx: usize, g: usize, t: i32, nt: i32): void {
  const batch = gi(g, 0), inH = gi(g, 1), inW = gi(g, 2), c = gi(g, 3), outH = gi(g, 4), outW = gi(g, 5);
  const fh = gi(g, 6), fw = gi(g, 7), sh = gi(g, 8), sw = gi(g, 9), dh = gi(g, 10), dw = gi(g, 11);
  const padTop = gi(g, 12), padLeft = gi(g, 13);
  const c4 = c & ~3;
  const ninf = f32x4.splat(-Infinity);
  const none = i32x4.splat(-1);
  const lane = i32x4(0, 1, 2, 3);
  const b0 = sliceLo(batch, t, nt), b1 = sliceLo(batch, t + 1, nt);
  memory.fill(dx + (<usize>(b0 * inH * inW * c) << 2), 0, <usize>((b1 - b0) * inH * inW * c) << 2);
  let dyp = dy + (<usize>(b0 * outH * outW * c) << 2);
  for (let b = b0; b < b1; b++) {
    const xb = b * inH * inW * c;
    for (let oh = 0; oh < outH; oh++) {
      const r0 = max(0, (padTop - oh * sh + dh - 1) / dh), r1 = min(fh, (inH + padTop - oh * sh + dh - 1) / dh);
      for (let ow = 0; ow < outW; ow++) {
        const s0 = max(0, (padLeft - ow * sw + dw - 1) / dw), s1 = min(fw, (inW + padLeft - ow * sw + dw - 1) / dw);
        let j = 0;
        for (; j < c4; j += 4) {
          let best = ninf;
          let at = none;
          for (let r = r0; r < r1; r++) {
            const ih = oh * sh - padTop + r * dh;
            for (let s = s0; s < s1; s++) {
              const xo = xb + (ih * inW + ow * sw - padLeft + s * dw) * c + j;
              const v = v128.load(x + (<usize>xo << 2));
              const gt = f32x4.gt(v, best);
              best = v128.bitselect(v, best, gt);
              at = v128.bitselect(i32x4.add(i32x4.splat(xo), lane), at, gt);
            }
          }
          const d = v128.load(dyp + (<usize>j << 2));
          const k0 = i32x4.extract_lane(at, 0), k1 = i32x4.extract_lane(at, 1);
          const k2 = i32x4.extract_lane(at, 2), k3 = i32x4.extract_lane(at, 3);
          if (k0 >= 0) store<f32>(dx + (<usize>k0 << 2), load<f32>(dx + (<usize>k0 << 2)) + f32x4.extract_lane(d, 0));
          if (k1 >= 0) store<f32>(dx + (<usize>k1 << 2), load<f32>(dx + (<usize>k1 << 2)) + f32x4.extract_lane(d, 1));
          if (k2 >= 0) store<f32>(dx + (<usize>k2 << 2), load<f32>(dx + (<usize>k2 << 2)) + f32x4.extract_lane(d, 2));
          if (k3 >= 0) store<f32>(dx + (<usize>k3 << 2), load<f32>(dx + (<usize>k3 << 2)) + f32x4.extract_lane(d, 3));
        }
        for (; j < c; j++) {
          let best: f32 = -Infinity;
          let at = -1;
          for (let r = r0; r < r1; r++) {
            const ih = oh * sh - padTop + r * dh;
            for (let s = s0; s < s1; s++) {
              const xo = xb + (ih * inW + ow * sw - padLeft + s * dw) * c + j;
              const v = load<f32>(x + (<usize>xo << 2));
              if (v > best) {
                best = v;
                at = xo;
              }
            }
          }
          if (at >= 0) store<f32>(dx + (<usize>at << 2), load<f32>(dx + (<usize>at << 2)) + load<f32>(dyp + (<usize>j << 2)));
        }
        dyp += <usize>c << 2;
      }
    }
  }
}

// colT[k, p] for k = (r*fw + s)*c + ci over images b0..b0+nb-1 (p = image-local output position),
// zeros where the window falls in the padding. colT has k rows of nb*outH*outW floats.
export function im2colT(x: usize, colT: usize, g: usize, b0: i32, nb: i32): void {
  const inH = gi(g, 1), inW = gi(g, 2), c = gi(g, 3), outH = gi(g, 4), outW = gi(g, 5);
  const fh = gi(g, 6), fw = gi(g, 7), sh = gi(g, 8), sw = gi(g, 9), dh = gi(g, 10), dw = gi(g, 11);
  const padTop = gi(g, 12), padLeft = gi(g, 13);
  let o = colT;
  for (let r = 0; r < fh; r++) {
    for (let s = 0; s < fw; s++) {
      for (let ci = 0; ci < c; ci++) {
        for (let b = b0; b < b0 + nb; b++) {
          const xb = b * inH * inW * c;
          for (let oh = 0; oh < outH; oh++) {
            const ih = oh * sh - padTop + r * dh;
            if (ih < 0 || ih >= inH) {
              memory.fill(o, 0, <usize>outW << 2);
              o += <usize>outW << 2;
              continue;
            }
            const xr = x + (<usize>(xb + ih * inW * c + ci) << 2);
            let iw = s * dw - padLeft;
            for (let ow = 0; ow < outW; ow++) {
              store<f32>(o, iw >= 0 && iw < inW ? load<f32>(xr + (<usize>(iw * c) << 2)) : 0);
              o += 4;
              iw += sw;
            }
          }
        }
      }
    }
  }
}

// Fused batch-norm backward for per-channel statistics (x: [rows, c]; mean, variance, scale: [c]).
// Same formulas as tfjs' FusedBatchNorm gradient, in two passes instead of about fourteen:
//   dx = dy·scale·rs; dmean = −rs·scale·Σdy; dvar = −½·rs³·scale·Σdy(x−mean); dscale = rs·Σdy(x−mean);
//   doffset = Σdy, with rs = 1/sqrt(variance + eps). scale = 0 means no scale (ones).
// This pass writes the block partials of Σdy and Σdy(x−mean) to part[b*2c + j] and part[b*2c + c + j]
// (threads split the blocks, as channelSum); batchNormGradCombine then forms the channel outputs
// and coef = scale·rs, and the caller forms dx = dy·coef with rowBroadcast.
// tmp: per-thread scratch (threadScratch, 2c lanes).
export function batchNormGrad(
  dy: usize, x: usize, mean: usize, rows: i32, c: i32, part: usize, tmp: usize, t: i32, nt: i32,
): void {
  const nb = reduceBlocks(rows);
  const c4 = c & ~3;
  const pdy = threadScratch(tmp, 2 * c, t);
  const pdxm = pdy + (<usize>c << 2);
  for (let b = sliceLo(nb, t, nt); b < sliceLo(nb, t + 1, nt); b++) {
    const r0 = b * REDUCE_BLOCK, r1 = min(rows, r0 + REDUCE_BLOCK);
    memory.fill(pdy, 0, <usize>c << 3);
    for (let q = r0; q < r1; q++) {
      const off = <usize>(q * c) << 2;
      let j = 0;
      for (; j < c4; j += 4) {
        const o = <usize>j << 2;
        const d = v128.load(dy + off + o);
        const xm = f32x4.sub(v128.load(x + off + o), v128.load(mean + o));
        v128.store(pdy + o, f32x4.add(v128.load(pdy + o), d));
        v128.store(pdxm + o, f32x4.add(v128.load(pdxm + o), f32x4.mul(d, xm)));
      }
      for (; j < c; j++) {
        const o = <usize>j << 2;
        const d = load<f32>(dy + off + o);
        store<f32>(pdy + o, load<f32>(pdy + o) + d);
        store<f32>(pdxm + o, load<f32>(pdxm + o) + d * (load<f32>(x + off + o) - load<f32>(mean + o)));
      }
    }
    memory.copy(part + (<usize>(b * 2 * c) << 2), pdy, <usize>c << 3);
  }
}

// The channel outputs of batchNormGrad from its block partials; coef (f32, c) = scale·rs.
export function batchNormGradCombine(
  part: usize, rows: i32, c: i32, variance: usize, scale: usize, eps: f32,
  dmean: usize, dvar: usize, dscale: usize, doffset: usize, coef: usize,
): void {
  const nb = reduceBlocks(rows);
  for (let j = 0; j < c; j++) {
    let sdy: f64 = 0, sdxm: f64 = 0;
    for (let b = 0; b < nb; b++) {
      const p = part + (<usize>(b * 2 * c + j) << 2);
      sdy += <f64>load<f32>(p);
      sdxm += <f64>load<f32>(p + (<usize>c << 2));
    }
    const o = <usize>j << 2;
    const rs = <f64>(<f32>1 / sqrt<f32>(load<f32>(variance + o) + eps));
    const s = scale == 0 ? <f64>1 : <f64>load<f32>(scale + o);
    store<f32>(dmean + o, <f32>(-rs * s * sdy));
    store<f32>(dvar + o, <f32>(-0.5 * rs * rs * rs * s * sdxm));
    store<f32>(dscale + o, <f32>(rs * sdxm));
    store<f32>(doffset + o, <f32>sdy);
    store<f32>(coef + o, <f32>(s * rs));
  }
}

// Batch norm forward with per-channel parameters: out = x·a + b with a = scale·rs, b = offset − mean·a,
// rs = 1/sqrt(variance + eps). offset/scale = 0 mean absent (0 / 1). coef: f32 scratch (2c per thread).
// Threads split the rows (each computes the coefficients into its own scratch).
export function batchNormForward(
  x: usize, mean: usize, variance: usize, offset: usize, scale: usize, eps: f32, rows: i32, c: i32,
  out: usize, coef: usize, t: i32, nt: i32,
): void {
  const a = coef + (<usize>(2 * c * t) << 2);
  const b = a + (<usize>c << 2);
  for (let j = 0; j < c; j++) {
    const o = <usize>j << 2;
    const rs = <f32>1 / sqrt<f32>(load<f32>(variance + o) + eps);
    const s = scale == 0 ? <f32>1 : load<f32>(scale + o);
    const k = s * rs;
    store<f32>(a + o, k);
    store<f32>(b + o, (offset == 0 ? <f32>0 : load<f32>(offset + o)) - load<f32>(mean + o) * k);
  }
  const c4 = c & ~3;
  for (let r = sliceLo(rows, t, nt); r < sliceLo(rows, t + 1, nt); r++) {
    const off = <usize>(r * c) << 2;
    let j = 0;
    for (; j < c4; j += 4) {
      const o = <usize>j << 2;
      v128.store(out + off + o, f32x4.add(f32x4.mul(v128.load(x + off + o), v128.load(a + o)), v128.load(b + o)));
    }
    for (; j < c; j++) {
      const o = <usize>j << 2;
      store<f32>(out + off + o, load<f32>(x + off + o) * load<f32>(a + o) + load<f32>(b + o));
    }
  }
}

// dst[c·rows + r] = src[r·cols + c]: [rows, cols] → [cols, rows], in 16×16 blocks.
export function transpose(src: usize, dst: usize, rows: i32, cols: i32): void {
  for (let r0 = 0; r0 < rows; r0 += 16) {
    const r1 = min(rows, r0 + 16);
    for (let c0 = 0; c0 < cols; c0 += 16) {
      const c1 = min(cols, c0 + 16);
      for (let r = r0; r < r1; r++) {
        const s = src + (<usize>(r * cols) << 2);
        for (let c = c0; c < c1; c++) {
          store<f32>(dst + (<usize>(c * rows + r) << 2), load<f32>(s + (<usize>c << 2)));
        }
      }
    }
  }
}

// Thread slice [lo, hi) of `units` work units for thread t of nt: contiguous, in order, so the
// result of every output element is computed by one thread in the same order whatever nt is.
@inline function sliceLo(units: i32, t: i32, nt: i32): i32 {
  return <i32>((<i64>units * <i64>t) / <i64>nt);
}

// Conv2D filter gradient without im2col: dw[r, s, ci, co] = Σ_{b,oh,ow} x[b, ih, iw, ci]·dy[b, oh, ow, co]
// with ih = oh·sh − padTop + r·dh, iw = ow·sw − padLeft + s·dw (padding contributes nothing).
// Work units are (tap, 4-channel input block, 8-channel output block). Output rows q = b·outH + oh
// are taken in blocks of about 256 positions, so that block's x and dy rows stay in cache while
// every unit runs over it: a unit keeps its 4×8 sums in registers over the block, then adds them
// into dw. Threads split the units; each dw element is summed in the same order for any thread
// count. g: geometry block (15 ints, 14 = outC). dw must be zero on entry.
export function convFilterGrad(x: usize, dy: usize, dw: usize, g: usize, t: i32, nt: i32): void {
  const batch = gi(g, 0), inH = gi(g, 1), inW = gi(g, 2), ci = gi(g, 3), outH = gi(g, 4), outW = gi(g, 5);
  const fh = gi(g, 6), fw = gi(g, 7), sh = gi(g, 8), sw = gi(g, 9), dh = gi(g, 10), dww = gi(g, 11);
  const padTop = gi(g, 12), padLeft = gi(g, 13), co = gi(g, 14);
  const ciT = (ci + 3) >> 2;
  const coT = (co + 7) >> 3;
  const units = fh * fw * ciT * coT;
  const u0 = sliceLo(units, t, nt), u1 = sliceLo(units, t + 1, nt);
  const xStep = <usize>(sw * ci) << 2;
  const dStep = <usize>co << 2;
  const rows = batch * outH;
  const blockRows = max(1, 256 / max(1, outW));
  for (let q0 = 0; q0 < rows; q0 += blockRows) {
    const q1 = min(rows, q0 + blockRows);
    for (let u = u0; u < u1; u++) {
      const tap = u / (ciT * coT);
      const rem = u % (ciT * coT);
      const r = tap / fw, s = tap % fw;
      const ci0 = (rem / coT) << 2, co0 = (rem % coT) << 3;
      const nci = min(4, ci - ci0), nco = min(8, co - co0);
      // Output columns whose input column is inside the image.
      const off = s * dww - padLeft;
      let owLo = 0;
      while (owLo < outW && owLo * sw + off < 0) owLo++;
      let owHi = outW;
      while (owHi > owLo && (owHi - 1) * sw + off >= inW) owHi--;
      if (owLo >= owHi) continue;
      const dst = dw + (<usize>(((r * fw + s) * ci + ci0) * co + co0) << 2);
      const dstRow = <usize>co << 2;
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
      let a4 = f32x4.splat(0), a5 = f32x4.splat(0), a6 = f32x4.splat(0), a7 = f32x4.splat(0);
      for (let q = q0; q < q1; q++) {
        const b = q / outH, oh = q % outH;
        const ih = oh * sh - padTop + r * dh;
        if (ih < 0 || ih >= inH) continue;
        let xp = x + (<usize>((((b * inH + ih) * inW) + owLo * sw + off) * ci + ci0) << 2);
        let dp = dy + (<usize>((q * outW + owLo) * co + co0) << 2);
        if (nci == 4 && nco == 8) {
          for (let ow = owLo; ow < owHi; ow++) {
            const xv = v128.load(xp);
            const d0 = v128.load(dp), d1 = v128.load(dp, 16);
            const x0 = i32x4.shuffle(xv, xv, 0, 0, 0, 0);
            const x1 = i32x4.shuffle(xv, xv, 1, 1, 1, 1);
            const x2 = i32x4.shuffle(xv, xv, 2, 2, 2, 2);
            const x3 = i32x4.shuffle(xv, xv, 3, 3, 3, 3);
            a0 = f32x4.relaxed_madd(x0, d0, a0); a1 = f32x4.relaxed_madd(x0, d1, a1);
            a2 = f32x4.relaxed_madd(x1, d0, a2); a3 = f32x4.relaxed_madd(x1, d1, a3);
            a4 = f32x4.relaxed_madd(x2, d0, a4); a5 = f32x4.relaxed_madd(x2, d1, a5);
            a6 = f32x4.relaxed_madd(x3, d0, a6); a7 = f32x4.relaxed_madd(x3, d1, a7);
            xp += xStep;
            dp += dStep;
          }
        } else if (nco == 8) {
          // Fewer than 4 input channels left: one broadcast per channel.
          for (let ow = owLo; ow < owHi; ow++) {
            const d0 = v128.load(dp), d1 = v128.load(dp, 16);
            const x0 = f32x4.splat(load<f32>(xp));
            a0 = f32x4.relaxed_madd(x0, d0, a0); a1 = f32x4.relaxed_madd(x0, d1, a1);
            if (nci > 1) {
              const x1 = f32x4.splat(load<f32>(xp, 4));
              a2 = f32x4.relaxed_madd(x1, d0, a2); a3 = f32x4.relaxed_madd(x1, d1, a3);
            }
            if (nci > 2) {
              const x2 = f32x4.splat(load<f32>(xp, 8));
              a4 = f32x4.relaxed_madd(x2, d0, a4); a5 = f32x4.relaxed_madd(x2, d1, a5);
            }
            xp += xStep;
            dp += dStep;
          }
        } else if (nci == 4) {
          // Fewer than 8 output channels left (a task head): vectors over 4 input channels, one
          // broadcast per output channel.
          for (let ow = owLo; ow < owHi; ow++) {
            const xv = v128.load(xp);
            a0 = f32x4.relaxed_madd(xv, f32x4.splat(load<f32>(dp)), a0);
            if (nco > 1) a1 = f32x4.relaxed_madd(xv, f32x4.splat(load<f32>(dp, 4)), a1);
            if (nco > 2) a2 = f32x4.relaxed_madd(xv, f32x4.splat(load<f32>(dp, 8)), a2);
            if (nco > 3) a3 = f32x4.relaxed_madd(xv, f32x4.splat(load<f32>(dp, 12)), a3);
            if (nco > 4) a4 = f32x4.relaxed_madd(xv, f32x4.splat(load<f32>(dp, 16)), a4);
            if (nco > 5) a5 = f32x4.relaxed_madd(xv, f32x4.splat(load<f32>(dp, 20)), a5);
            if (nco > 6) a6 = f32x4.relaxed_madd(xv, f32x4.splat(load<f32>(dp, 24)), a6);
            xp += xStep;
            dp += dStep;
          }
        } else {
          // Fewer than 8 output and 4 input channels left: scalar products, one row sum per element.
          for (let i = 0; i < nci; i++) {
            for (let j = 0; j < nco; j++) {
              let sum: f32 = 0;
              let xq = xp + (<usize>i << 2), dq = dp + (<usize>j << 2);
              for (let ow = owLo; ow < owHi; ow++) {
                sum += load<f32>(xq) * load<f32>(dq);
                xq += xStep;
                dq += dStep;
              }
              const o = dst + (<usize>i) * dstRow + (<usize>j << 2);
              store<f32>(o, load<f32>(o) + sum);
            }
          }
        }
      }
      if (nco < 8 && nci == 4) {
        addColumn(dst, a0, dstRow, nco > 0);
        addColumn(dst + 4, a1, dstRow, nco > 1);
        addColumn(dst + 8, a2, dstRow, nco > 2);
        addColumn(dst + 12, a3, dstRow, nco > 3);
        addColumn(dst + 16, a4, dstRow, nco > 4);
        addColumn(dst + 20, a5, dstRow, nco > 5);
        addColumn(dst + 24, a6, dstRow, nco > 6);
      }
      if (nco == 8) {
        addTile(dst, a0, a1, nci > 0);
        addTile(dst + dstRow, a2, a3, nci > 1);
        addTile(dst + 2 * dstRow, a4, a5, nci > 2);
        addTile(dst + 3 * dstRow, a6, a7, nci > 3);
      }
    }
  }
}

// p[k·stride] += lane k of v (k = 0..3) when `on`.
@inline function addColumn(p: usize, v: v128, stride: usize, on: bool): void {
  if (!on) return;
  store<f32>(p, load<f32>(p) + f32x4.extract_lane(v, 0));
  store<f32>(p + stride, load<f32>(p + stride) + f32x4.extract_lane(v, 1));
  store<f32>(p + 2 * stride, load<f32>(p + 2 * stride) + f32x4.extract_lane(v, 2));
  store<f32>(p + 3 * stride, load<f32>(p + 3 * stride) + f32x4.extract_lane(v, 3));
}

// p[0..7] += (lo, hi) when `on`.
@inline function addTile(p: usize, lo: v128, hi: v128, on: bool): void {
  if (!on) return;
  v128.store(p, f32x4.add(v128.load(p), lo));
  v128.store(p, f32x4.add(v128.load(p, 16), hi), 16);
}


// 3x3 depthwise convolution, stride 1, channel multiplier 1, gathered per output element:
// dst[b, y, x, ch] = Σ_{r,s} src[b, y − p + r, x − q + s, ch] · W[r, s, ch] (zero outside src), with
// W = w, or w flipped in both axes when flip != 0. The forward pass is (src = x, p = padTop,
// q = padLeft); the input gradient is (src = dy, flip, p = 2 − padTop, q = 2 − padLeft).
// Every output element is one chain of fused multiply-adds in a fixed order (rows 0..2, columns
// 2..0) held in a register; source rows outside the image read `zeros` (sW·c floats of 0).
// Threads split the output rows. dims: i32 block [batch, sH, sW, dH, dW, c, p, q, flip].
export function depthwise3x3(src: usize, w: usize, dst: usize, dims: usize, zeros: usize, t: i32, nt: i32): void {
  const batch = gi(dims, 0), sH = gi(dims, 1), sW = gi(dims, 2), dH = gi(dims, 3), dW = gi(dims, 4);
  const c = gi(dims, 5), p = gi(dims, 6), q = gi(dims, 7), flip = gi(dims, 8);
  const cs = <usize>c << 2;
  const rows = batch * dH;
  // Output columns whose three source columns are all inside the row.
  const xa = max(0, q), xb = max(xa, min(dW, sW - 2 + q));
  const c4 = c & ~3;
  for (let row = sliceLo(rows, t, nt); row < sliceLo(rows, t + 1, nt); row++) {
    const b = row / dH, y = row % dH;
    const s0 = srcRow(src, zeros, b, y - p, sH, sW, c);
    const s1 = srcRow(src, zeros, b, y - p + 1, sH, sW, c);
    const s2 = srcRow(src, zeros, b, y - p + 2, sH, sW, c);
    const drow = dst + (<usize>(row * dW * c) << 2);
    for (let j = 0; j < c4; j += 4) {
      const w00 = wtap(w, c, j, flip, 0, 0), w01 = wtap(w, c, j, flip, 0, 1), w02 = wtap(w, c, j, flip, 0, 2);
      const w10 = wtap(w, c, j, flip, 1, 0), w11 = wtap(w, c, j, flip, 1, 1), w12 = wtap(w, c, j, flip, 1, 2);
      const w20 = wtap(w, c, j, flip, 2, 0), w21 = wtap(w, c, j, flip, 2, 1), w22 = wtap(w, c, j, flip, 2, 2);
      const jo = <usize>j << 2;
      for (let o = xa; o < xb; o++) {
        const so = (<usize>((o - q) * c) << 2) + jo;
        let acc = f32x4.relaxed_madd(v128.load(s0 + so + 2 * cs), w02, f32x4.splat(0));
        acc = f32x4.relaxed_madd(v128.load(s0 + so + cs), w01, acc);
        acc = f32x4.relaxed_madd(v128.load(s0 + so), w00, acc);
        acc = f32x4.relaxed_madd(v128.load(s1 + so + 2 * cs), w12, acc);
        acc = f32x4.relaxed_madd(v128.load(s1 + so + cs), w11, acc);
        acc = f32x4.relaxed_madd(v128.load(s1 + so), w10, acc);
        acc = f32x4.relaxed_madd(v128.load(s2 + so + 2 * cs), w22, acc);
        acc = f32x4.relaxed_madd(v128.load(s2 + so + cs), w21, acc);
        acc = f32x4.relaxed_madd(v128.load(s2 + so), w20, acc);
        v128.store(drow + (<usize>(o * c) << 2) + jo, acc);
      }
    }
    // Edge columns, and the channels past the last block of 4: lane by lane with bounds checks,
    // the same chain order as above.
    for (let o = 0; o < dW; o++) {
      const inner = o >= xa && o < xb;
      for (let l = inner ? c4 : 0; l < c; l++) {
        let sum: f32 = 0;
        for (let r = 0; r < 3; r++) {
          const sr = r == 0 ? s0 : r == 1 ? s1 : s2;
          for (let s = 2; s >= 0; s--) {
            const xx = o - q + s;
            if (xx < 0 || xx >= sW) continue;
            const wv = load<f32>(w + (<usize>(((flip ? (2 - r) * 3 + (2 - s) : r * 3 + s) * c) + l) << 2));
            sum = fmaf(load<f32>(sr + (<usize>(xx * c + l) << 2)), wv, sum);
          }
        }
        store<f32>(drow + (<usize>(o * c + l) << 2), sum);
      }
    }
  }
}

// Start of source row yy of image b, or the zero row when yy is outside the image.
@inline function srcRow(src: usize, zeros: usize, b: i32, yy: i32, sH: i32, sW: i32, c: i32): usize {
  return yy >= 0 && yy < sH ? src + (<usize>((b * sH + yy) * sW * c) << 2) : zeros;
}

@inline function fmaf(a: f32, b: f32, c: f32): f32 {
  return f32x4.extract_lane(f32x4.relaxed_madd(f32x4.splat(a), f32x4.splat(b), f32x4.splat(c)), 0);
}

// Tap (r, s) of a [3, 3, c] depthwise filter for channels j..j+3 (flipped: tap (2 − r, 2 − s)).
@inline function wtap(w: usize, c: i32, j: i32, flip: i32, r: i32, s: i32): v128 {
  const k = flip ? (2 - r) * 3 + (2 - s) : r * 3 + s;
  return v128.load(w + (<usize>(k * c + j) << 2));
}

// Direct 2-D convolution (NHWC, filter [fh, fw, ci, co], co a multiple of 8):
// out[b, oh, ow, o] = act(bias[o] + Σ_{r,s,c} x[b, oh·sh − padTop + r·dh, ow·sw − padLeft + s·dw, c]·w[r, s, c, o]).
// Tiles of 4 output columns × 8 output channels keep their sums in 8 registers over every tap and
// input channel; a column whose input falls in the padding reads `zeros` (ci floats of 0) instead,
// so the inner loop has no branches. Threads split the output rows; each element is summed in the
// same order for any thread count. g: geometry block (15 ints, 14 = co); bias = 0: none;
// act: 0 linear, 1 relu.
export function conv2dDirect(
  x: usize, w: usize, bias: usize, out: usize, g: usize, zeros: usize, act: i32, t: i32, nt: i32,
): void {
  const batch = gi(g, 0), inH = gi(g, 1), inW = gi(g, 2), ci = gi(g, 3), outH = gi(g, 4), outW = gi(g, 5);
  const fh = gi(g, 6), fw = gi(g, 7), sh = gi(g, 8), sw = gi(g, 9), dh = gi(g, 10), dww = gi(g, 11);
  const padTop = gi(g, 12), padLeft = gi(g, 13), co = gi(g, 14);
  const rows = batch * outH;
  const wTap = <usize>(ci * co) << 2;
  const wC = <usize>co << 2;
  const zero = f32x4.splat(0);
  for (let q = sliceLo(rows, t, nt); q < sliceLo(rows, t + 1, nt); q++) {
    const b = q / outH, oh = q % outH;
    const orow = out + (<usize>(q * outW * co) << 2);
    for (let o0 = 0; o0 < co; o0 += 8) {
      const bl = bias == 0 ? zero : v128.load(bias + (<usize>o0 << 2));
      const bh = bias == 0 ? zero : v128.load(bias + (<usize>o0 << 2), 16);
      for (let ow0 = 0; ow0 < outW; ow0 += 4) {
        let a0 = bl, a1 = bh, a2 = bl, a3 = bh, a4 = bl, a5 = bh, a6 = bl, a7 = bh;
        // Columns past the row end repeat the last one (computed, never stored).
        const k1 = min(ow0 + 1, outW - 1), k2 = min(ow0 + 2, outW - 1), k3 = min(ow0 + 3, outW - 1);
        for (let r = 0; r < fh; r++) {
          const ih = oh * sh - padTop + r * dh;
          if (ih < 0 || ih >= inH) continue;
          const xrow = x + (<usize>((b * inH + ih) * inW * ci) << 2);
          for (let s = 0; s < fw; s++) {
            const off = s * dww - padLeft;
            const p0 = colPtr(xrow, zeros, ow0 * sw + off, inW, ci);
            const p1 = colPtr(xrow, zeros, k1 * sw + off, inW, ci);
            const p2 = colPtr(xrow, zeros, k2 * sw + off, inW, ci);
            const p3 = colPtr(xrow, zeros, k3 * sw + off, inW, ci);
            let wp = w + <usize>(r * fw + s) * wTap + (<usize>o0 << 2);
            for (let c = 0; c < ci; c++) {
              const cb = <usize>c << 2;
              const w0 = v128.load(wp), w1 = v128.load(wp, 16);
              const x0 = f32x4.splat(load<f32>(p0 + cb));
              const x1 = f32x4.splat(load<f32>(p1 + cb));
              const x2 = f32x4.splat(load<f32>(p2 + cb));
              const x3 = f32x4.splat(load<f32>(p3 + cb));
              a0 = f32x4.relaxed_madd(x0, w0, a0); a1 = f32x4.relaxed_madd(x0, w1, a1);
              a2 = f32x4.relaxed_madd(x1, w0, a2); a3 = f32x4.relaxed_madd(x1, w1, a3);
              a4 = f32x4.relaxed_madd(x2, w0, a4); a5 = f32x4.relaxed_madd(x2, w1, a5);
              a6 = f32x4.relaxed_madd(x3, w0, a6); a7 = f32x4.relaxed_madd(x3, w1, a7);
              wp += wC;
            }
          }
        }
        if (act == 1) {
          a0 = f32x4.max(a0, zero); a1 = f32x4.max(a1, zero); a2 = f32x4.max(a2, zero); a3 = f32x4.max(a3, zero);
          a4 = f32x4.max(a4, zero); a5 = f32x4.max(a5, zero); a6 = f32x4.max(a6, zero); a7 = f32x4.max(a7, zero);
        }
        const op = orow + (<usize>(ow0 * co + o0) << 2);
        v128.store(op, a0); v128.store(op, a1, 16);
        if (ow0 + 1 < outW) { v128.store(op + wC, a2); v128.store(op + wC, a3, 16); }
        if (ow0 + 2 < outW) { v128.store(op + 2 * wC, a4); v128.store(op + 2 * wC, a5, 16); }
        if (ow0 + 3 < outW) { v128.store(op + 3 * wC, a6); v128.store(op + 3 * wC, a7, 16); }
      }
    }
  }
}

// Address of input column iw of a row (ci floats), or of the zero column when iw is in the padding.
@inline function colPtr(xrow: usize, zeros: usize, iw: i32, inW: i32, ci: i32): usize {
  return iw >= 0 && iw < inW ? xrow + (<usize>(iw * ci) << 2) : zeros;
}

// Depthwise 3x3 stride-1 filter gradient for c a multiple of 4: dw[r, s, ch] = Σ x[b, oh − pt + r,
// ow − pl + s, ch]·dy[b, oh, ow, ch]. Per 4-channel block, the nine sums stay in registers over one
// image, then go into f64 sums (acc: 9·c f64); rows outside the image read `zeros` (inW·c floats).
// Threads split the channel blocks. g: geometry block.
export function depthwiseFilterGrad3(x: usize, dy: usize, out: usize, g: usize, zeros: usize, acc: usize, t: i32, nt: i32): void {
  const batch = gi(g, 0), inH = gi(g, 1), inW = gi(g, 2), c = gi(g, 3), outH = gi(g, 4), outW = gi(g, 5);
  const padTop = gi(g, 12), padLeft = gi(g, 13);
  const blocks = c >> 2;
  const cs = <usize>c << 2;
  for (let jb = sliceLo(blocks, t, nt); jb < sliceLo(blocks, t + 1, nt); jb++) {
    const jo = <usize>(jb << 2) << 2;
    for (let k = 0; k < 9; k++) {
      const a = acc + (<usize>(k * c + (jb << 2)) << 3);
      v128.store(a, f64x2.splat(0));
      v128.store(a, f64x2.splat(0), 16);
    }
    for (let b = 0; b < batch; b++) {
      let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a02 = f32x4.splat(0);
      let a10 = f32x4.splat(0), a11 = f32x4.splat(0), a12 = f32x4.splat(0);
      let a20 = f32x4.splat(0), a21 = f32x4.splat(0), a22 = f32x4.splat(0);
      for (let oh = 0; oh < outH; oh++) {
        const r0 = srcRow(x, zeros, b, oh - padTop, inH, inW, c) + jo;
        const r1 = srcRow(x, zeros, b, oh - padTop + 1, inH, inW, c) + jo;
        const r2 = srcRow(x, zeros, b, oh - padTop + 2, inH, inW, c) + jo;
        let dp = dy + (<usize>((b * outH + oh) * outW * c) << 2) + jo;
        for (let ow = 0; ow < outW; ow++) {
          const d = v128.load(dp);
          const iw = ow - padLeft;
          const xo = <isize>iw * <isize>cs;
          if (iw >= 0 && iw < inW) {
            a00 = f32x4.relaxed_madd(v128.load(r0 + xo), d, a00);
            a10 = f32x4.relaxed_madd(v128.load(r1 + xo), d, a10);
            a20 = f32x4.relaxed_madd(v128.load(r2 + xo), d, a20);
          }
          if (iw + 1 >= 0 && iw + 1 < inW) {
            a01 = f32x4.relaxed_madd(v128.load(r0 + xo + cs), d, a01);
            a11 = f32x4.relaxed_madd(v128.load(r1 + xo + cs), d, a11);
            a21 = f32x4.relaxed_madd(v128.load(r2 + xo + cs), d, a21);
          }
          if (iw + 2 >= 0 && iw + 2 < inW) {
            a02 = f32x4.relaxed_madd(v128.load(r0 + xo + 2 * cs), d, a02);
            a12 = f32x4.relaxed_madd(v128.load(r1 + xo + 2 * cs), d, a12);
            a22 = f32x4.relaxed_madd(v128.load(r2 + xo + 2 * cs), d, a22);
          }
          dp += cs;
        }
      }
      const base = acc + (<usize>(jb << 2) << 3);
      const tap = <usize>c << 3;
      flush4(base, a00); flush4(base + tap, a01); flush4(base + 2 * tap, a02);
      flush4(base + 3 * tap, a10); flush4(base + 4 * tap, a11); flush4(base + 5 * tap, a12);
      flush4(base + 6 * tap, a20); flush4(base + 7 * tap, a21); flush4(base + 8 * tap, a22);
    }
    for (let k = 0; k < 9; k++) {
      for (let l = 0; l < 4; l++) {
        const q = k * c + (jb << 2) + l;
        store<f32>(out + (<usize>q << 2), <f32>load<f64>(acc + (<usize>q << 3)));
      }
    }
  }
}

// acc[0..3] (f64) += v (f32x4).
@inline function flush4(acc: usize, v: v128): void {
  v128.store(acc, f64x2.add(v128.load(acc), f64x2.promote_low_f32x4(v)));
  v128.store(acc, f64x2.add(v128.load(acc, 16), f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 2, 3))), 16);
}

// One Adam step of a variable of n elements, with tfjs 4.22 AdamOptimizer.applyGradients' f32
// arithmetic in its order (no fused multiply-add), so the result is bit-identical to its 14 ops:
//   m' = m·b1 + g·omb1;  v' = v·b2 + (g·g)·omb2;  x' = (m'/c1)/(sqrt(v'/c2) + eps)·negLr + x
// where omb = 1 − b, c = 1 − accumulated b (all f32). Threads split the elements in blocks of 4.
export function adamUpdate(
  x: usize, g: usize, m: usize, v: usize, xo: usize, mo: usize, vo: usize, n: i32,
  b1: f32, omb1: f32, b2: f32, omb2: f32, c1: f32, c2: f32, negLr: f32, eps: f32, t: i32, nt: i32,
): void {
  const blocks = (n + 3) >> 2;
  const i0 = sliceLo(blocks, t, nt) << 2, i1 = min(n, sliceLo(blocks, t + 1, nt) << 2);
  const i4 = i0 + ((i1 - i0) & ~3);
  const vb1 = f32x4.splat(b1), vomb1 = f32x4.splat(omb1), vb2 = f32x4.splat(b2), vomb2 = f32x4.splat(omb2);
  const vc1 = f32x4.splat(c1), vc2 = f32x4.splat(c2), vlr = f32x4.splat(negLr), veps = f32x4.splat(eps);
  let i = i0;
  for (; i < i4; i += 4) {
    const o = <usize>i << 2;
    const gi = v128.load(g + o);
    const m1 = f32x4.add(f32x4.mul(v128.load(m + o), vb1), f32x4.mul(gi, vomb1));
    const v1 = f32x4.add(f32x4.mul(v128.load(v + o), vb2), f32x4.mul(f32x4.mul(gi, gi), vomb2));
    v128.store(mo + o, m1);
    v128.store(vo + o, v1);
    const den = f32x4.add(f32x4.sqrt(f32x4.div(v1, vc2)), veps);
    v128.store(xo + o, f32x4.add(f32x4.mul(f32x4.div(f32x4.div(m1, vc1), den), vlr), v128.load(x + o)));
  }
  for (; i < i1; i++) {
    const o = <usize>i << 2;
    const gi = load<f32>(g + o);
    const m1 = load<f32>(m + o) * b1 + gi * omb1;
    const v1 = load<f32>(v + o) * b2 + (gi * gi) * omb2;
    store<f32>(mo + o, m1);
    store<f32>(vo + o, v1);
    store<f32>(xo + o, (m1 / c1) / (sqrt<f32>(v1 / c2) + eps) * negLr + load<f32>(x + o));
  }
}

// Block partials of Σ_r (x[r, j] − mean[j])² (f32 differences and squares, as tf.moments computes
// them), laid out and threaded as channelSum; channelCombine with scale 1/rows gives the variance.
export function channelSqDev(x: usize, mean: usize, rows: i32, c: i32, part: usize, tmp: usize, t: i32, nt: i32): void {
  const nb = reduceBlocks(rows);
  const c4 = c & ~3;
  const acc = threadScratch(tmp, c, t);
  for (let b = sliceLo(nb, t, nt); b < sliceLo(nb, t + 1, nt); b++) {
    const r0 = b * REDUCE_BLOCK, r1 = min(rows, r0 + REDUCE_BLOCK);
    memory.fill(acc, 0, <usize>c << 2);
    for (let q = r0; q < r1; q++) {
      const row = x + (<usize>(q * c) << 2);
      let j = 0;
      for (; j < c4; j += 4) {
        const o = <usize>j << 2;
        const d = f32x4.sub(v128.load(row + o), v128.load(mean + o));
        v128.store(acc + o, f32x4.add(v128.load(acc + o), f32x4.mul(d, d)));
      }
      for (; j < c; j++) {
        const o = <usize>j << 2;
        const d = load<f32>(row + o) - load<f32>(mean + o);
        store<f32>(acc + o, load<f32>(acc + o) + d * d);
      }
    }
    memory.copy(part + (<usize>(b * c) << 2), acc, <usize>c << 2);
  }
}

// The input gradient of a training-mode batch norm (batch statistics included), per channel
// coefficients precomputed: dx = A·dy + B·(x − mean) + C, with coef = [A (c), B (c), C (c)].
// Threads split the rows.
export function batchNormGradInput(
  dy: usize, x: usize, mean: usize, coef: usize, dx: usize, rows: i32, c: i32, t: i32, nt: i32,
): void {
  const c4 = c & ~3;
  const pa = coef, pb = coef + (<usize>c << 2), pc = coef + (<usize>c << 3);
  for (let r = sliceLo(rows, t, nt); r < sliceLo(rows, t + 1, nt); r++) {
    const off = <usize>(r * c) << 2;
    let j = 0;
    for (; j < c4; j += 4) {
      const o = <usize>j << 2;
      const xm = f32x4.sub(v128.load(x + off + o), v128.load(mean + o));
      const y = f32x4.add(f32x4.mul(v128.load(pa + o), v128.load(dy + off + o)), f32x4.mul(v128.load(pb + o), xm));
      v128.store(dx + off + o, f32x4.add(y, v128.load(pc + o)));
    }
    for (; j < c; j++) {
      const o = <usize>j << 2;
      const xm = load<f32>(x + off + o) - load<f32>(mean + o);
      store<f32>(dx + off + o, load<f32>(pa + o) * load<f32>(dy + off + o) + load<f32>(pb + o) * xm + load<f32>(pc + o));
    }
  }
}

// ReLU and its gradient, element by element, with tfjs' semantics (NaN propagates):
// op 0: out = max(0, a) (−0 → +0, as Math.max);  op 1: out = b·step(a) with step(a) = a > 0 ? 1 : 0 (NaN for NaN a),
// the gradient dy = b of relu at x = a. Threads split the elements in blocks of 4.
export function reluOp(a: usize, b: usize, out: usize, n: i32, op: i32, t: i32, nt: i32): void {
  const blocks = (n + 3) >> 2;
  const i0 = sliceLo(blocks, t, nt) << 2, i1 = min(n, sliceLo(blocks, t + 1, nt) << 2);
  const i4 = i0 + ((i1 - i0) & ~3);
  const zero = f32x4.splat(0), one = f32x4.splat(1);
  let i = i0;
  if (op == 0) {
    for (; i < i4; i += 4) {
      const o = <usize>i << 2;
      const x = v128.load(a + o);
      v128.store(out + o, f32x4.max(x, zero));
    }
  } else {
    for (; i < i4; i += 4) {
      const o = <usize>i << 2;
      const x = v128.load(a + o);
      const s = v128.bitselect(x, v128.bitselect(one, zero, f32x4.gt(x, zero)), f32x4.ne(x, x));
      v128.store(out + o, f32x4.mul(v128.load(b + o), s));
    }
  }
  for (; i < i1; i++) {
    const o = <usize>i << 2;
    const x = load<f32>(a + o);
    if (op == 0) {
      store<f32>(out + o, max<f32>(x, 0));
    } else {
      const s: f32 = x != x ? x : x > 0 ? 1 : 0;
      store<f32>(out + o, load<f32>(b + o) * s);
    }
  }
}
