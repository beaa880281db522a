/**
 * Per-face tracking for the video demo: boxes are matched to tracks by intersection over union, and
 * each track keeps its own sliding window of recent labels per head (docs/original.md B26: the original shared one
 * window across all faces and frames).
 * @module
 */

/** An axis-aligned box. */
export interface Box {
  /** Left edge. */
  x: number;
  /** Top edge. */
  y: number;
  /** Width. */
  width: number;
  /** Height. */
  height: number;
}

/** Intersection over union of two boxes (0 when either is empty). */
export function iou(a: Box, b: Box): number {
  const ix = Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x));
  const iy = Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y));
  const inter = ix * iy;
  const union = a.width * a.height + b.width * b.height - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * The most frequent value of a window. A tie goes to `prefer` when it is among the tied values (the
 * label already on screen, so the display does not flicker), else to the tied value seen most
 * recently. (The original skipped the face when `statistics.mode` found no unique mode.)
 */
export function windowMode(values: readonly string[], prefer?: string): string | undefined {
  const counts = new Map<string, number>();
  let top = 0;
  for (const v of values) {
    const c = (counts.get(v) ?? 0) + 1;
    counts.set(v, c);
    top = Math.max(top, c);
  }
  if (prefer !== undefined && counts.get(prefer) === top) return prefer;
  for (let i = values.length - 1; i >= 0; i--) {
    if (counts.get(values[i]) === top) return values[i];
  }
  return undefined;
}

/** Options of {@link FaceTracker}. */
export interface TrackerOptions {
  /** Minimum IoU to continue a track (default 0.3). */
  minIou?: number;
  /** Frames a track survives unseen (default 5). */
  maxAge?: number;
  /** Labels kept per head and track (default 10, as the original). */
  window?: number;
}

/** A tracked face. */
export interface Track {
  /** Track id (from 1). */
  id: number;
  /** Last matched box. */
  box: Box;
  /** Frame index where the track was last matched. */
  lastFrame: number;
  /** Recent labels per head, oldest first. */
  windows: Map<string, string[]>;
  /** The label last returned per head (kept on ties). */
  shown: Map<string, string>;
}

/** Greedy IoU tracker with a per-track label window. */
export class FaceTracker {
  #tracks: Track[] = [];
  #nextId = 1;
  #minIou: number;
  #maxAge: number;
  #window: number;

  /** Create an empty tracker. */
  constructor(opts: TrackerOptions = {}) {
    this.#minIou = opts.minIou ?? 0.3;
    this.#maxAge = opts.maxAge ?? 5;
    this.#window = opts.window ?? 10;
    if (!(this.#window >= 1)) throw new Error(`tracker window must be >= 1, got ${this.#window}`);
  }

  /** Live tracks. */
  get tracks(): readonly Track[] {
    return this.#tracks;
  }

  /**
   * Match this frame's boxes to tracks (highest IoU first, one box per track); unmatched boxes start
   * new tracks, tracks unseen for more than `maxAge` frames end. Returns the track id of each box.
   */
  update(boxes: readonly Box[], frame: number): number[] {
    const pairs: { i: number; t: number; v: number }[] = [];
    boxes.forEach((b, i) =>
      this.#tracks.forEach((tr, t) => {
        const v = iou(b, tr.box);
        if (v >= this.#minIou) pairs.push({ i, t, v });
      })
    );
    pairs.sort((a, b) => b.v - a.v || a.i - b.i || a.t - b.t);
    const ids = new Array<number>(boxes.length).fill(-1);
    const usedTrack = new Set<number>();
    for (const p of pairs) {
      if (ids[p.i] !== -1 || usedTrack.has(p.t)) continue;
      usedTrack.add(p.t);
      const tr = this.#tracks[p.t];
      tr.box = { ...boxes[p.i] };
      tr.lastFrame = frame;
      ids[p.i] = tr.id;
    }
    boxes.forEach((b, i) => {
      if (ids[i] !== -1) return;
      const tr: Track = {
        id: this.#nextId++,
        box: { ...b },
        lastFrame: frame,
        windows: new Map(),
        shown: new Map(),
      };
      this.#tracks.push(tr);
      ids[i] = tr.id;
    });
    this.#tracks = this.#tracks.filter((tr) => frame - tr.lastFrame <= this.#maxAge);
    return ids;
  }

  /** Add a head's label to a track's window and return the window's mode. */
  smooth(trackId: number, task: string, label: string): string {
    const tr = this.#tracks.find((t) => t.id === trackId);
    if (!tr) throw new Error(`no live track #${trackId}`);
    const w = tr.windows.get(task) ?? [];
    w.push(label);
    if (w.length > this.#window) w.shift();
    tr.windows.set(task, w);
    const shown = windowMode(w, tr.shown.get(task))!;
    tr.shown.set(task, shown);
    return shown;
  }
}
