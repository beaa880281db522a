/**
 * Batch generators (docs/original.md §3, fixes B21, B22, B33): plain typed arrays, no tensors, so they are testable
 * without a backend.
 *
 * - {@link singleGenerator}: one dataset, ceil(n/B) batches, the last one partial.
 * - {@link jointGenerator}: every batch mixes all datasets in proportion to their sizes, with at least one
 *   row of each (docs/original.md B22); every training row is seen exactly once per epoch (no dropped tail, B21). A dataset
 *   with fewer rows than the epoch has batches is cycled (re-shuffled passes) so it still appears in every batch.
 * - {@link alternatingGenerator}: one dataset per outer epoch (epoch e uses source e mod k).
 *
 * Targets per head: a true label gives a one-hot row (mask 1); otherwise the source's pseudo targets for
 * that dataset row (looked up by row id, so they follow the rows through any shuffle) when the row is not all
 * zero (mask 1); otherwise zeros (mask 0). Every fill is sized by the batch's actual rows (docs/original.md B33).
 *
 * Row order: `shuffle` (default) draws a fresh row permutation every epoch; `fixed` is the original
 * behaviour (fixed batch contents in the given row order, batch order shuffled each epoch, docs/original.md §3.7);
 * `none` keeps rows and batches in order (evaluation). The original joint generator's tail dropping
 * (docs/original.md B21) is not reproduced in any mode.
 * @module
 */
import { Rng } from "../core/rng.ts";
import type { ImageSet, TaskName, TaskSpec } from "../core/types.ts";
import type {
  Batch,
  DataSource,
  EpochGenerator,
  EpochOptions,
  GeneratorOptions,
  PseudoTargets,
  RowOrder,
} from "../core/batches.ts";
import { augmentImage, flipPermutation } from "./augment.ts";

export type {
  Batch,
  DataSource,
  EpochGenerator,
  EpochOptions,
  GeneratorOptions,
  PseudoTargets,
  RowOrder,
} from "../core/batches.ts";

interface Plan {
  /** Per batch: per source, the dataset rows. */
  batches: Int32Array[][];
}

function checkOptions(sources: DataSource[], opts: GeneratorOptions): void {
  if (sources.length === 0) throw new Error("generator: no data sources given");
  if (!(Number.isInteger(opts.batchSize) && opts.batchSize >= 1)) {
    throw new RangeError(`generator: batchSize must be a positive integer, got ${opts.batchSize}`);
  }
  const s0 = sources[0].set;
  for (const s of sources) {
    const set = s.set;
    if (set.height !== s0.height || set.width !== s0.width || set.channels !== s0.channels) {
      throw new Error(
        `generator: ${set.name} is ${set.height}x${set.width}x${set.channels} but ${s0.name} is ` +
          `${s0.height}x${s0.width}x${s0.channels}; load every dataset at the same size`,
      );
    }
    if (s.rows.length === 0) throw new Error(`generator: dataset ${set.name} has no rows in this split`);
    for (const r of s.rows) {
      if (!(r >= 0 && r < set.n)) {
        throw new RangeError(`generator: ${set.name} has no row ${r} (n = ${set.n})`);
      }
    }
    for (const [task, arr] of Object.entries(s.pseudo ?? {})) {
      checkPseudo(set, task as TaskName, arr, opts.heads);
    }
  }
}

function checkPseudo(set: ImageSet, task: TaskName, arr: Float32Array | undefined, heads: TaskSpec[]): void {
  if (!arr) return;
  const head = heads.find((h) => h.name === task);
  if (!head) {
    throw new Error(
      `generator: pseudo targets for ${task} on ${set.name}, but the model has no ${task} head`,
    );
  }
  if (arr.length !== set.n * head.classes) {
    throw new RangeError(
      `generator: pseudo ${task} targets for ${set.name} have ${arr.length} values, expected ` +
        `n*C = ${set.n}*${head.classes} (indexed by dataset row)`,
    );
  }
}

function epochRng(seed: number, epoch: number, label: string): Rng {
  return new Rng(seed).derive(`${label}:${epoch}`);
}

/** Rows of a source in this epoch's order. */
function orderedRows(src: DataSource, order: RowOrder, rng: Rng): Int32Array {
  const rows = src.rows.slice();
  return order === "shuffle" ? rng.shuffle(rows) : rows;
}

function* emit(
  sources: DataSource[],
  plan: Plan,
  opts: GeneratorOptions,
  rng: Rng,
  epochOpts: EpochOptions | undefined,
): IterableIterator<Batch> {
  const { height: h, width: w, channels: c } = sources[0].set;
  const px = h * w * c;
  const pseudo = sources.map((s, i) => epochOpts?.pseudo?.[i] ?? s.pseudo ?? {});
  sources.forEach((s, i) => {
    for (const [task, arr] of Object.entries(pseudo[i])) {
      checkPseudo(s.set, task as TaskName, arr, opts.heads);
    }
  });
  const augOpts = opts.augment ? (opts.augment === true ? {} : opts.augment) : null;
  const flips = opts.heads.map((hd) => flipPermutation(hd));
  const augRng = rng.derive("augment");
  for (const parts of plan.batches) {
    const size = parts.reduce((a, p) => a + p.length, 0);
    const x = new Float32Array(size * px);
    const rows: { dataset: string; row: number }[] = [];
    const source = new Int32Array(size);
    const targets: Partial<Record<TaskName, Float32Array>> = {};
    const masks: Partial<Record<TaskName, Float32Array>> = {};
    for (const hd of opts.heads) {
      targets[hd.name] = new Float32Array(size * hd.classes);
      masks[hd.name] = new Float32Array(size);
    }
    let b = 0;
    parts.forEach((part, si) => {
      const set = sources[si].set;
      for (const r of part) {
        const img = set.images.subarray(r * px, (r + 1) * px);
        let flipped = false;
        if (augOpts) {
          // A flip is allowed only when every head's target survives it (digits do not).
          const canFlip = augOpts.flip !== false &&
            opts.heads.every((hd, k) => flips[k] !== "forbidden" || !(rowHasTarget(set, hd, r, pseudo[si])));
          const params = augmentImage(img, x.subarray(b * px, (b + 1) * px), {
            height: h,
            width: w,
            channels: c,
            rng: augRng,
            options: { ...augOpts, flip: canFlip },
          });
          flipped = params.flip;
        } else {
          x.set(img, b * px);
        }
        opts.heads.forEach((hd, k) => {
          const t = targets[hd.name]!;
          const C = hd.classes;
          const perm = flipped ? flips[k] : null;
          const label = set.labels[hd.name]?.[r] ?? -1;
          if (label >= 0) {
            if (label >= C) {
              throw new RangeError(
                `generator: ${set.name} row ${r} has ${hd.name} label ${label}, head has ${C} classes`,
              );
            }
            t[b * C + (perm instanceof Int32Array ? perm[label] : label)] = 1;
            masks[hd.name]![b] = 1;
            return;
          }
          const p = pseudo[si][hd.name];
          if (!p) return;
          let any = false;
          for (let j = 0; j < C; j++) {
            const v = p[r * C + j];
            if (v !== 0) any = true;
            t[b * C + (perm instanceof Int32Array ? perm[j] : j)] = v;
          }
          if (any) masks[hd.name]![b] = 1;
        });
        rows.push({ dataset: set.name, row: r });
        source[b] = si;
        b++;
      }
    });
    yield { size, x, rows, source, targets, masks };
  }
}

function rowHasTarget(set: ImageSet, head: TaskSpec, r: number, pseudo: PseudoTargets): boolean {
  if ((set.labels[head.name]?.[r] ?? -1) >= 0) return true;
  const p = pseudo[head.name];
  if (!p) return false;
  for (let j = 0; j < head.classes; j++) if (p[r * head.classes + j] !== 0) return true;
  return false;
}

/** Cut rows into consecutive batches of `batchSize` (last one partial), batch order per `order`. */
function chunkPlan(rows: Int32Array, batchSize: number, order: RowOrder, rng: Rng): Plan {
  const batches: Int32Array[][] = [];
  for (let i = 0; i < rows.length; i += batchSize) batches.push([rows.subarray(i, i + batchSize)]);
  if (order === "fixed") rng.shuffle(batches);
  return { batches };
}

/** Batches over one dataset: ceil(n/B) per epoch, the last one partial. */
export function singleGenerator(source: DataSource, opts: GeneratorOptions): EpochGenerator {
  const sources = [source];
  checkOptions(sources, opts);
  const order = opts.order ?? "shuffle";
  return {
    sources,
    steps: () => Math.ceil(source.rows.length / opts.batchSize),
    *epoch(e, epochOpts) {
      const rng = epochRng(opts.seed, e, "single");
      const rows = orderedRows(source, order, rng.derive("rows"));
      yield* emit(
        sources,
        chunkPlan(rows, opts.batchSize, order, rng.derive("batches")),
        opts,
        rng,
        epochOpts,
      );
    },
  };
}

/**
 * The number of batches of a joint epoch: the smallest S with sum_d ceil(max(n_d, S)/S) <= B, i.e. every
 * batch holds at most B rows, every row appears once, and every dataset appears in every batch.
 */
export function jointSteps(sizes: number[], batchSize: number): number {
  if (sizes.length > batchSize) {
    throw new RangeError(
      `joint generator: batch size ${batchSize} cannot hold one row of each of ${sizes.length} datasets`,
    );
  }
  const total = sizes.reduce((a, b) => a + b, 0);
  let s = Math.max(1, Math.ceil(total / batchSize));
  for (;; s++) {
    let rows = 0;
    for (const n of sizes) rows += Math.ceil(Math.max(n, s) / s);
    if (rows <= batchSize) return s;
  }
}

/**
 * Joint batches: every batch mixes all sources, dataset d contributing about B*n_d/N rows (at least 1).
 * Stacking order within a batch follows the source order (as the original: emotion rows, then pose rows).
 */
export function jointGenerator(sources: DataSource[], opts: GeneratorOptions): EpochGenerator {
  checkOptions(sources, opts);
  const order = opts.order ?? "shuffle";
  const sizes = sources.map((s) => s.rows.length);
  const steps = jointSteps(sizes, opts.batchSize);
  return {
    sources,
    steps: () => steps,
    *epoch(e, epochOpts) {
      const rng = epochRng(opts.seed, e, "joint");
      const perSource = sources.map((s, i) => {
        const r = rng.derive(`rows:${i}`);
        let seq = orderedRows(s, order, r);
        // Cycle a dataset smaller than the number of batches so it still appears in each one.
        while (seq.length < steps) {
          const more = order === "none" || order === "fixed" ? s.rows.slice() : r.shuffle(s.rows.slice());
          const next = new Int32Array(seq.length + more.length);
          next.set(seq);
          next.set(more, seq.length);
          seq = next;
        }
        return seq.subarray(0, Math.max(s.rows.length, steps));
      });
      const batches: Int32Array[][] = [];
      for (let i = 0; i < steps; i++) {
        batches.push(perSource.map((seq) => {
          const len = seq.length;
          return seq.subarray(Math.floor((i * len) / steps), Math.floor(((i + 1) * len) / steps));
        }));
      }
      if (order === "fixed") rng.derive("batches").shuffle(batches);
      yield* emit(sources, { batches }, opts, rng, epochOpts);
    },
  };
}

/** Alternating batches: outer epoch e draws only from source e mod k (single-dataset batches, all heads). */
export function alternatingGenerator(sources: DataSource[], opts: GeneratorOptions): EpochGenerator {
  checkOptions(sources, opts);
  const order = opts.order ?? "shuffle";
  const k = sources.length;
  return {
    sources,
    steps: (e) => Math.ceil(sources[e % k].rows.length / opts.batchSize),
    *epoch(e, epochOpts) {
      const si = e % k;
      const rng = epochRng(opts.seed, e, "alternating");
      const rows = orderedRows(sources[si], order, rng.derive("rows"));
      const single = chunkPlan(rows, opts.batchSize, order, rng.derive("batches"));
      const empty = new Int32Array(0);
      const batches = single.batches.map(([part]) => sources.map((_, j) => (j === si ? part : empty)));
      yield* emit(sources, { batches }, opts, rng, epochOpts);
    },
  };
}
