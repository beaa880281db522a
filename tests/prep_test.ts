/**
 * `deno task prep` on real-format fixtures: the cleaned CSV's columns and rows, crops, skipped-row
 * reports, idempotence and resumption, dry runs, flags; then `loadPrepared` on the prepared output.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { parseCsv } from "../core/csv.ts";
import { outputOf, stdoutOf } from "./_stdout.ts";
import { readImage } from "../datasets/image_io.ts";
import { DatasetNotFoundError } from "../datasets/loaders/mod.ts";
import { preparedColumns, type PrepReport, runPrep } from "../datasets/prep.ts";
import { parsePrepArgs } from "../runner/prep_command.ts";
import { main } from "../runner/main.ts";
import { loadPrepared, loadPreparedDetailed, PreparedDataError } from "../datasets/prepared.ts";
import {
  patternPixel,
  writeAdience,
  writeAflwSqlite,
  writeExpw,
  writeFer2013Csv,
  writeFerplusVotes,
  writeImdb,
  writeSfew,
} from "./fixtures/real_datasets.ts";

async function prep(
  dataset: string,
  root: string,
  out: string,
  extra: Record<string, unknown> = {},
): Promise<PrepReport> {
  const lines: string[] = [];
  return await runPrep({ dataset, root, out, log: (s) => lines.push(s), ...extra });
}

async function csvOf(out: string, name: string) {
  return parseCsv(await Deno.readTextFile(join(out, "db", `${name}_cleaned.csv`)));
}

Deno.test("prep writes the cleaned CSVs", async (t) => {
  const base = await Deno.makeTempDir({ prefix: "samtl_prep_" });
  const out = join(base, "data");

  await t.step("fer2013 CSV -> PNG per row, official splits, bad rows listed", async () => {
    const root = join(base, "raw_fer");
    await writeFer2013Csv(root);
    const r = await prep("fer2013", root, out);
    assert.equal(r.rows, 4);
    assert.equal(r.written, 4);
    assert.deepEqual(r.splits, { train: 2, val: 1, test: 1 });
    assert.equal(r.counts.emotion!.happy, 1);
    const why = r.skipped.map((s) => `${s.where}: ${s.reason}`).join("\n");
    assert.match(why, /fer2013\.csv:4: unknown label '7'/);
    assert.match(why, /fer2013\.csv:6: pixels has 3 values/);
    assert.match(why, /fer2013\.csv:8: blank image/);
    const csv = await csvOf(out, "fer2013");
    assert.deepEqual(csv.columns, ["db_name", "full_path", "emotion", "split", "row"]);
    assert.deepEqual(csv.columns, preparedColumns("fer2013"));
    assert.deepEqual(csv.rows[0], {
      db_name: "fer2013",
      full_path: "prepared/fer2013/Training/00000.png",
      emotion: "3",
      split: "train",
      row: "0",
    });
    const img = await readImage(join(out, csv.rows[0].full_path));
    assert.equal(img.width, 48);
    assert.equal(img.data[4 * 5], (5 * 13 + 31) % 256, "pixel 5 of row 0");
    const text = await Deno.readTextFile(join(out, "db", "fer2013_cleaned.csv"));
    assert.ok(text.startsWith("db_name,full_path,emotion,split,row\n"), "no index column, header first");
    const skippedCsv = parseCsv(await Deno.readTextFile(join(out, "db", "fer2013_skipped.csv")));
    assert.equal(skippedCsv.rows.length, 3);
  });

  await t.step("re-running is idempotent; deleted crops are redone", async () => {
    const root = join(base, "raw_fer");
    const before = await Deno.readTextFile(join(out, "db", "fer2013_cleaned.csv"));
    const r2 = await prep("fer2013", root, out);
    assert.equal(r2.written, 0);
    assert.equal(r2.reused, 4);
    assert.equal(await Deno.readTextFile(join(out, "db", "fer2013_cleaned.csv")), before);
    await Deno.remove(join(out, "prepared", "fer2013", "PublicTest", "00003.png"));
    const r3 = await prep("fer2013", root, out);
    assert.equal(r3.written, 1);
    assert.equal(await Deno.readTextFile(join(out, "db", "fer2013_cleaned.csv")), before);
  });

  await t.step("ferplus votes with pixels from fer2013.csv", async () => {
    const root = join(base, "raw_ferplus");
    await writeFerplusVotes(root);
    const r = await prep("ferplus", root, out);
    // Row 6 (neutral) has blank FER pixels.
    assert.equal(r.rows, 2);
    assert.deepEqual(r.counts.emotion, {
      neutral: 0,
      happiness: 1,
      surprise: 1,
      sadness: 0,
      anger: 0,
      disgust: 0,
      fear: 0,
      contempt: 0,
    });
    assert.ok(r.skipped.some((s) => /fer2013new\.csv:8/.test(s.where) && /blank image/.test(s.reason)));
    const csv = await csvOf(out, "ferplus");
    assert.deepEqual(csv.columns, ["db_name", "full_path", "emotion", "split"]);
  });

  await t.step("expw crops, one file per face, with the spec's columns", async () => {
    const root = join(base, "raw_expw");
    await writeExpw(root);
    const r = await prep("expw", root, out);
    assert.equal(r.rows, 3);
    assert.equal(r.written, 3);
    const csv = await csvOf(out, "expw");
    assert.deepEqual(csv.columns, ["db_name", "full_path", "emotion", "split", "face_id", "confidence"]);
    assert.deepEqual(csv.rows.map((x) => [x.full_path, x.face_id, x.emotion]), [
      ["prepared/expw/a_0.jpg", "0", "3"],
      ["prepared/expw/a_1.jpg", "1", "5"],
      ["prepared/expw/b_0.png", "0", "6"],
    ]);
    const a1 = await readImage(join(out, "prepared/expw/a_1.jpg"));
    assert.deepEqual([a1.width, a1.height], [40, 38], "box 40..100 x 20..58 clamped to the 80x60 image");
    const b0 = await readImage(join(out, "prepared/expw/b_0.png"));
    assert.deepEqual([b0.width, b0.height], [20, 30]);
    assert.deepEqual(Array.from(b0.data.slice(0, 3)), patternPixel(0, 0, 2));
  });

  await t.step("aflw crops with exact pixels and pose columns", async () => {
    const root = join(base, "raw_aflw");
    await writeAflwSqlite(root);
    const r = await prep("aflw", root, out);
    assert.equal(r.rows, 3);
    const csv = await csvOf(out, "aflw");
    assert.deepEqual(csv.columns, [
      "db_name",
      "full_path",
      "pose",
      "split",
      "face_id",
      "yaw",
      "pitch",
      "roll",
    ]);
    assert.deepEqual(csv.rows.map((x) => x.pose), ["1", "3", "0"]);
    assert.equal(Number(csv.rows[1].yaw), -1.2);
    const c = await readImage(join(out, csv.rows[0].full_path));
    assert.deepEqual([c.width, c.height], [20, 24]);
    const i = (2 * 20 + 3) * 4;
    assert.deepEqual(Array.from(c.data.slice(i, i + 3)), patternPixel(4 + 3, 6 + 2, 1));
    const c2 = await readImage(join(out, csv.rows[1].full_path));
    assert.deepEqual([c2.width, c2.height], [14, 25], "clamped at the right and top edges");
  });

  await t.step("adience and imdb reference images in place", async () => {
    const ra = join(out, "Adience");
    await writeAdience(ra);
    const r = await prep("adience", ra, out);
    assert.equal(r.rows, 3);
    assert.equal(r.written, 0);
    const csv = await csvOf(out, "adience");
    assert.deepEqual(csv.columns, [
      "db_name",
      "full_path",
      "gender",
      "age",
      "split",
      "face_id",
      "fold",
      "tilt_ang",
      "fuducial_yaw_angle",
    ]);
    assert.equal(
      csv.rows[0].full_path,
      "Adience/faces/u1/coarse_tilt_aligned_face.1.p1.jpg",
      "relative to --out",
    );
    const ri = join(base, "raw_imdb");
    await writeImdb(ri);
    const r2 = await prep("imdb", ri, out);
    assert.equal(r2.rows, 2);
    const csv2 = await csvOf(out, "imdb");
    assert.deepEqual(csv2.columns, ["db_name", "full_path", "gender", "split", "face_score"]);
    assert.ok(csv2.rows[0].full_path.startsWith("/"), "outside --out: absolute path");
  });

  await t.step("sfew: unreadable image skipped; dry run writes nothing; --limit", async () => {
    const root = join(base, "raw_sfew");
    await writeSfew(root);
    const dry = join(base, "dry");
    const d = await prep("sfew", root, dry, { dryRun: true });
    assert.equal(d.rows, 4);
    assert.ok(d.skipped.some((s) => /broken\.png/.test(s.where) && /unreadable image/.test(s.reason)));
    await assert.rejects(() => Deno.stat(dry), Deno.errors.NotFound);
    const r = await prep("sfew", root, out);
    assert.equal(r.rows, 4);
    assert.deepEqual(r.splits, { train: 3, test: 1 });
    const again = await prep("sfew", root, out);
    assert.deepEqual(
      [again.rows, again.reused, again.written],
      [4, 5, 0],
      "checked images remembered, bad ones too",
    );
    assert.ok(again.skipped.some((s) => /broken\.png/.test(s.where) && /unreadable image/.test(s.reason)));
    const lim = await prep("sfew", root, join(base, "lim"), { limit: 2, seed: 5 });
    const checked = lim.skipped.filter((x) => !/unknown class folder/.test(x.reason));
    assert.equal(lim.rows + checked.length, 2, "2 of the 5 scanned rows selected");
  });

  await t.step("missing dataset: one-line error with instructions", async () => {
    await assert.rejects(
      () => prep("aflw", join(base, "nowhere"), out),
      (e: Error) =>
        e instanceof DatasetNotFoundError &&
        /^dataset aflw not found under .*nowhere; request AFLW/.test(e.message) &&
        /deno task prep --dataset=aflw --root=DIR$/.test(e.message),
    );
    const empty = join(base, "empty");
    await Deno.mkdir(empty);
    await assert.rejects(() => prep("expw", empty, out), /dataset expw not found under/);
  });

  await t.step("flags", async () => {
    const o = parsePrepArgs([
      "--dataset=SFEW",
      "--root=/x",
      "--dry_run=true",
      "--quiet",
      "--limit=5",
      "--seed=3",
    ]);
    assert.deepEqual([o?.dataset, o?.root, o?.dryRun, o?.quiet, o?.limit, o?.seed, o?.json], [
      "sfew",
      "/x",
      true,
      true,
      5,
      3,
      false,
    ]);
    // The parser every command uses: Python booleans, `--flag value`, and the datasets module's aliases.
    assert.equal(parsePrepArgs(["--dataset=expw", "--json=False"])?.json, false);
    assert.equal(parsePrepArgs(["--dataset", "fer+"])?.dataset, "ferplus");
    assert.equal(parsePrepArgs(["--dataset=SFEW 2.0"])?.dataset, "sfew");
    assert.equal(
      parsePrepArgs(["--dataset=sfew", "--dry-run"])?.dryRun,
      true,
      "prep has always taken --dry-run",
    );
    assert.equal(parsePrepArgs(["--dataset=sfew"])?.seed, 1, "the --limit subset's seed defaults to 1");
    assert.throws(() => parsePrepArgs([]), /--dataset: required/);
    assert.throws(
      () => parsePrepArgs(["--dataset=expw", "--limit=0"]),
      /--limit: got "0", expected an integer/,
    );
    assert.throws(() => parsePrepArgs(["--dataset=expw", "--bogus=1"]), /bogus/);
    assert.throws(() => parsePrepArgs(["--dataset=expw", "--backend=cpu"]), /unknown flag --backend/);
    assert.throws(() => parsePrepArgs(["--dataset=celeba"]), /--dataset: got "celeba", expected one of/);
    // --help lists the flags and every loader's layouts; with --json it is the same help as data.
    const help = await stdoutOf(() => Promise.resolve(parsePrepArgs(["--help"])));
    assert.equal(help.code, null);
    assert.match(help.out, /--limit/);
    assert.match(help.out, /sfew \(SFEW 2\.0 .*; default root <out>\/SFEW 2\.0\):/);
    const json = JSON.parse((await stdoutOf(() => Promise.resolve(parsePrepArgs(["--help", "--json"])))).out);
    const flags = json.help.groups.flatMap((g: { flags: { name: string }[] }) => g.flags.map((f) => f.name));
    assert.deepEqual(flags.filter((f: string) => ["dataset", "root", "limit", "out"].includes(f)).sort(), [
      "dataset",
      "limit",
      "out",
      "root",
    ]);
  });

  await t.step("loadPrepared: official splits, labels, preprocessing, cache", async () => {
    const cacheDir = join(base, "cache");
    const opts = { dataDir: out, imageSize: 8, channels: 1 as const, seed: 1, cacheDir };
    const a = await loadPreparedDetailed("sfew", opts);
    assert.equal(a.cacheHit, false);
    const s = a.set;
    assert.equal(s.n, 4);
    assert.deepEqual([s.height, s.width, s.channels, s.images.length], [8, 8, 1, 4 * 64]);
    assert.deepEqual(Array.from(s.labels.emotion!), [3, 3, 4, 0]);
    assert.deepEqual(Array.from(s.split.test), [3], "SFEW Val is the test set");
    assert.equal(s.split.val.length, 1);
    assert.equal(s.split.train.length, 2);
    assert.ok(s.images.every((v) => v >= -1 && v < 1));
    assert.equal(s.tasks[0].classes, 7);
    const b = await loadPreparedDetailed("SFEW", opts);
    assert.equal(b.cacheHit, true);
    assert.deepEqual(b.set.images, s.images);
    assert.deepEqual(b.set.split, s.split);
    await assert.rejects(
      () => loadPrepared("sfew", { ...opts, compatSplit: true }),
      /need at least 5 rows, the dataset has 4/,
    );
    // A CSV as the original converters wrote it: pandas index column, paths starting with data/.
    const seedData = join(base, "seed", "data");
    const img = join(seedData, "SFEW 2.0", "Train", "Happy", "h1.png");
    await Deno.mkdir(join(seedData, "SFEW 2.0", "Train", "Happy"), { recursive: true });
    await Deno.copyFile(join(base, "raw_sfew", "Train", "Train_Aligned_Faces", "Happy", "h1.png"), img);
    await Deno.mkdir(join(seedData, "db"));
    await Deno.writeTextFile(
      join(seedData, "db", "SFEW_cleaned.csv"),
      ",full_path,emotion\n0,data/SFEW 2.0/Train/Happy/h1.png,3\n",
    );
    const seedSet = await loadPrepared("SFEW", { ...opts, dataDir: seedData });
    assert.deepEqual([seedSet.n, seedSet.labels.emotion![0]], [1, 3]);
    assert.deepEqual(seedSet.images, s.images.slice(0, 64), "same pixels as the prepared copy");
    const ad = await loadPrepared("adience", { ...opts, channels: 3 });
    assert.deepEqual(Array.from(ad.labels.gender!), [0, 1, 1]);
    assert.deepEqual(Array.from(ad.labels.age!), [4, 0, 7]);
    assert.equal(ad.images.length, 3 * 8 * 8 * 3);
  });

  await t.step("loadPrepared: bad rows are one-line errors, or skipped and listed", async () => {
    const csvPath = join(out, "db", "expw_cleaned.csv");
    const good = await Deno.readTextFile(csvPath);
    await Deno.writeTextFile(
      csvPath,
      good +
        "expw,prepared/expw/a_0.jpg,7,,9,1\nexpw,prepared/expw/zz.jpg,1,,9,1\nexpw,prepared/expw/b_0.png,2,holdout,9,1\n",
    );
    const opts = { dataDir: out, imageSize: 4, channels: 1 as const, seed: 1, noCache: true };
    await assert.rejects(
      () => loadPrepared("expw", opts),
      (e: Error) =>
        e instanceof PreparedDataError &&
        /expw_cleaned\.csv row 5 \(prepared\/expw\/a_0\.jpg\): emotion '7' is not a class id 0-6/.test(
          e.message,
        ),
    );
    const logged: string[] = [];
    const r = await loadPreparedDetailed("expw", {
      ...opts,
      skipBadSamples: true,
      log: (l) => logged.push(l),
    });
    assert.equal(r.set.n, 3);
    assert.deepEqual(r.skipped.map((x) => x.reason.split(" (")[0]), [
      "emotion '7' is not a class id 0-6",
      "missing file",
      "split 'holdout' is not train, val or test",
    ]);
    assert.match(logged.join("\n"), /expw: skipped 3 bad row\(s\)/);
    await Deno.writeTextFile(csvPath, good);
    await Deno.writeFile(join(out, "prepared", "expw", "a_1.jpg"), new Uint8Array([0xff, 0xd8, 0xff, 1, 2]));
    await assert.rejects(() => loadPrepared("expw", opts), /row 3 \(.*a_1\.jpg\): unreadable image/);
    await assert.rejects(
      () => loadPrepared("fer2013", { ...opts, dataDir: join(base, "nothing") }),
      /no prepared CSV .*fer2013_cleaned\.csv: dataset fer2013 not found under/,
    );
  });

  await Deno.remove(base, { recursive: true });
});

Deno.test("deno task prep's entry point: user errors are one line, exit 2, JSON with --json, nothing written", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "prep_main_" });
  const out = join(tmp, "out");
  const o = `--out=${out}`;
  const cases: { args: string[]; names: RegExp; json?: boolean }[] = [
    { args: ["--limit=0", "--dataset=ferplus", o], names: /--limit: got "0", expected an integer in \[1, / },
    { args: ["--bogus=1", "--dataset=ferplus", o], names: /bogus/ },
    { args: ["--seed=-1", "--dataset=ferplus", o], names: /--seed/ },
    { args: [o], names: /--dataset: required/ },
    { args: ["--dataset=nope", o], names: /--dataset: got "nope", expected one of fer2013/ },
    { args: ["--dataset=ferplus", "stray", o], names: /unexpected argument "stray"/ },
    // A dataset that is not where --root says: the user's to fix, not a failed job.
    { args: ["--dataset=ferplus", "--root=/nonexistent/ferplus", o], names: /nonexistent/ },
    { args: ["--dataset=ferplus", "--limit=x", "--json", o], names: /--limit/, json: true },
    // A bad --out is found before the scan, with or without --dry_run (the root exists: the fixture folder).
    { args: ["--dataset=ferplus", `--root=${tmp}`, "--out=README.md"], names: /--out=README.md: is a file/ },
    {
      args: ["--dataset=ferplus", `--root=${tmp}`, "--out=README.md", "--dry_run", "--json"],
      names: /--out=README.md/,
      json: true,
    },
  ];
  try {
    for (const c of cases) {
      const { code, stdout, stderr } = await outputOf(() => main(["prep", ...c.args]));
      const label = c.args.join(" ") || "(no flags)";
      assert.equal(code, 2, `${label}: exit ${code} (${stderr.join(" | ")})`);
      const errors = stderr.filter((l) => l.startsWith("error:"));
      assert.equal(errors.length, 1, `${label}: ${stderr.join(" | ")}`);
      assert.match(errors[0], c.names, label);
      if (c.json) assert.match(JSON.parse(stdout.join("\n")).error, c.names, `${label}: the JSON error`);
      else assert.deepEqual(stdout, [], `${label}: stdout stays empty`);
    }
    await assert.rejects(() => Deno.stat(out), Deno.errors.NotFound, "nothing written");
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("deno task prep: a failure while writing is the job's (one error: line, exit 1), not a stack trace", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "prep_fail_" });
  try {
    const root = join(tmp, "raw_fer");
    await writeFer2013Csv(root);
    const out = join(tmp, "out");
    await Deno.mkdir(out);
    // A file where prep writes its crops' folder: the crops cannot be written.
    await Deno.writeTextFile(join(out, "prepared"), "not a folder");
    const { code, stdout, stderr } = await outputOf(() =>
      main(["prep", "--dataset=fer2013", `--root=${root}`, `--out=${out}`, "--quiet"])
    );
    assert.equal(code, 1, stderr.join(" | "));
    assert.equal(stderr.filter((l) => l.startsWith("error:")).length, 1, stderr.join(" | "));
    assert.ok(!stderr.some((l) => /^\s+at /m.test(l)), "no stack trace");
    assert.deepEqual(stdout, []);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
