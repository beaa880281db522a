/**
 * Real-dataset loaders on fixtures written in each dataset's own format, plus label spaces, image I/O,
 * the MAT-file reader, the numpy-compatible K-fold split and `loadPrepared`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import {
  adienceAgeGroup,
  classDisplayNames,
  labelSpace,
  POSE5_LABELS,
  POSE5_YAW_BINS,
  REAL_DATASETS,
  realDatasetName,
  yawDegreesToPoseClass,
  yawToPoseClass,
} from "../datasets/label_spaces.ts";
import { cropImage, decodeImage, encodeImage, ImageReadError, readImage } from "../datasets/image_io.ts";
import {
  getLoader,
  LOADERS,
  notFoundMessage,
  type PrepItem,
  type ScanResult,
} from "../datasets/loaders/mod.ts";
import { ferplusMajority } from "../datasets/loaders/ferplus.ts";
import { parseAdienceLine } from "../datasets/loaders/adience.ts";
import { parseExpwLine } from "../datasets/loaders/expw.ts";
import { matStrings, readMat } from "../datasets/loaders/_mat.ts";
import { makeSplit } from "../datasets/prepared.ts";
import {
  patternPixel,
  writeAdience,
  writeAflwCsv,
  writeAflwSqlite,
  writeExpw,
  writeFer2013Csv,
  writeFer2013Folders,
  writeFerplusLists,
  writeFerplusVotes,
  writeImdb,
  writeMat,
  writePatternImage,
  writeSfew,
} from "./fixtures/real_datasets.ts";

async function tmp(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "samtl_loaders_" });
}

function reasons(r: ScanResult): string {
  return r.skipped.map((s) => `${s.where}: ${s.reason}`).join("\n");
}

function labelsOf(items: PrepItem[], task: "emotion" | "pose" | "gender" | "age"): (number | undefined)[] {
  return items.map((i) => i.labels[task]);
}

Deno.test("label spaces and label conversions", async (t) => {
  await t.step("label spaces per dataset (docs/original.md §2.3)", () => {
    assert.equal(labelSpace("ferplus", "emotion").classes, 8);
    assert.equal(labelSpace("ferplus", "emotion").labels[7], "contempt");
    assert.deepEqual(labelSpace("FER2013", "emotion").labels, [
      "angry",
      "disgust",
      "fear",
      "happy",
      "sad",
      "surprise",
      "neutral",
    ]);
    assert.equal(labelSpace("aflw", "pose").classes, 5);
    assert.equal(labelSpace("adience", "age").labels[7], "60-100");
    assert.deepEqual(labelSpace("imdb", "gender").labels, ["woman", "man"]);
    assert.throws(() => labelSpace("imdb", "age"), /no 'age' labels/);
    assert.throws(() => labelSpace("aflw", "emotion"), /no 'emotion' labels/);
    assert.equal(labelSpace("synth-emotion", "emotion").classes, 7);
    assert.equal(realDatasetName("SFEW"), "sfew");
    assert.equal(realDatasetName("Fer+"), "ferplus");
    assert.equal(realDatasetName("mnist"), undefined);
    assert.deepEqual(Object.keys(LOADERS).sort(), [...REAL_DATASETS].sort());
  });
  await t.step("yaw -> pose class exactly as docs/original.md §2.4", () => {
    const deg = (d: number) => d * Math.PI / 180;
    const cases: [number, number][] = [
      [0, 0],
      [9.99, 0],
      [-9.99, 0],
      [10, 1],
      [59.99, 1],
      [60.0001, 4],
      [95, 4],
      [-10, 2],
      [-59.99, 2],
      [-60.0001, 3],
      [-120, 3],
    ];
    for (const [d, c] of cases) assert.equal(yawToPoseClass(deg(d)), c, `yaw ${d} degrees`);
    assert.equal(yawToPoseClass(NaN), 4);
    // The edges themselves, in degrees (60° through radians comes back as 59.999...: class 1, as in the original).
    assert.deepEqual([10, -10, 60, -60].map(yawDegreesToPoseClass), [1, 2, 4, 3]);
  });
  await t.step("pose class names as figures show them carry the yaw range each class bins", () => {
    assert.deepEqual(classDisplayNames("pose", POSE5_LABELS), [
      "frontal (|yaw| < 10°)",
      "right profile (10° to 60°)",
      "left profile (−60° to −10°)",
      "left (≤ −60°)",
      "right (≥ 60°)",
    ]);
    // The table the ranges are written from is the binning's: yaws just inside both ends and at the middle of
    // each bin (90° past an open end) land in that class.
    POSE5_YAW_BINS.forEach(([lo, hi], c) => {
      const [a, b] = [Number.isFinite(lo) ? lo : hi - 90, Number.isFinite(hi) ? hi : lo + 90];
      for (const y of [a + 0.01, (a + b) / 2, b - 0.01]) {
        assert.equal(yawDegreesToPoseClass(y), c, `bin ${c}: yaw ${y}`);
      }
    });
    // Other label spaces, and pose names that are not the AFLW bins, are shown as they are.
    assert.deepEqual(classDisplayNames("emotion", ["happy", "sad"]), ["happy", "sad"]);
    assert.deepEqual(classDisplayNames("pose", ["frontal", "left", "right"]), ["frontal", "left", "right"]);
  });
  await t.step("Adience age token guard (docs/original.md B25)", () => {
    assert.equal(adienceAgeGroup("(0, 2)"), 0);
    assert.equal(adienceAgeGroup("(25, 32)"), 4);
    assert.equal(adienceAgeGroup("(8, 23)"), 2);
    assert.equal(adienceAgeGroup("(60, 100)"), 7);
    assert.equal(adienceAgeGroup("(27, 32)"), undefined);
    assert.equal(adienceAgeGroup("None"), undefined);
    assert.equal(adienceAgeGroup("35"), undefined);
    // Whitespace-split rows: 13 tokens exactly when the age is a pair.
    const ws = "u1 p.jpg 1 (25, 32) f 1 2 3 4 -5 15 80";
    assert.deepEqual(parseAdienceLine(ws), {
      userId: "u1",
      image: "p.jpg",
      faceId: "1",
      age: 4,
      gender: 0,
      tilt: "-5",
      yaw: "15",
    });
    assert.match(String(parseAdienceLine("u1 p.jpg 1 None f 1 2 3 4 -5 15 80")), /13 whitespace tokens/);
    assert.match(String(parseAdienceLine("u1\tp.jpg\t1\t(4, 6)\tu\t1\t2\t3\t4\t5\t6\t7")), /unknown gender/);
  });
  await t.step("FER+ majority vote", () => {
    assert.equal(ferplusMajority([0, 10, 0, 0, 0, 0, 0, 0, 0, 0]), 1);
    assert.equal(ferplusMajority([1, 1, 6, 1, 0, 0, 0, 0, 1, 0]), 2);
    assert.match(String(ferplusMajority([3, 3, 2, 2, 0, 0, 0, 0, 0, 0])), /no majority/);
    assert.match(String(ferplusMajority([0, 0, 0, 0, 0, 0, 0, 0, 9, 1])), /unknown/);
    assert.match(String(ferplusMajority([0, 0, 0, 0, 0, 0, 0, 0, 0, 10])), /NF/);
    assert.match(String(ferplusMajority([1, 1, 1, 1, 1, 1, 1, 1, 1, 1])), /more than one vote/);
  });
  await t.step("ExpW line parsing", () => {
    const f = parseExpwLine("x.jpg 2 10 20 60 90 77.5 4");
    assert.ok(typeof f !== "string");
    assert.deepEqual([f.top, f.left, f.right, f.bottom, f.emotion, f.faceId], [10, 20, 60, 90, 4, "2"]);
    assert.match(String(parseExpwLine("x.jpg 2 10 20 60 90 77.5 7")), /unknown label/);
    assert.match(String(parseExpwLine("x.jpg 2 10 60 20 90 77.5 1")), /empty face box/);
  });
});

Deno.test("image I/O: decode, crop with clamping, encode", async (t) => {
  const dir = await tmp();
  await t.step("PNG, JPEG and GIF decode to RGBA of the right size", async () => {
    for (const format of ["png", "jpeg", "gif"] as const) {
      const p = join(dir, `x.${format}`);
      await writePatternImage(p, 13, 9, { format, seed: 2 });
      const img = await readImage(p);
      assert.equal(img.width, 13, format);
      assert.equal(img.height, 9, format);
      assert.equal(img.data.length, 13 * 9 * 4, format);
    }
    const png = await readImage(join(dir, "x.png"));
    const [r, g, b] = patternPixel(5, 4, 2);
    const i = (4 * 13 + 5) * 4;
    assert.deepEqual(Array.from(png.data.slice(i, i + 3)), [r, g, b]);
  });
  await t.step("bad files give a one-line error naming the file", async () => {
    await assert.rejects(
      () => readImage(join(dir, "nope.png")),
      (e: Error) => e instanceof ImageReadError && /nope\.png: file not found/.test(e.message),
    );
    await assert.rejects(
      () => decodeImage(new Uint8Array([1, 2, 3, 4]), "junk.bin"),
      /junk\.bin: not a JPEG\/PNG/,
    );
    await assert.rejects(
      () => decodeImage(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0, 1]), "cut.png"),
      /cut\.png: cannot decode png/,
    );
  });
  await t.step("crop clamps to the image and keeps pixels", async () => {
    const img = await readImage(join(dir, "x.png"));
    const c = cropImage(img, { x: 10, y: -3, width: 10, height: 6 });
    assert.equal(c.width, 3);
    assert.equal(c.height, 3);
    assert.deepEqual(Array.from(c.data.slice(0, 3)), patternPixel(10, 0, 2));
    assert.throws(() => cropImage(img, { x: 20, y: 0, width: 5, height: 5 }), /outside the 13x9 image/);
    const round = await decodeImage(await encodeImage(c), "c.png");
    assert.deepEqual(Array.from(round.data), Array.from(c.data));
  });
  await Deno.remove(dir, { recursive: true });
});

Deno.test("MAT-file reader (IMDB metadata)", async (t) => {
  const dir = await tmp();
  for (const compress of [true, false]) {
    await t.step(compress ? "compressed" : "uncompressed", async () => {
      const p = join(dir, `m${compress}.mat`);
      await writeMat(p, {
        meta: { struct: { full_path: { cell: ["a/b.jpg", "c.jpg"] }, gender: [1, NaN], name: "xy" } },
      }, compress);
      const vars = readMat(await Deno.readFile(p), p);
      const m = vars.get("meta");
      assert.ok(m && m.kind === "struct");
      assert.deepEqual(m.fields, ["full_path", "gender", "name"]);
      assert.deepEqual(matStrings(m.items[0].full_path, "full_path"), ["a/b.jpg", "c.jpg"]);
      const g = m.items[0].gender;
      assert.ok(g.kind === "numeric");
      assert.equal(g.data[0], 1);
      assert.ok(Number.isNaN(g.data[1]));
      assert.ok(m.items[0].name.kind === "char" && m.items[0].name.rows[0] === "xy");
    });
  }
  await t.step("not a MAT-file", () => {
    assert.throws(() => readMat(new Uint8Array(200), "z.mat"), /z\.mat: not a level-5 MAT-file/);
  });
  await Deno.remove(dir, { recursive: true });
});

Deno.test("prepared-data splits", async (t) => {
  await t.step("compat: fold 0 of KFold(5, shuffle, random_state=1), as numpy/scikit-learn give it", () => {
    // Reference values computed with numpy: RandomState(1).shuffle(arange(n)), first ceil(n/5), sorted.
    const c = makeSplit(23, { seed: 9, strata: new Int32Array(23), compatSplit: true });
    assert.deepEqual(Array.from(c.val), [3, 13, 17, 19, 20]);
    assert.deepEqual(c.val, c.test);
    assert.equal(c.train.length, 18);
    const big = makeSplit(1000, { seed: 0, strata: new Int32Array(1000), compatSplit: true });
    assert.deepEqual(Array.from(big.test.slice(0, 12)), [2, 3, 6, 8, 13, 17, 34, 35, 41, 49, 50, 56]);
    assert.throws(
      () => makeSplit(3, { seed: 0, strata: new Int32Array(3), compatSplit: true }),
      /at least 5 rows/,
    );
  });
  await t.step("no tags: seeded stratified train/val/test", () => {
    const n = 200;
    const strata = Int32Array.from({ length: n }, (_, i) => (i < 150 ? 0 : 1));
    const s = makeSplit(n, { seed: 3, strata, valFraction: 0.1, testFraction: 0.1 });
    assert.deepEqual([s.train.length, s.val.length, s.test.length], [160, 20, 20]);
    assert.equal(new Set([...s.train, ...s.val, ...s.test]).size, n);
    assert.equal(Array.from(s.test).filter((i) => i >= 150).length, 5, "test keeps the 3:1 class ratio");
    assert.deepEqual(
      makeSplit(n, { seed: 3, strata, valFraction: 0.1, testFraction: 0.1 }),
      s,
      "same seed, same split",
    );
  });
  await t.step("official tags kept; the missing part carved out of train", () => {
    const n = 200;
    const strata = Int32Array.from({ length: n }, (_, i) => i % 4);
    const tags = Array.from({ length: n }, (_, i) => (i < 30 ? "test" : "train"));
    const o = makeSplit(n, { seed: 3, strata, tags, valFraction: 0.1 });
    assert.deepEqual(Array.from(o.test), Array.from({ length: 30 }, (_, i) => i));
    assert.equal(o.val.length, 20);
    assert.ok(Array.from(o.val).every((i) => i >= 30), "val comes from train rows");
    assert.equal(o.train.length, 150);
    const tiny = makeSplit(4, {
      seed: 1,
      strata: new Int32Array(4),
      tags: ["train", "train", "train", "test"],
    });
    assert.deepEqual(
      [tiny.train.length, tiny.val.length, tiny.test.length],
      [2, 1, 1],
      "a non-zero fraction gives >= 1 row",
    );
  });
});

Deno.test("loaders read each dataset's own format", async (t) => {
  const root = await tmp();
  await t.step("registry: unknown names and the not-found message", () => {
    assert.throws(() => getLoader("affectnet"), /unknown dataset 'affectnet'/);
    const msg = notFoundMessage("sfew", "data/SFEW 2.0");
    assert.match(msg, /^dataset sfew not found under data\/SFEW 2\.0; request SFEW 2\.0/);
    assert.match(msg, /then run deno task prep --dataset=sfew --root=DIR$/);
    assert.ok(!msg.includes("\n"));
  });
  await t.step("fer2013: official CSV with Usage splits", async () => {
    const d = join(root, "fer_csv");
    await writeFer2013Csv(d);
    const r = (await getLoader("fer2013").scan(d))!;
    assert.match(r.layout, /official CSV/);
    assert.deepEqual(labelsOf(r.items, "emotion"), [3, 0, 6, 5, 4]);
    assert.deepEqual(r.items.map((i) => i.split), ["train", "train", "val", "test", "train"]);
    assert.equal(r.items[0].source.kind, "pixels");
    assert.equal(r.items[0].output, "Training/00000.png");
    assert.match(reasons(r), /fer2013\.csv:4: unknown label '7'/);
    assert.match(reasons(r), /fer2013\.csv:6: pixels has 3 values, expected 2304/);
  });
  await t.step("fer2013: unpacked folders", async () => {
    const d = join(root, "fer_dirs");
    await writeFer2013Folders(d);
    const r = (await getLoader("fer2013").scan(d))!;
    assert.deepEqual(r.items.map((i) => [i.labels.emotion, i.split]), [[3, "train"], [0, "val"], [
      6,
      "test",
    ]]);
    assert.match(reasons(r), /Training\/x\/d\.png: unknown class folder 'x'/);
  });
  await t.step("ferplus: vote CSV with pixels from fer2013.csv", async () => {
    const d = join(root, "ferplus_votes");
    await writeFerplusVotes(d);
    const r = (await getLoader("ferplus").scan(d))!;
    assert.deepEqual(labelsOf(r.items, "emotion"), [1, 2, 0]);
    assert.deepEqual(r.items.map((i) => i.output), [
      "Training/fer0000000.png",
      "Training/fer0000002.png",
      "Training/fer0000006.png",
    ]);
    assert.ok(r.items.every((i) => i.source.kind === "pixels"));
    const why = reasons(r);
    assert.match(why, /fer2013new\.csv:3: majority vote is 'unknown'/);
    assert.match(why, /fer2013new\.csv:5: no image name/);
    assert.match(why, /fer2013new\.csv:6: majority vote is 'NF'/);
    assert.match(why, /fer2013new\.csv:7: no majority vote/);
  });
  await t.step("ferplus: FER2013Train/ image folders win over pixels", async () => {
    const d = join(root, "ferplus_votes");
    await writePatternImage(join(d, "FER2013Train", "fer0000000.png"), 48, 48);
    const r = (await getLoader("ferplus").scan(d))!;
    assert.deepEqual(
      r.items.map((i) => i.source.kind),
      ["file", "pixels", "pixels"],
      "per-row fallback to pixels",
    );
  });
  await t.step("ferplus: label lists", async () => {
    const d = join(root, "ferplus_lists");
    await writeFerplusLists(d);
    const r = (await getLoader("ferplus").scan(d))!;
    assert.deepEqual(r.items.map((i) => [i.labels.emotion, i.split]), [[0, "train"], [0, "train"], [
      7,
      "train",
    ], [1, "val"]]);
    assert.match(reasons(r), /train-aug-c7\.txt:2: missing file ferplus_whole\/fer009\.jpg/);
    assert.match(reasons(r), /validation\.txt:2: unknown label '9'/);
  });
  await t.step("expw: one crop per face", async () => {
    const d = join(root, "expw");
    await writeExpw(d);
    const r = (await getLoader("expw").scan(d))!;
    assert.deepEqual(r.items.map((i) => i.output), ["a_0.jpg", "a_1.jpg", "b_0.png"]);
    assert.deepEqual(labelsOf(r.items, "emotion"), [3, 5, 6]);
    const s = r.items[0].source;
    assert.ok(s.kind === "crop");
    assert.deepEqual(s.box, { x: 5, y: 10, width: 30, height: 30 });
    const why = reasons(r);
    assert.match(why, /label\.lst:4: unknown label '9'/);
    assert.match(why, /label\.lst:5: missing file image\/origin\/c\.jpg/);
    assert.match(why, /label\.lst:6: expected 8 fields/);
  });
  await t.step("sfew: class folders, Val tagged test", async () => {
    const d = join(root, "sfew");
    await writeSfew(d);
    const r = (await getLoader("sfew").scan(d))!;
    assert.deepEqual(r.items.map((i) => [i.labels.emotion, i.split]), [
      [3, "train"],
      [3, "train"],
      [4, "train"],
      [4, "train"],
      [0, "test"],
    ]);
    assert.match(reasons(r), /Unknown\/u1\.png: unknown class folder 'Unknown'/);
  });
  await t.step("aflw: SQLite database, one crop per face, yaw bins", async () => {
    const d = join(root, "aflw");
    await writeAflwSqlite(d);
    const r = (await getLoader("aflw").scan(d))!;
    assert.match(r.layout, /SQLite aflw\.sqlite/);
    assert.deepEqual(r.items.map((i) => [i.output, i.labels.pose]), [["img1_1.png", 1], ["img1_2.png", 3], [
      "img2_3.png",
      0,
    ]]);
    assert.deepEqual(r.items[0].extra, { face_id: "1", yaw: 0.5, pitch: 0.2, roll: 0.1 });
    const why = reasons(r);
    assert.match(why, /face_id 4: no pose/);
    assert.match(why, /face_id 5: missing file 3\/gone\.jpg/);
  });
  await t.step("aflw: CSV export layout", async () => {
    const d = join(root, "aflw_csv");
    await writeAflwCsv(d);
    const r = (await getLoader("aflw").scan(d))!;
    assert.deepEqual(r.items.map((i) => [i.output, i.labels.pose]), [["p_10.png", 4], ["p_11.png", 2]]);
  });
  await t.step("aflw: a database without the tables is a one-line error", async () => {
    const d = join(root, "aflw_bad");
    await Deno.mkdir(d);
    const db = new DatabaseSync(join(d, "aflw.sqlite"));
    db.exec("CREATE TABLE Other (a INTEGER)");
    db.close();
    await assert.rejects(() => getLoader("aflw").scan(d), /aflw\.sqlite: no such table: FaceRect/);
  });
  await t.step("adience: folds, gender/age, token guard", async () => {
    const d = join(root, "adience");
    await writeAdience(d);
    const r = (await getLoader("adience").scan(d))!;
    assert.deepEqual(r.items.map((i) => [i.labels.gender, i.labels.age, i.split]), [[0, 4, "train"], [
      1,
      0,
      "train",
    ], [1, 7, "test"]]);
    assert.deepEqual(r.items[0].extra, { face_id: "1", fold: 0, tilt_ang: "-5", fuducial_yaw_angle: "15" });
    const why = reasons(r);
    assert.match(why, /fold_0_data\.txt:4: age 'None'/);
    assert.match(why, /fold_0_data\.txt:5: age '35'/);
    assert.match(why, /fold_0_data\.txt:6: unknown gender 'u'/);
    assert.match(why, /fold_0_data\.txt:7: age '\(27, 32\)'/);
    assert.match(why, /fold_4_data\.txt:3: missing file faces\/u2\/coarse_tilt_aligned_face\.8\.q2\.jpg/);
  });
  await t.step("imdb: MAT metadata, gender only, cleaning rules", async () => {
    const d = join(root, "imdb");
    await writeImdb(d);
    const r = (await getLoader("imdb").scan(d))!;
    assert.deepEqual(labelsOf(r.items, "gender"), [1, 0]);
    assert.ok(r.items.every((i) => i.labels.age === undefined));
    const why = reasons(r);
    assert.match(why, /entry 3: unknown gender 'NaN'/);
    assert.match(why, /entry 4: no face detected/);
    assert.match(why, /entry 5: a second face/);
    assert.match(why, /entry 6: missing file 04\/gone\.jpg/);
  });
  await t.step("imdb: converted CSV", async () => {
    const d = join(root, "imdb_csv");
    await writePatternImage(join(d, "imdb_crop", "01", "a.jpg"), 20, 20, { format: "jpeg" });
    await writePatternImage(join(d, "imdb_crop", "01", "b.jpg"), 20, 20, { format: "jpeg" });
    await Deno.mkdir(join(d, "db"), { recursive: true });
    await Deno.writeTextFile(
      join(d, "db", "imdb.csv"),
      "db_name,full_path,age,gender,face_score,second_face_score\nimdb,01/a.jpg,30,0.0,3.5,\nimdb,01/b.jpg,41,,2.0,\nimdb,01/a.jpg,30,1,3,1.2\n",
    );
    const r = (await getLoader("imdb").scan(d))!;
    assert.deepEqual(labelsOf(r.items, "gender"), [0]);
    assert.match(reasons(r), /imdb\.csv:3: unknown gender ''/);
    assert.match(reasons(r), /imdb\.csv:4: a second face/);
  });
  await t.step("nothing found -> undefined", async () => {
    const d = join(root, "empty");
    await Deno.mkdir(d);
    for (const l of Object.values(LOADERS)) assert.equal(await l.scan(d), undefined, l.name);
  });
  await Deno.remove(root, { recursive: true });
});
