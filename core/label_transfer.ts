/**
 * LEL-LTN's label transfer network (after Augenstein, Ruder & Søgaard, NAACL 2018, arXiv 1802.09913):
 * a small MLP that maps the predicted label distributions of the tasks (concatenated) to one task's label
 * distribution. It is trained on the task's own labelled rows, where the teacher's predictions are known
 * and so is the true label, then labels the rows that miss the task. The original SA-MTL code has no LTN
 * (docs/original.md §6.3, B18): this is a re-design. Plain JS in float64: it is tiny, and so it runs the same on every
 * backend and is reproducible from the seed.
 * @module
 */
import type { Rng } from "./rng.ts";

/** Weights of a one-hidden-layer ReLU MLP with a softmax output. */
export interface LabelTransferNet {
  inDim: number;
  hidden: number;
  classes: number;
  /** inDim*hidden, row-major (input-major). */
  w1: Float64Array;
  b1: Float64Array;
  /** hidden*classes. */
  w2: Float64Array;
  b2: Float64Array;
}

/** Shape of a new network. */
export interface LabelTransferShape {
  inDim: number;
  classes: number;
  /** Hidden units (`ltn_hidden`, default 32). */
  hidden?: number;
}

/** A new network: He-uniform first layer (ReLU), Glorot-uniform output layer, zero biases. */
export function createLabelTransfer(shape: LabelTransferShape, rng: Rng): LabelTransferNet {
  const { inDim, classes } = shape;
  const hidden = shape.hidden ?? 32;
  for (const [k, v] of [["inDim", inDim], ["classes", classes], ["hidden", hidden]] as const) {
    if (!Number.isInteger(v) || v < 1) {
      throw new Error(`createLabelTransfer: ${k} must be a positive integer, got ${v}`);
    }
  }
  const l1 = Math.sqrt(6 / inDim);
  const l2 = Math.sqrt(6 / (hidden + classes));
  return {
    inDim,
    hidden,
    classes,
    w1: Float64Array.from({ length: inDim * hidden }, () => rng.uniform(-l1, l1)),
    b1: new Float64Array(hidden),
    w2: Float64Array.from({ length: hidden * classes }, () => rng.uniform(-l2, l2)),
    b2: new Float64Array(classes),
  };
}

/** Concatenate per-row blocks (each n*width_t) into one n*Σwidth matrix, in the given order. */
export function concatRows(parts: Float32Array[], n: number): Float32Array {
  const widths = parts.map((p, i) => {
    const w = p.length / n;
    if (!Number.isInteger(w)) {
      throw new Error(`concatRows: part ${i} has ${p.length} values, not a multiple of ${n} rows`);
    }
    return w;
  });
  const total = widths.reduce((a, b) => a + b, 0);
  const out = new Float32Array(n * total);
  for (let i = 0; i < n; i++) {
    let o = i * total;
    parts.forEach((p, t) => {
      out.set(p.subarray(i * widths[t], (i + 1) * widths[t]), o);
      o += widths[t];
    });
  }
  return out;
}

/** Forward pass of one row into `h` (hidden activations) and `p` (softmax). */
function forward(
  net: LabelTransferNet,
  x: Float32Array,
  row: number,
  h: Float64Array,
  p: Float64Array,
): void {
  const { inDim, hidden, classes, w1, b1, w2, b2 } = net;
  const xo = row * inDim;
  for (let u = 0; u < hidden; u++) h[u] = b1[u];
  for (let i = 0; i < inDim; i++) {
    const xi = x[xo + i];
    if (xi === 0) continue;
    const wo = i * hidden;
    for (let u = 0; u < hidden; u++) h[u] += xi * w1[wo + u];
  }
  for (let u = 0; u < hidden; u++) if (h[u] < 0) h[u] = 0;
  let mx = -Infinity;
  for (let c = 0; c < classes; c++) {
    let z = b2[c];
    for (let u = 0; u < hidden; u++) z += h[u] * w2[u * classes + c];
    p[c] = z;
    if (z > mx) mx = z;
  }
  let s = 0;
  for (let c = 0; c < classes; c++) s += p[c] = Math.exp(p[c] - mx);
  for (let c = 0; c < classes; c++) p[c] /= s;
}

/** Options of {@link trainLabelTransfer}. */
export interface LabelTransferTrainOptions {
  /** Shuffles the rows each epoch. */
  rng: Rng;
  /** Passes over the rows (`ltn_epochs`, default 20). */
  epochs?: number;
  /** Adam learning rate (default 1e-2). */
  lr?: number;
  batchSize?: number;
  /** L2 penalty on the kernels (default 1e-4). */
  weightDecay?: number;
}

/** Training data: n rows of inputs and a class id per row (-1 rows are skipped). */
export interface LabelTransferData {
  x: Float32Array;
  labels: Int32Array;
}

/**
 * Train `net` in place by mini-batch Adam on the cross-entropy. Returns the mean loss of every epoch.
 */
export function trainLabelTransfer(
  net: LabelTransferNet,
  data: LabelTransferData,
  opts: LabelTransferTrainOptions,
): { losses: number[] } {
  const { inDim, hidden, classes, w1, b1, w2, b2 } = net;
  const n = data.labels.length;
  if (data.x.length !== n * inDim) {
    throw new Error(`trainLabelTransfer: ${data.x.length} inputs for ${n} rows x ${inDim} features`);
  }
  const rows: number[] = [];
  for (let i = 0; i < n; i++) {
    const y = data.labels[i];
    if (y < 0) continue;
    if (!Number.isInteger(y) || y >= classes) {
      throw new Error(`trainLabelTransfer: row ${i} has label ${y}, not in [0, ${classes})`);
    }
    rows.push(i);
  }
  if (rows.length === 0) throw new Error("trainLabelTransfer: no labelled rows to train on");
  const epochs = opts.epochs ?? 20;
  const lr = opts.lr ?? 1e-2;
  const bs = Math.max(1, opts.batchSize ?? 32);
  const wd = opts.weightDecay ?? 1e-4;
  const params = [w1, b1, w2, b2];
  const grads = params.map((p) => new Float64Array(p.length));
  const m = params.map((p) => new Float64Array(p.length));
  const v = params.map((p) => new Float64Array(p.length));
  const [gw1, gb1, gw2, gb2] = grads;
  const h = new Float64Array(hidden);
  const p = new Float64Array(classes);
  const dh = new Float64Array(hidden);
  const order = Int32Array.from(rows);
  let step = 0;
  const losses: number[] = [];
  for (let ep = 0; ep < epochs; ep++) {
    opts.rng.shuffle(order);
    let total = 0;
    for (let s = 0; s < order.length; s += bs) {
      const end = Math.min(order.length, s + bs);
      for (const g of grads) g.fill(0);
      for (let t = s; t < end; t++) {
        const r = order[t];
        const y = data.labels[r];
        forward(net, data.x, r, h, p);
        total -= Math.log(Math.max(p[y], 1e-12));
        p[y] -= 1; // dL/dz of softmax cross-entropy
        dh.fill(0);
        for (let u = 0; u < hidden; u++) {
          if (h[u] === 0) continue;
          for (let c = 0; c < classes; c++) {
            gw2[u * classes + c] += h[u] * p[c];
            dh[u] += w2[u * classes + c] * p[c];
          }
        }
        for (let c = 0; c < classes; c++) gb2[c] += p[c];
        const xo = r * inDim;
        for (let i = 0; i < inDim; i++) {
          const xi = data.x[xo + i];
          if (xi === 0) continue;
          for (let u = 0; u < hidden; u++) gw1[i * hidden + u] += xi * dh[u];
        }
        for (let u = 0; u < hidden; u++) gb1[u] += dh[u];
      }
      const scale = 1 / (end - s);
      step++;
      const c1 = 1 - 0.9 ** step;
      const c2 = 1 - 0.999 ** step;
      params.forEach((w, k) => {
        const g = grads[k];
        const decay = k % 2 === 0 ? wd : 0; // kernels only
        for (let i = 0; i < w.length; i++) {
          const gi = g[i] * scale + decay * w[i];
          m[k][i] = 0.9 * m[k][i] + 0.1 * gi;
          v[k][i] = 0.999 * v[k][i] + 0.001 * gi * gi;
          w[i] -= (lr * (m[k][i] / c1)) / (Math.sqrt(v[k][i] / c2) + 1e-8);
        }
      });
    }
    losses.push(total / order.length);
  }
  return { losses };
}

/** Label distributions (n*C, rows sum to 1) for n rows of inputs. */
export function predictLabelTransfer(net: LabelTransferNet, x: Float32Array): Float32Array {
  const n = x.length / net.inDim;
  if (!Number.isInteger(n)) {
    throw new Error(`predictLabelTransfer: ${x.length} inputs is not a multiple of ${net.inDim}`);
  }
  const out = new Float32Array(n * net.classes);
  const h = new Float64Array(net.hidden);
  const p = new Float64Array(net.classes);
  for (let r = 0; r < n; r++) {
    forward(net, x, r, h, p);
    for (let c = 0; c < net.classes; c++) out[r * net.classes + c] = p[c];
  }
  return out;
}
