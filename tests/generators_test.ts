import assert from "node:assert/strict";
import {
  alternatingGenerator,
  type Batch,
  type DataSource,
  jointGenerator,
  jointSteps,
  singleGenerator,
} from "../datasets/generators.ts";
import type { ImageSet, TaskName, TaskSpec } from "../core/types.ts";
import { Rng } from "../core/rng.ts";

const EMO: TaskSpec = { name: "emotion", classes: 7, labels: [] };
const POSE: TaskSpec = { name: "pose", classes: 5, labels: [] };
const DIGIT: TaskSpec = { name: "digit", classes: 10, labels: [] };

/**
 * A fake dataset of 1x2x1 images whose first pixel is the row id and second a dataset tag, so a batch's x
 * tells which rows it holds. Labels: class = row mod C; every 7th row unlabelled (-1).
 */
function fakeSet(name: string, n: number, task: TaskSpec, tag: number, w = 2): ImageSet {
  const images = new Float32Array(n * w);
  const lab = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    images[i * w] = i;
    images[i * w + 1] = tag;
    for (let k = 2; k < w; k++) images[i * w + k] = k;
    lab[i] = i % 7 === 3 ? -1 : i % task.classes;
  }
  const all = Int32Array.from({ length: n }, (_, i) => i);
  return {
    name,
    tasks: [task],
    n,
    height: 1,
    width: w,
    channels: 1,
    images,
    labels: { [task.name]: lab },
    split: { train: all, val: new Int32Array(0), test: new Int32Array(0) },
  };
}

function collect(it: Iterable<Batch>): Batch[] {
  return [...it];
}

/** Check x, targets and masks of every batch row against the dataset and the pseudo arrays. */
function checkBatch(
  b: Batch,
  sources: DataSource[],
  heads: TaskSpec[],
  pseudo?: Partial<Record<TaskName, Float32Array>>[],
) {
  assert.equal(b.rows.length, b.size);
  const px = sources[0].set.height * sources[0].set.width * sources[0].set.channels;
  assert.equal(b.x.length, b.size * px);
  for (let i = 0; i < b.size; i++) {
    const src = sources[b.source[i]];
    const r = b.rows[i].row;
    assert.equal(b.rows[i].dataset, src.set.name);
    assert.equal(b.x[i * px], r, "x row matches the row id");
    for (const h of heads) {
      const t = b.targets[h.name]!.subarray(i * h.classes, (i + 1) * h.classes);
      assert.equal(b.targets[h.name]!.length, b.size * h.classes, "targets sized by the batch's rows");
      assert.equal(b.masks[h.name]!.length, b.size);
      const label = src.set.labels[h.name]?.[r] ?? -1;
      const p = (pseudo?.[b.source[i]] ?? src.pseudo ?? {})[h.name];
      if (label >= 0) {
        assert.equal(b.masks[h.name]![i], 1);
        assert.deepEqual([...t], Array.from({ length: h.classes }, (_, k) => (k === label ? 1 : 0)));
      } else if (p) {
        const want = [...p.subarray(r * h.classes, (r + 1) * h.classes)];
        assert.deepEqual([...t], want, "pseudo target follows its row");
        assert.equal(b.masks[h.name]![i], want.some((v) => v !== 0) ? 1 : 0);
      } else {
        assert.equal(b.masks[h.name]![i], 0);
        assert.ok(t.every((v) => v === 0), "missing label gives an all-zero row");
      }
    }
  }
}

function rowCounts(batches: Batch[], source: number, n: number): Int32Array {
  const c = new Int32Array(n);
  for (const b of batches) for (let i = 0; i < b.size; i++) if (b.source[i] === source) c[b.rows[i].row]++;
  return c;
}

Deno.test("singleGenerator", async (t) => {
  const set = fakeSet("E", 103, EMO, 0);
  const heads = [EMO, POSE];
  const src: DataSource = { set, rows: set.split.train };
  const gen = singleGenerator(src, { heads, batchSize: 16, seed: 3 });

  await t.step("ceil(n/B) batches, every row once per epoch, partial last batch", () => {
    assert.equal(gen.steps(0), 7);
    const bs = collect(gen.epoch(0));
    assert.equal(bs.length, 7);
    assert.deepEqual(bs.map((b) => b.size), [16, 16, 16, 16, 16, 16, 7]);
    assert.ok(rowCounts(bs, 0, 103).every((c) => c === 1));
    for (const b of bs) checkBatch(b, [src], heads);
  });

  await t.step("rows are reshuffled every epoch, deterministically", () => {
    const ids = (e: number) => collect(gen.epoch(e)).flatMap((b) => b.rows.map((r) => r.row));
    assert.deepEqual(ids(0), ids(0));
    assert.notDeepEqual(ids(0), ids(1));
    const again = singleGenerator(src, { heads, batchSize: 16, seed: 3 });
    assert.deepEqual(collect(again.epoch(1)).flatMap((b) => b.rows.map((r) => r.row)), ids(1));
  });

  await t.step(
    "order 'none' keeps rows in order; 'fixed' keeps batch contents and shuffles batch order",
    () => {
      const inOrder = collect(
        singleGenerator(src, { heads, batchSize: 16, seed: 3, order: "none" }).epoch(0),
      );
      assert.deepEqual(inOrder.flatMap((b) => b.rows.map((r) => r.row)), [...set.split.train]);
      const fixed = singleGenerator(src, { heads, batchSize: 16, seed: 3, order: "fixed" });
      const key = (bs: Batch[]) => bs.map((b) => b.rows.map((r) => r.row).join(",")).sort();
      const e0 = collect(fixed.epoch(0)), e1 = collect(fixed.epoch(1));
      assert.deepEqual(key(e0), key(inOrder));
      assert.deepEqual(key(e1), key(inOrder));
      assert.notDeepEqual(e0.map((b) => b.rows[0].row), e1.map((b) => b.rows[0].row));
    },
  );

  await t.step("pseudo targets are looked up by row id, so they are permuted with the rows", () => {
    const pose = new Float32Array(set.n * 5);
    for (let r = 0; r < set.n; r++) if (r % 5 !== 0) pose[r * 5 + (r % 5)] = 0.5 + r / 1000; // rows 0,5,.. stay all-zero
    const bs = collect(gen.epoch(2, { pseudo: [{ pose }] }));
    for (const b of bs) checkBatch(b, [src], heads, [{ pose }]);
    const masked = bs.reduce((a, b) => a + b.masks.pose!.reduce((x, y) => x + y, 0), 0);
    assert.equal(masked, set.n - Math.ceil(set.n / 5));
  });

  await t.step("bad pseudo targets and bad sources throw clear errors", () => {
    assert.throws(
      () => collect(gen.epoch(0, { pseudo: [{ pose: new Float32Array(10) }] })),
      /indexed by dataset row/,
    );
    assert.throws(
      () => singleGenerator({ set, rows: Int32Array.from([0, 500]) }, { heads, batchSize: 4, seed: 0 }),
      /no row 500/,
    );
    assert.throws(() => singleGenerator(src, { heads, batchSize: 0, seed: 0 }), /batchSize/);
  });
});

Deno.test("jointGenerator", async (t) => {
  const heads = [EMO, POSE];
  const e = fakeSet("E", 300, EMO, 0), p = fakeSet("P", 97, POSE, 1);
  const sources: DataSource[] = [{ set: e, rows: e.split.train }, { set: p, rows: p.split.train }];

  await t.step("every row of every dataset once per epoch; every batch mixes both in proportion", () => {
    const gen = jointGenerator(sources, { heads, batchSize: 32, seed: 1 });
    const bs = collect(gen.epoch(0));
    assert.equal(bs.length, gen.steps(0));
    assert.ok(rowCounts(bs, 0, 300).every((c) => c === 1), "no emotion row dropped or repeated");
    assert.ok(rowCounts(bs, 1, 97).every((c) => c === 1), "no pose row dropped or repeated");
    const S = bs.length;
    for (const b of bs) {
      assert.ok(b.size <= 32);
      const nE = [...b.source].filter((s) => s === 0).length, nP = b.size - nE;
      assert.ok(nE >= Math.floor(300 / S) && nE <= Math.ceil(300 / S), `emotion rows ${nE}`);
      assert.ok(nP >= Math.floor(97 / S) && nP <= Math.ceil(97 / S), `pose rows ${nP}`);
      // Stacking order: emotion rows first, then pose rows.
      assert.deepEqual([...b.source], [...b.source].sort());
      checkBatch(b, sources, heads);
    }
  });

  await t.step(
    "a tiny dataset still appears in every batch (docs/original.md B22), cycled; the large one is seen once",
    () => {
      const tiny = fakeSet("T", 3, POSE, 1);
      const src2: DataSource[] = [sources[0], { set: tiny, rows: tiny.split.train }];
      const gen = jointGenerator(src2, { heads, batchSize: 16, seed: 2 });
      const bs = collect(gen.epoch(0));
      assert.ok(bs.every((b) => [...b.source].includes(1) && [...b.source].includes(0)));
      assert.ok(rowCounts(bs, 0, 300).every((c) => c === 1));
      assert.ok(rowCounts(bs, 1, 3).every((c) => c >= 1));
      assert.ok(bs.every((b) => b.size <= 16));
    },
  );

  await t.step("jointSteps: smallest step count that fits; impossible batch sizes throw", () => {
    assert.equal(jointSteps([300, 97], 32), 13);
    assert.equal(jointSteps([10, 10000], 32), 323);
    assert.throws(() => jointSteps([5, 5, 5], 2), /cannot hold one row of each/);
  });

  await t.step("pseudo targets for the other dataset's head follow their rows", () => {
    const pose = new Float32Array(e.n * 5), emotion = new Float32Array(p.n * 7);
    const rng = new Rng(4);
    for (let i = 0; i < pose.length; i++) pose[i] = rng.next();
    for (let i = 0; i < emotion.length; i++) emotion[i] = rng.next();
    const pseudo = [{ pose }, { emotion }];
    const gen = jointGenerator(sources, { heads, batchSize: 32, seed: 1 });
    for (const b of gen.epoch(3, { pseudo })) checkBatch(b, sources, heads, pseudo);
  });

  await t.step("datasets of different image sizes are refused", () => {
    const wide = fakeSet("W", 10, POSE, 1, 3);
    assert.throws(
      () =>
        jointGenerator([sources[0], { set: wide, rows: wide.split.train }], { heads, batchSize: 8, seed: 0 }),
      /same size/,
    );
  });
});

Deno.test("alternatingGenerator: one dataset per outer epoch, all heads", () => {
  const heads = [EMO, POSE];
  const e = fakeSet("E", 50, EMO, 0), p = fakeSet("P", 21, POSE, 1);
  const sources: DataSource[] = [{ set: e, rows: e.split.train }, { set: p, rows: p.split.train }];
  const pose = new Float32Array(e.n * 5).fill(0.2);
  const gen = alternatingGenerator(sources, { heads, batchSize: 8, seed: 0 });
  const e0 = collect(gen.epoch(0, { pseudo: [{ pose }, undefined] }));
  const e1 = collect(gen.epoch(1));
  assert.equal(e0.length, gen.steps(0));
  assert.equal(e0.length, 7);
  assert.equal(e1.length, 3);
  assert.ok(e0.every((b) => b.source.every((s) => s === 0)));
  assert.ok(e1.every((b) => b.source.every((s) => s === 1)));
  assert.ok(rowCounts(e0, 0, 50).every((c) => c === 1));
  assert.ok(rowCounts(e1, 1, 21).every((c) => c === 1));
  assert.equal(e0[e0.length - 1].size, 2);
  for (const b of e0) {
    checkBatch(b, sources, heads, [{ pose }, {}]);
    assert.ok(b.masks.pose!.every((m) => m === 1), "every emotion row gets its pose pseudo target");
  }
  for (const b of e1) checkBatch(b, sources, heads);
});

Deno.test("augmentation in the generator flips pose targets with the image, never digits", () => {
  const n = 200;
  const set = fakeSet("P", n, POSE, 1, 4);
  // Row image [row, 1, 2, 3]: a horizontal flip reverses it to [3, 2, 1, row].
  for (let i = 0; i < n; i++) set.images.set([i + 10, 1, 2, 3], i * 4);
  const heads = [POSE];
  const aug = { rotation: 0, shift: 0, zoom: [1, 1] as [number, number], flip: true };
  const gen = singleGenerator({ set, rows: set.split.train }, {
    heads,
    batchSize: 32,
    seed: 9,
    augment: aug,
  });
  const perm = [0, 2, 1, 4, 3];
  let flipped = 0;
  for (const b of gen.epoch(0)) {
    for (let i = 0; i < b.size; i++) {
      const x = [...b.x.subarray(i * 4, i * 4 + 4)];
      const r = b.rows[i].row;
      const isFlipped = x[0] === 3;
      assert.deepEqual(x, isFlipped ? [3, 2, 1, r + 10] : [r + 10, 1, 2, 3]);
      const label = set.labels.pose![r];
      if (label < 0) continue;
      const want = isFlipped ? perm[label] : label;
      assert.equal(b.targets.pose![i * 5 + want], 1, `row ${r} flipped=${isFlipped}`);
      if (isFlipped) flipped++;
    }
  }
  assert.ok(flipped > 40 && flipped < 140, `about half flipped (${flipped})`);

  const digits = fakeSet("D", 60, DIGIT, 0, 4);
  for (let i = 0; i < 60; i++) digits.images.set([i + 10, 1, 2, 3], i * 4);
  const dg = singleGenerator({ set: digits, rows: digits.split.train }, {
    heads: [DIGIT],
    batchSize: 32,
    seed: 9,
    augment: aug,
  });
  for (const b of dg.epoch(0)) {
    for (let i = 0; i < b.size; i++) {
      if (digits.labels.digit![b.rows[i].row] >= 0) {
        assert.notEqual(b.x[i * 4], 3, "labelled digit rows are never flipped");
      }
    }
  }
});
