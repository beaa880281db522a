import { mergeStl } from "../runner/compare.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import { parseCsv } from "../core/csv.ts";
import { differencesSpec, pseudoSpec, renderSvg } from "../runner/report/figures.ts";
import {
  ALPHA,
  analyze,
  buildVerdict,
  type CompareResults,
  curvesFromLog,
  curvesSpec,
  deltaM,
  DIFF_TABLE_HEADING,
  fmtP,
  fmtPctBeside,
  machineInfo,
  MCA_TABLE_HEADING,
  median,
  pairedDiff,
  parseReportTable,
  pseudoFromCurves,
  pseudoTable,
  readResults,
  ResultsError,
  type ResultsFile,
  type RunResult,
  sampleStd,
  studentTwoSidedP,
  summarize,
  validateCompareResults,
  validateResultsFile,
  writeReport,
} from "../runner/report/mod.ts";
import { teacherSection } from "../runner/report/job.ts";

const CLASSES = { emotion: ["neutral", "happy", "sad"], pose: ["frontal", "left", "right"] };
const DATASET = { emotion: "ferplus", pose: "aflw" } as const;
type Task = keyof typeof CLASSES;

/** A 3-class matrix over 1000 rows whose trace is acc * 1000 (acc given to 3 decimals). */
function confusionFor(acc: number): number[][] {
  const hits = Math.round(acc * 1000);
  const miss = 1000 - hits;
  const d = [Math.floor(hits / 3), Math.floor(hits / 3), hits - 2 * Math.floor(hits / 3)];
  const o = [Math.floor(miss / 3), Math.floor(miss / 3), miss - 2 * Math.floor(miss / 3)];
  return [[d[0], o[0], 0], [0, d[1], o[1]], [o[2], 0, d[2]]];
}

function mca(m: number[][]): number {
  return m.reduce((a, row, i) => a + row[i] / row.reduce((x, y) => x + y, 0), 0) / m.length;
}

function run(method: string, seed: number, accs: Partial<Record<Task, number>>, pseudo = false): RunResult {
  const tasks = Object.keys(accs) as Task[];
  const curves = tasks.flatMap((t) =>
    [0, 1, 2].flatMap((e) => {
      const pts: RunResult["curves"] = [{
        epoch: e,
        split: "val",
        metric: `${t}/${DATASET[t]}/val/acc`,
        value: accs[t]! - 0.1 + 0.05 * e,
        imagesSeen: 1000 * (e + 1),
      }];
      if (pseudo) {
        const other = t === "emotion" ? "pose" : "emotion";
        pts.push({
          epoch: e,
          split: "train",
          metric: `${other}/${DATASET[t]}/train/pseudo_acc`,
          value: 0.5 + 0.1 * e,
        });
        pts.push({
          epoch: e,
          split: "train",
          metric: `${other}/${DATASET[t]}/train/pseudo_acc_kept`,
          value: 0.7 + 0.1 * e,
        });
      }
      return pts;
    })
  );
  return {
    method,
    seed,
    datasets: tasks.map((t) => DATASET[t]),
    tasks,
    results: tasks.map((t) => {
      const m = confusionFor(accs[t]!);
      return {
        task: t,
        dataset: DATASET[t],
        testAcc: accs[t]!,
        testMeanClassAcc: mca(m),
        classNames: CLASSES[t],
        confusion: m,
        nVal: 800,
        // The first round(acc * 1000) test rows right: two runs differ exactly on the rows between their counts.
        testCorrect: "1".repeat(Math.round(accs[t]! * 1000)) + "0".repeat(1000 - Math.round(accs[t]! * 1000)),
        testRows: "1000:0000abcd",
      };
    }),
    curves,
    selectedEpoch: 2,
    trainSeconds: 10 + seed,
    // Both datasets' images of a run, as summary.json counts them: the two STL runs of a seed add up to one joint run.
    imagesSeen: 1500 * tasks.length,
    runDir: `runs/test/${method}/seed-${seed}`,
    command: `deno task ${method} --seed=${seed}`,
    backend: { name: "cpu", threads: 1 },
    versions: { deno: "2.9.6" },
  };
}

/** Hand-chosen numbers: STL runs once per task (two runs per seed), as the runner does. */
function fixture(seeds = [0, 1, 2]): CompareResults {
  const stl = { emotion: [0.80, 0.82, 0.78], pose: [0.50, 0.52, 0.48] };
  const aio = { emotion: [0.81, 0.80, 0.79], pose: [0.53, 0.55, 0.51] };
  const sa = { emotion: [0.83, 0.86, 0.80], pose: [0.52, 0.55, 0.50] };
  const runs: RunResult[] = [];
  for (const s of seeds) {
    runs.push(run("stl", s, { emotion: stl.emotion[s] }), run("stl", s, { pose: stl.pose[s] }));
  }
  for (const s of seeds) runs.push(run("all-in-one", s, { emotion: aio.emotion[s], pose: aio.pose[s] }));
  for (const s of seeds) runs.push(run("sa-mtl", s, { emotion: sa.emotion[s], pose: sa.pose[s] }, true));
  return {
    profile: "test",
    command: "deno task compare --profile=test",
    datasets: ["ferplus", "aflw"],
    model: "mini_xception",
    budget: { epochs: 3 },
    seeds,
    runs,
    machine: { os: "linux", arch: "x86_64", cpus: 2 },
    wallSeconds: 42,
    baseline: "stl",
    proposed: "sa-mtl",
  };
}

const close = (a: number, b: number, tol = 1e-9) =>
  assert.ok(Math.abs(a - b) <= tol, `${a} != ${b} (tol ${tol})`);

Deno.test("stats: paired differences, delta-m and the t-test on hand-computed numbers", async (t) => {
  await t.step("paired per-seed differences", () => {
    const d = pairedDiff(
      new Map([[0, 0.83], [1, 0.86], [2, 0.80], [7, 0.9]]),
      new Map([[0, 0.80], [1, 0.82], [2, 0.78]]),
    );
    assert.deepEqual(d.seeds, [0, 1, 2]);
    close(d.mean!, 0.03);
    close(d.std!, 0.01);
    assert.equal(d.wins, 3);
    assert.equal(d.losses, 0);
    // t = 0.03 / (0.01 / sqrt 3) = 5.196, df 2 -> p = 0.0351
    close(d.p!, 0.0351, 5e-4);
  });
  await t.step("delta-m (LibMTL, higher is better)", () => {
    // ((0.84 - 0.80)/0.80 + (0.45 - 0.50)/0.50) / 2 * 100 = (5 - 10) / 2 = -2.5
    close(deltaM([0.84, 0.45], [0.80, 0.50])!, -2.5);
    assert.equal(deltaM([0.84, null], [0.80, 0.50]), null);
    assert.equal(deltaM([0.84], [0]), null);
    assert.throws(() => deltaM([0.1], [0.1, 0.2]), /1 method values but 2/);
  });
  await t.step("median: the middle value, or the mean of the two middle values", () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.equal(median([]), null);
  });
  await t.step("Student t two-sided p-values", () => {
    close(studentTwoSidedP(12.7062, 1), 0.05, 1e-4);
    close(studentTwoSidedP(2.7764, 4), 0.05, 1e-4);
    close(studentTwoSidedP(-2.2281, 10), 0.05, 1e-4);
    close(studentTwoSidedP(0, 3), 1, 1e-12);
    assert.equal(sampleStd([1]), null);
    close(sampleStd([2, 4, 4, 4, 5, 5, 7, 9])!, 2.138089935, 1e-8);
  });
});

Deno.test("writeReport: tables, CSV and JSON agree; verdict follows the numbers", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "report_test_" });
  try {
    const input = fixture();
    await writeReport(input, dir);
    const md = await Deno.readTextFile(join(dir, "report.md"));
    const file = JSON.parse(await Deno.readTextFile(join(dir, "results.json"))) as ResultsFile;
    const s = file.summary;

    await t.step("summary numbers match hand computation", () => {
      assert.deepEqual(s.methods, ["stl", "all-in-one", "sa-mtl"]);
      assert.deepEqual(s.columns.map((c) => c.key), ["emotion/ferplus", "pose/aflw"]);
      const cell = (m: string, task: string) =>
        s.cells.find((c) => c.method === m && c.task === task && c.metric === "acc")!;
      close(cell("stl", "emotion").mean!, 0.80);
      close(cell("stl", "emotion").std!, 0.02);
      close(cell("sa-mtl", "emotion").diff!.mean!, 0.03);
      close(cell("sa-mtl", "emotion").diff!.std!, 0.01);
      close(cell("all-in-one", "emotion").diff!.mean!, 0, 1e-12);
      close(cell("all-in-one", "emotion").diff!.std!, Math.sqrt(0.0003));
      // A constant difference has zero spread: |t| is infinite, p = 0.
      close(cell("all-in-one", "pose").diff!.std!, 0, 1e-12);
      assert.equal(cell("all-in-one", "pose").diff!.p, 0);
      const dm = (m: string) => s.methodStats.find((x) => x.method === m)!.deltaMPct!;
      close(dm("stl"), 0);
      close(dm("all-in-one"), 3.0);
      close(dm("sa-mtl"), ((0.83 - 0.8) / 0.8 + (0.52333333333333333 - 0.5) / 0.5) / 2 * 100);
      const ts = s.methodStats.find((x) => x.method === "stl")!.trainSeconds;
      // Two STL runs per seed: 2 * (10 + seed) seconds.
      close(ts.mean!, 22);
    });

    await t.step("every cell of the main table matches results.json", () => {
      const table = parseReportTable(md);
      assert.deepEqual(table.columns.slice(0, 3), ["Method", "emotion/ferplus", "pose/aflw"]);
      assert.deepEqual(table.rows.map((r) => r.label), s.methods);
      for (const row of table.rows) {
        s.columns.forEach((col, j) => {
          const c = s.cells.find((x) =>
            x.method === row.label && x.metric === "acc" && x.task === col.task && x.dataset === col.dataset
          )!;
          const parsed = row.cells[j];
          close(parsed.mean!, c.mean! * 100, 0.005 + 1e-9);
          close(parsed.std!, c.std! * 100, 0.005 + 1e-9);
          assert.equal(parsed.bold, c.best, `${row.label} ${col.key} bold`);
        });
        const ms = s.methodStats.find((m) => m.method === row.label)!;
        close(row.cells[2].mean!, ms.deltaMPct!, 0.005 + 1e-9);
      }
      // Best per column: sa-mtl on emotion (83.00), all-in-one on pose (53.00).
      assert.equal(table.rows[2].cells[0].bold, true);
      assert.equal(table.rows[1].cells[1].bold, true);
      assert.equal(table.rows[2].cells[1].bold, false);
    });

    await t.step("mean-class and paired-difference tables match results.json", () => {
      const mcaTable = parseReportTable(md, { heading: MCA_TABLE_HEADING });
      for (const row of mcaTable.rows) {
        s.columns.forEach((col, j) => {
          const c = s.cells.find((x) =>
            x.method === row.label && x.metric === "mean_class_acc" && x.task === col.task
          )!;
          close(row.cells[j].mean!, c.mean! * 100, 0.005 + 1e-9);
        });
      }
      const diff = parseReportTable(md, { heading: DIFF_TABLE_HEADING });
      assert.deepEqual(diff.rows.map((r) => r.label), ["all-in-one", "all-in-one", "sa-mtl", "sa-mtl"]);
      assert.deepEqual(diff.rows.map((r) => r.cells[0].text), [
        "emotion/ferplus",
        "pose/aflw",
        "emotion/ferplus",
        "pose/aflw",
      ]);
      // sa-mtl emotion: diffs 3, 4, 2 pp -> 3.00 ± 4.302653 · 1/√3 = [+0.52, +5.48]
      assert.equal(diff.rows[2].cells[1].mean, 3.0);
      assert.equal(diff.rows[2].cells[2].text, "[+0.52, +5.48]");
      // p = 0.035 over 3 seeds, but Holm over the 4 contrasts lifts it above 0.05: the call says so.
      assert.equal(diff.rows[2].cells[7].text, "**better** (not after Holm)");
      assert.match(
        md,
        /the better\/worse calls above are made per contrast on unadjusted intervals: 1 of 3 hold after Holm\./,
      );
      assert.equal(diff.rows[0].cells[7].text, "cannot tell");
    });

    await t.step("results.csv holds the same numbers as results.json", async () => {
      const csv = parseCsv(await Deno.readTextFile(join(dir, "results.csv")));
      for (const c of s.cells) {
        const row = csv.rows.find((r) =>
          r.method === c.method && r.task === c.task && r.dataset === c.dataset && r.metric === c.metric
        );
        assert.ok(row, `csv row for ${c.method} ${c.task} ${c.metric}`);
        assert.equal(Number(row.mean), c.mean);
        assert.equal(Number(row.std), c.std);
        assert.equal(row.diff_mean === "" ? null : Number(row.diff_mean), c.diff?.mean ?? null);
        assert.equal(row.best, c.best ? "1" : "0");
      }
      for (const m of s.methodStats) {
        const row = csv.rows.find((r) => r.method === m.method && r.metric === "delta_m_pct")!;
        assert.equal(Number(row.mean), m.deltaMPct);
      }
      for (const k of file.contrasts) {
        const row = csv.rows.find((r) =>
          r.method === k.method && r.task === k.task && r.dataset === k.dataset && r.metric === "acc"
        )!;
        const n = (x: string) => (x === "" ? null : Number(x));
        assert.deepEqual(
          [n(row.ci95_low), n(row.ci95_high), n(row.boot_ci95_low), n(row.boot_ci95_high), n(row.p_holm)],
          [k.ci95Low, k.ci95High, k.bootCi95Low, k.bootCi95High, k.pHolm],
        );
        assert.equal(n(row.min_detectable), k.minDetectable);
        assert.equal(row.call, k.call);
      }
      const gain = csv.rows.find((r) => r.method === "sa-mtl" && r.metric === "last_quarter_gain")!;
      assert.equal(gain.n_seeds, "3");
      close(Number(gain.mean), 0.05, 1e-9);
      const runs = parseCsv(await Deno.readTextFile(join(dir, "runs.csv")));
      assert.equal(runs.rows.length, 18); // 3 methods x 3 seeds x 2 tasks
      assert.ok(
        runs.rows.every((r) => r.still_improving === "1" && r.n_val === "800" && r.n_test === "1000"),
      );
      assert.ok(
        runs.rows.every((r) => r.run_dir.startsWith("runs/test/") && r.command.startsWith("deno task")),
      );
    });

    await t.step("verdict: better, worse or cannot tell against STL, and the paper's claim", () => {
      const v = file.verdict;
      assert.equal(v.spreadAvailable, true);
      assert.deepEqual(v.better, [
        { method: "all-in-one", column: "pose/aflw" },
        { method: "sa-mtl", column: "emotion/ferplus" },
        { method: "sa-mtl", column: "pose/aflw" },
      ]);
      assert.deepEqual(v.worse, []);
      // all-in-one's emotion mean equals STL's: its interval spans zero.
      assert.deepEqual(v.cannotTell, [{ method: "all-in-one", column: "emotion/ferplus" }]);
      // Holm over 4 contrasts: 0 (constant +3 pp), then 3 · p(sa-mtl pose) = 0.059, 2 · p(sa-mtl emotion) = 0.070, 1.
      assert.deepEqual(v.holmSignificant, [{ method: "all-in-one", column: "pose/aflw" }]);
      // 12 runs: the fixture keeps STL's two runs per seed apart.
      assert.deepEqual(v.stillImproving, { runs: 12, checked: 12, total: 12 });
      assert.equal(v.claim.proposed, "sa-mtl");
      assert.equal(v.claim.holdsInMeans, false);
      assert.equal(v.claim.status, "cannot tell");
      const pose = v.claim.columns.find((c) => c.column === "pose/aflw")!;
      assert.deepEqual(pose.notBeatenInMeans, ["all-in-one"]);
      // sa-mtl − all-in-one on pose: -1, 0, -1 pp: the interval spans zero.
      assert.deepEqual(pose.cannotTell, ["all-in-one"]);
      assert.deepEqual(pose.better, ["stl"]);
      assert.match(md, /- \*\*The paper's claim\*\* .*\*\*cannot tell\*\*/);
      assert.match(md, /better than stl: .*sa-mtl \+3\.00 pp \(t \[\+0\.52, \+5\.48\], bootstrap \[/);
      assert.match(md, /12 of 12 runs still improving/);
      // The convergence table: mean last-quarter gain over seeds, bold when some seed still improves.
      assert.match(
        md,
        /\| stl \| \*\*\+5\.00 \(3\/3 improving\)\*\* \| \*\*\+5\.00 \(3\/3 improving\)\*\* \| 6\/6 \|/,
      );
      assert.match(md, /the goal \(every paired-t half-width at most 2\.00 pp\) is \*\*not met\*\*/);
      assert.ok(!md.includes("exceeds the seed spread"), "the spread rule is gone");
      assert.match(md, /## How to read this report/);
    });

    await t.step("results.json carries the contrasts, the runs' flags and the wall time", () => {
      assert.equal(validateResultsFile(file), 4);
      assert.equal(file.format, "sa-mtl-compare-report/4");
      assert.equal(file.wallSeconds, 42);
      assert.equal(file.runs.length, 12);
      assert.deepEqual(file.runs[0], {
        method: "stl",
        seed: 0,
        stillImproving: true,
        convergence: [
          {
            task: "emotion",
            dataset: "ferplus",
            gain: file.runs[0].convergence[0].gain,
            q3: file.runs[0].convergence[0].q3,
            q4: file.runs[0].convergence[0].q4,
            axis: "images",
            stillImproving: true,
          },
        ],
      });
      close(file.runs[0].convergence[0].gain!, 0.05, 1e-12);
      close(file.runs[0].convergence[0].q3!, 0.75, 1e-12);
      close(file.runs[0].convergence[0].q4!, 0.8, 1e-12);
      assert.deepEqual(file.runs[1].convergence.map((c) => c.task), ["pose"]);
      const c = file.contrasts.find((x) => x.method === "sa-mtl" && x.task === "emotion")!;
      close(c.diffMean!, 0.03, 1e-12);
      close(c.ci95Low!, 0.03 - 0.02484138, 1e-8);
      close(c.ci95High!, 0.03 + 0.02484138, 1e-8);
      close(c.p!, studentTwoSidedP(0.03 / (0.01 / Math.sqrt(3)), 2), 1e-12);
      close(c.pHolm!, 2 * c.p!, 1e-12);
      // The noncentral-t MDD at n 3 (nc 5.6534893, scipy), not the shortcut (4.302653 + 1.06066) · sd/√n.
      close(c.minDetectable!, 5.6534893 * 0.01 / Math.sqrt(3), 1e-6);
      // Bootstrap by hand: a drawn row adds w = the number of seeds whose rows [stl, sa-mtl) hold it
      // (30, 40, 20 rows; 10 rows in two ranges), so the value is Σ w / 3000: mean 0.03, sd √(1000 · 0.1019) / 3000.
      close(c.bootDiff!, 0.03, 1e-12);
      assert.equal(c.bootSeeds, 3);
      assert.equal(c.bootSharedRows, true);
      const sd = Math.sqrt(1000 * (0.11 - 0.09 ** 2)) / 3000;
      close(c.bootCi95Low!, 0.03 - 1.96 * sd, 0.0008);
      close(c.bootCi95High!, 0.03 + 1.96 * sd, 0.0008);
      const aio = file.contrasts.find((x) => x.method === "all-in-one" && x.task === "pose")!;
      assert.deepEqual([aio.ci95Low, aio.ci95High, aio.p, aio.pHolm], [aio.diffMean, aio.diffMean, 0, 0]);
      const chance = file.chance.find((x) => x.column === "emotion/ferplus")!;
      // Every confusion matrix of the fixture has 334 + 333 + 333 rows: majority 33.4 %.
      assert.deepEqual(
        [chance.uniform, chance.nTestMin, chance.nValMin],
        [1 / 3, 1000, 800],
      );
      assert.ok(chance.majority! > 0.33 && chance.majority! < 0.36);
      assert.match(md, /\| Chance: 1\/K \(%\) \| 33\.33 \| 33\.33 \|/);
      assert.match(md, /\*\*Small validation sets\*\*: emotion\/ferplus has 800 labelled validation rows/);
    });

    await t.step("figures exist as SVG and PNG and are linked", async () => {
      const kinds = new Set(file.figures.map((f) => f.kind));
      assert.deepEqual([...kinds].sort(), ["confusion", "curves", "differences", "pseudo", "summary"]);
      assert.equal(file.figures.filter((f) => f.kind === "confusion").length, 6);
      for (const f of file.figures) {
        const svg = await Deno.readTextFile(join(dir, f.svg));
        assert.match(svg, /^<svg/);
        const png = await Deno.readFile(join(dir, f.png!));
        assert.deepEqual([...png.slice(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
        assert.ok(md.includes(`](${f.png})`), `report links ${f.png}`);
      }
      const conf = await Deno.readTextFile(join(dir, "figures/confusion_stl_emotion_ferplus.svg"));
      for (const name of CLASSES.emotion) {
        assert.ok(conf.includes(name), `class name ${name} in the heat map`);
      }
      // The pseudo-label section reports the last epoch: 0.5 + 0.1 * 2 = 70.00 on every seed.
      assert.match(md, /\| sa-mtl \| emotion\/aflw \| 3 \| 50\.00 ± 0\.00 \| 70\.00 ± 0\.00 \|/);
      const files = [...Deno.readDirSync(dir)].map((e) => e.name);
      assert.ok(!files.some((n) => n.endsWith(".tmp")), "no temp files left behind");
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeReport with one seed says that no spread is available", async () => {
  const dir = await Deno.makeTempDir({ prefix: "report_test_" });
  try {
    await writeReport(fixture([0]), dir, { figures: false });
    const md = await Deno.readTextFile(join(dir, "report.md"));
    assert.match(
      md,
      /\*\*Only 1 seed\*\*: no paired-t interval exists, so every contrast below reads \*cannot tell\*/,
    );
    const table = parseReportTable(md);
    for (const row of table.rows) for (const c of row.cells.slice(0, 2)) assert.equal(c.std, null);
    assert.equal(table.rows[0].cells[0].mean, 80);
    const file = JSON.parse(await Deno.readTextFile(join(dir, "results.json"))) as ResultsFile;
    assert.equal(file.verdict.claim.status, "cannot tell");
    assert.match(
      md,
      /\*\*cannot tell\*\*: one seed gives no paired-t interval, so no difference is measured either way/,
    );
    assert.ok(file.summary.cells.every((c) => c.std === null));
    // One seed: no t interval, but the bootstrap over test rows still runs; every call is "cannot tell".
    assert.ok(
      file.contrasts.every((c) => c.ci95Low === null && c.bootCi95Low !== null && c.call === "cannot tell"),
    );
    assert.match(
      md,
      /no paired-t interval \(fewer than 2 seeds\), so the 2\.00 pp half-width goal cannot be met/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the report explains pose labels with an annotator's yaw error only when the comparison recorded one", async () => {
  const dir = await Deno.makeTempDir({ prefix: "report_test_" });
  try {
    const read = async (budget: CompareResults["budget"]) => {
      await writeReport({ ...fixture(), budget }, dir, { figures: false });
      return await Deno.readTextFile(join(dir, "report.md"));
    };
    const noisy = await read({ epochs: 3, yaw_label_noise_deg: 6 });
    assert.match(
      noisy,
      /- \*\*Pose labels\*\*: .*annotator's error of std 6 deg .*no model reaches 100 % on pose/,
    );
    assert.match(noisy, /Budget: epochs=3, yaw_label_noise_deg=6/);
    for (
      const budget of [{ epochs: 3 }, { epochs: 3, yaw_label_noise_deg: 0 }] as CompareResults["budget"][]
    ) {
      assert.doesNotMatch(await read(budget), /Pose labels/);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("results.json reads back and renders the same report", async () => {
  const a = await Deno.makeTempDir({ prefix: "report_test_" });
  const b = await Deno.makeTempDir({ prefix: "report_test_" });
  try {
    await writeReport(fixture(), a, { figures: false });
    await writeReport(await readResults(join(a, "results.json")), b, { figures: false });
    for (const f of ["report.md", "results.csv", "runs.csv", "results.json"]) {
      assert.equal(await Deno.readTextFile(join(b, f)), await Deno.readTextFile(join(a, f)), f);
    }
  } finally {
    await Deno.remove(a, { recursive: true });
    await Deno.remove(b, { recursive: true });
  }
});

Deno.test("report.md names runs relative to the comparison's directory, wherever it was made", async () => {
  // Two copies of one comparison, made in different scratch directories: the recorded paths differ, the
  // report does not, and results.json keeps each machine's paths for scripts.
  const made = (root: string): CompareResults => {
    const r = fixture();
    let stlSeen = new Set<number>();
    r.runs = r.runs.map((run) => {
      const name = run.method === "stl" ? `stl-${stlSeen.has(run.seed) ? "pose" : "emotion"}` : run.method;
      if (run.method === "stl") stlSeen = new Set([...stlSeen, run.seed]);
      const runDir = `${root}/runs/${name}-seed${run.seed}`;
      return {
        ...run,
        runDir,
        command: `deno task run ${run.method} --seed=${run.seed} --out=${runDir} --quiet`,
      };
    });
    r.command = `deno task compare --profile=test --out=${root}`;
    return r;
  };
  const a = await Deno.makeTempDir({ prefix: "report_test_" });
  const b = await Deno.makeTempDir({ prefix: "report_test_" });
  try {
    await writeReport(made("/scratch/one/cmp"), a, { figures: false });
    await writeReport(made("/tmp/other place"), b, { figures: false });
    const md = await Deno.readTextFile(join(a, "report.md"));
    assert.equal(await Deno.readTextFile(join(b, "report.md")), md);
    assert.doesNotMatch(md, /scratch/);
    assert.match(md, /deno task compare --profile=test --out=\$OUT\n/);
    assert.match(
      md,
      /\| sa-mtl \| 1 \| `runs\/sa-mtl-seed1` \| 11\.0 \| `deno task run sa-mtl --seed=1 --out=\$OUT\/runs\/sa-mtl-seed1 --quiet` \|/,
    );
    const file = JSON.parse(await Deno.readTextFile(join(a, "results.json"))) as ResultsFile;
    assert.equal(file.input.runs[0].runDir, "/scratch/one/cmp/runs/stl-emotion-seed0");

    // Runs that do not share one `runs/` folder keep their recorded paths.
    const mixed = made("/scratch/one/cmp");
    mixed.runs[1] = { ...mixed.runs[1], runDir: "/elsewhere/runs/stl-pose-seed0" };
    await writeReport(mixed, a, { figures: false });
    const mixedMd = await Deno.readTextFile(join(a, "report.md"));
    assert.match(mixedMd, /`\/scratch\/one\/cmp\/runs\/stl-emotion-seed0`/);
    assert.match(mixedMd, /deno task compare --profile=test --out=\/scratch\/one\/cmp\n/);

    // A comparison planned without --out (into its default directory) shows its command as it was typed.
    const noOut = made("/scratch/one/cmp");
    noOut.command = "deno task compare --profile=test";
    await writeReport(noOut, a, { figures: false });
    const noOutMd = await Deno.readTextFile(join(a, "report.md"));
    assert.match(noOutMd, /Command:\n\n```sh\ndeno task compare --profile=test\n```/);
    assert.match(noOutMd, /`runs\/stl-emotion-seed0`/);
  } finally {
    await Deno.remove(a, { recursive: true });
    await Deno.remove(b, { recursive: true });
  }
});

Deno.test("without a reference or a proposed method the report says what it cannot compute", async () => {
  const dir = await Deno.makeTempDir({ prefix: "report_test_" });
  try {
    const r = fixture();
    r.runs = r.runs.filter((x) => x.method === "all-in-one");
    delete r.baseline;
    delete r.proposed;
    await writeReport(r, dir, { figures: false });
    const md = await Deno.readTextFile(join(dir, "report.md"));
    assert.match(
      md,
      /results.json names no reference method with runs, so no differences, intervals or Δm are computed/,
    );
    assert.match(md, /not checked, results.json names no proposed method with runs/);
    assert.ok(!md.includes(DIFF_TABLE_HEADING));
    const table = parseReportTable(md);
    assert.equal(table.rows.length, 1);
    assert.equal(table.rows[0].cells[2].text, "—");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("malformed results fail with the field named", () => {
  const bad = fixture();
  bad.runs[0].results[0].confusion[1] = [1, 2];
  assert.throws(
    () => validateCompareResults(bad),
    (e: Error) => e instanceof ResultsError && /runs\[0\]\.results\[0\]\.confusion\[1\]/.test(e.message),
  );
  const acc = fixture();
  acc.runs[2].results[0].testAcc = 0.5;
  assert.throws(
    () => validateCompareResults(acc),
    /runs\[2\]\.results\[0\]\.testAcc: 0\.5 disagrees with the confusion matrix/,
  );
  const wrong = fixture();
  wrong.runs[0].results[0].testCorrect = "0" + wrong.runs[0].results[0].testCorrect!.slice(1);
  assert.throws(
    () => validateCompareResults(wrong),
    /runs\[0\]\.results\[0\]\.testCorrect: 799\/1000 correct disagrees/,
  );
  const short = fixture();
  short.runs[0].results[0].testCorrect = "1";
  assert.throws(
    () => validateCompareResults(short),
    /testCorrect: has 1 rows but the confusion matrix counts 1000/,
  );
  const noKey = fixture();
  delete noKey.runs[0].results[0].testRows;
  assert.throws(() => validateCompareResults(noKey), /testRows: expected "1000:<hash>" beside testCorrect/);
  const dup = fixture();
  dup.runs.push(run("stl", 0, { emotion: 0.8 }));
  assert.throws(() => validateCompareResults(dup), /emotion\/ferplus of stl seed 0 is reported twice/);
  assert.throws(() => validateCompareResults({ ...fixture(), runs: [] }), /results\.runs: is empty/);
  assert.throws(() => summarize({ ...fixture(), baseline: "nope" }), /baseline: method "nope" has no runs/);
});

Deno.test("curvesFromLog and pseudoFromCurves read log.csv rows", () => {
  const rows: Record<string, number | string>[] = [
    {
      epoch: 0,
      "emotion/ferplus/val/acc": 0.5,
      "pose/ferplus/train/pseudo_acc": 0.4,
      "pose/ferplus/train/pseudo_acc_kept": 0.6,
      "pose/ferplus/train/kept_fraction": 0.25,
      seconds: 3,
    },
    {
      epoch: 1,
      "emotion/ferplus/val/acc": "0.6",
      "pose/ferplus/train/pseudo_acc": 0.45,
      "pose/ferplus/train/pseudo_acc_kept": "",
      seconds: 3,
    },
  ];
  const curves = curvesFromLog(rows);
  assert.equal(curves.length, 6);
  assert.deepEqual(curves[0], { epoch: 0, split: "val", metric: "emotion/ferplus/val/acc", value: 0.5 });
  assert.equal(curves.find((c) => c.epoch === 1 && c.split === "val")!.value, 0.6);
  const pseudo = pseudoFromCurves(curves);
  assert.deepEqual(pseudo, [
    { epoch: 0, task: "pose", dataset: "ferplus", acc: 0.4, keptAcc: 0.6, keptFraction: 0.25 },
    { epoch: 1, task: "pose", dataset: "ferplus", acc: 0.45 },
  ]);
  assert.throws(() => curvesFromLog([{ epoch: "x" }]), /log row 1: epoch "x" is not a number/);
  // The images-seen axis: each point carries its row's images_seen.
  assert.deepEqual(curvesFromLog([{ epoch: 2, "emotion/ferplus/val/acc": 0.7, images_seen: 640 }]), [
    { epoch: 2, split: "val", metric: "emotion/ferplus/val/acc", value: 0.7, imagesSeen: 640 },
  ]);
});

Deno.test("pseudo-label figure: a kept line on its all-rows line still shows, and the images axis starts at 0", async () => {
  const f = fixture();
  // SA-MTL keeps every row: its kept accuracy is its all-rows accuracy, so the two lines coincide.
  for (const r of f.runs) {
    for (const c of r.curves) {
      if (c.metric.endsWith("/pseudo_acc_kept")) {
        c.value = r.curves.find((x) =>
          x.epoch === c.epoch && x.metric === c.metric.replace(/_kept$/, "")
        )!.value;
      }
    }
  }
  const svg = await renderSvg(pseudoSpec(f, summarize(f), "pose", "ferplus")!);
  const lines = [
    ...svg.matchAll(/aria-roledescription="line mark" d="([^"]+)" stroke="[^"]+" stroke-width="([\d.]+)"/g),
  ];
  const widthsOf = (d: string) =>
    lines.filter((m) => m[1] === d).map((m) => Number(m[2])).sort((a, b) => a - b);
  const shared = lines.map((m) => m[1]).find((d) => widthsOf(d).length === 2);
  assert.ok(shared, "the kept and all-rows lines are drawn on the same path");
  const [kept, all] = widthsOf(shared);
  assert.ok(all >= 2 * kept, `all rows ${all} px wide around kept ${kept} px`);
  // The first labels are made at 0 images seen; the SI-prefixed axis writes that "0", not "0k".
  assert.match(svg, />0<\/text>/);
  assert.doesNotMatch(svg, />0k<\/text>/);
  // ...and the subtitle says whose labels those are.
  assert.match(svg, /at 0 images the labels come from the untrained model/);
  // Chance for the fixture's 3 pose classes is drawn as a dashed rule, labelled, on the accuracy axis.
  assert.match(svg, />chance \(1\/K\) 33\.3 %<\/text>/);
  assert.equal([...svg.matchAll(/<line [^>]*stroke-dasharray="5,4"/g)].length, 1, "one chance rule");
  assert.equal([...svg.matchAll(/>chance \(1\/K\)/g)].length, 1, "one chance label");
});

Deno.test("pseudo labels: a rejected accuracy over a sliver of rows is not drawn; the table gives the kept share", async () => {
  const withRejected = (keptFraction: number) => {
    const f = fixture();
    for (const r of f.runs) {
      const kept = r.curves.filter((c) => c.metric.endsWith("/pseudo_acc_kept"));
      for (const c of kept) {
        const base = c.metric.replace(/_acc_kept$/, "");
        r.curves.push({ ...c, metric: `${base}_acc_rejected`, value: 0.85 });
        r.curves.push({
          ...c,
          metric: c.metric.replace(/pseudo_acc_kept$/, "kept_fraction"),
          value: keptFraction,
        });
      }
    }
    return f;
  };
  const drawn = async (f: ReturnType<typeof fixture>) => {
    const spec = pseudoSpec(f, summarize(f), "pose", "ferplus")!;
    const { data, title } = spec as unknown as {
      data: { values: { kind: string }[] };
      title: { subtitle: string[] };
    };
    return {
      kinds: new Set(data.values.map((v) => v.kind)),
      subtitle: title.subtitle.join(" | "),
      // The legend lists only the kinds drawn.
      legendRejected: />rejected<\/text>/.test(await renderSvg(spec)),
    };
  };
  // Soft interpolation rejects only its zero-weight rows: 0.3 % of them.
  const sliver = withRejected(0.997);
  const a = await drawn(sliver);
  assert.deepEqual([...a.kinds].sort(), ["all rows", "kept"]);
  assert.equal(a.legendRejected, false);
  assert.match(a.subtitle, /rejected rows: drawn only where they are at least 1 % of the rows/);
  assert.match(a.subtitle, /label; mean over 3 seeds;/);
  // One seed's values are not a mean.
  const one = fixture([0]);
  const oneSubtitle = (pseudoSpec(one, summarize(one), "pose", "ferplus") as unknown as {
    title: { subtitle: string[] };
  }).title.subtitle[0];
  assert.match(oneSubtitle, /label; 1 seed;/);
  assert.match(pseudoTable(summarize(sliver))!, /\| 90\.00 ± 0\.00 \| 85\.00 ± 0\.00 \| 99\.70 ± 0\.00 \|/);
  // Hard selection at the 0.8 quantile rejects 80 %: drawn, and no note.
  const b = await drawn(withRejected(0.2));
  assert.deepEqual([...b.kinds].sort(), ["all rows", "kept", "rejected"]);
  assert.equal(b.legendRejected, true);
  assert.doesNotMatch(b.subtitle, /rejected rows/);
  // A strategy that marks no rows has no kept share.
  assert.match(pseudoTable(summarize(fixture()))!.split("\n")[2], /\| — \| — \|$/);
});

Deno.test("curves run against training images seen, or epochs for logs without them", () => {
  const f = fixture();
  const s = summarize(f);
  const spec = curvesSpec(f, s, s.columns[0]) as unknown as {
    data: { values: { x: number; epoch: number; method: string }[] };
    layer: { encoding: { x: { title: string } } }[];
  };
  assert.equal(spec.layer[0].encoding.x.title, "Training images seen per dataset");
  assert.deepEqual(spec.data.values.filter((v) => v.method === "stl").map((v) => v.x), [1000, 2000, 3000]);
  for (const r of f.runs) for (const c of r.curves) delete c.imagesSeen;
  const old = curvesSpec(f, s, s.columns[0]) as unknown as typeof spec;
  assert.equal(old.layer[0].encoding.x.title, "Epoch");
  assert.deepEqual(old.data.values.filter((v) => v.method === "stl").map((v) => v.x), [0, 1, 2]);
});

Deno.test("curves of more than four methods: one panel per method, with the reference as a grey line in the others", () => {
  const few = fixture();
  const overlaid = curvesSpec(few, summarize(few), summarize(few).columns[0]) as unknown as {
    facet?: unknown;
  };
  assert.equal(overlaid.facet, undefined, "three methods share one panel");
  const f = fixture();
  for (const m of ["m1", "m2", "m3"]) {
    for (const seed of [0, 1, 2]) f.runs.push(run(m, seed, { emotion: 0.7, pose: 0.5 }));
  }
  const s = summarize(f);
  const col = s.columns.find((c) => c.task === "emotion")!;
  const spec = curvesSpec(f, s, col) as unknown as {
    facet: { field: string; sort: string[] };
    title: { subtitle: string };
    data: { values: { panel: string; method: string; role: string; x: number }[] };
  };
  assert.equal(spec.facet.field, "panel");
  assert.deepEqual(spec.facet.sort, ["stl", "all-in-one", "sa-mtl", "m1", "m2", "m3"]);
  const rows = spec.data.values;
  for (const panel of spec.facet.sort) {
    const own = rows.filter((r) => r.panel === panel && r.role === "method");
    assert.deepEqual(own.map((r) => r.method), [panel, panel, panel], `${panel}: its own three epochs`);
    const ref = rows.filter((r) => r.panel === panel && r.role === "reference");
    assert.deepEqual(
      ref.map((r) => `${r.method}@${r.x}`),
      panel === "stl" ? [] : ["stl@1000", "stl@2000", "stl@3000"],
      `${panel}: the reference drawn once, not in its own panel`,
    );
  }
  assert.match(spec.title.subtitle, /band = ± 1 std; grey line = stl/);
});

Deno.test("the 2 pp goal is met only when every contrast has a paired-t half-width of at most 2 pp", () => {
  const make = (offsets: number[]) => {
    const f = fixture();
    f.runs = f.runs.filter((r) => r.method === "stl");
    const stl = { emotion: [0.8, 0.82, 0.78], pose: [0.5, 0.52, 0.48] };
    for (const s of [0, 1, 2]) {
      f.runs.push(run("all-in-one", s, { emotion: stl.emotion[s] + offsets[s], pose: stl.pose[s] + 0.01 }));
    }
    delete f.proposed;
    const a = analyze(f, summarize(f));
    return Object.assign(a, { text: buildVerdict(f, summarize(f), a).lines.join("\n") });
  };
  // Differences 1, 2, 1.5 pp: sd 0.5 pp, half-width 4.303 · 0.5 / √3 = 1.24 pp.
  const ok = make([0.01, 0.02, 0.015]);
  close(ok.halfWidth.maxT!, 4.302653 * 0.005 / Math.sqrt(3), 1e-6);
  assert.equal(ok.halfWidth.met, true);
  // 1, 4, 1 pp: sd 1.73 pp, half-width 4.30 pp.
  const wide = make([0.01, 0.04, 0.01]);
  assert.equal(wide.halfWidth.met, false);
  close(wide.halfWidth.maxT!, 4.302653 * Math.sqrt(0.0003) / Math.sqrt(3), 1e-6);
  // sd 1.73 pp: t_{0.975,4} · 1.73 / √5 = 2.15 pp, t_{0.975,5} · 1.73 / √6 = 1.82 pp -> 6 seeds.
  assert.equal(wide.halfWidth.seedsNeeded, 6);
  // At the 80 % upper bound of that sd over 3 seeds (2 df: × √(2 / χ²₀.₂,₂) = × 2.117, so 3.67 pp): 16 seeds
  // (scipy: t.ppf(0.975, 15) · 3.667 / √16 = 1.95 pp; 15 seeds give 2.03).
  assert.equal(wide.halfWidth.seedsNeededUpper, 16);
  // stl's emotion accuracies 80, 82, 78 % (sd 2.00 pp); all-in-one's 81, 86, 79 % (sd 3.61 pp).
  assert.equal(wide.halfWidth.widest?.method, "all-in-one");
  assert.equal(wide.halfWidth.widest?.column, "emotion/ferplus");
  close(wide.halfWidth.widest!.diffStd, Math.sqrt(0.0003), 1e-9);
  close(wide.halfWidth.widest!.referenceStd!, 0.02, 1e-9);
  close(wide.halfWidth.widest!.methodStd!, Math.sqrt(0.0013), 1e-9);
  // sd 0.5 pp (pose: 0): 3 seeds already do.
  assert.equal(ok.halfWidth.seedsNeeded, 3);
  assert.equal(ok.halfWidth.seedsNeededUpper, 4, "met at 3 seeds, yet a plan from scratch would take 4");
  assert.match(ok.text, /\*\*met\*\*\./);
  assert.match(
    wide.text,
    /\*\*not met\*\* \(1 of 2 wider: all-in-one − stl on emotion\/ferplus\); if each contrast's spread over seeds stayed as observed, 6 seeds would meet it \(the widest spread: all-in-one − stl on emotion\/ferplus, sd 1\.73 pp over seeds; their own sd over seeds: stl 2\.00 pp, all-in-one 3\.61 pp\); that spread is estimated from 3 seeds: 16 seeds would meet it at the spreads' one-sided 80 % upper confidence bounds, a plan that reaches the goal at least 80 % of the time\./,
  );
  // A steady method against a noisy reference: all-in-one scores 82 % on every seed, the differences 2, 0, 4 pp
  // (sd 2 pp, 7 seeds) are all stl's.
  const steady = make([0.02, 0, 0.04]);
  assert.equal(steady.halfWidth.seedsNeeded, 7);
  assert.equal(steady.halfWidth.seedsNeededUpper, 20);
  close(steady.halfWidth.widest!.methodStd!, 0, 1e-12);
  assert.match(
    steady.text,
    /7 seeds would meet it \(the widest spread: all-in-one − stl on emotion\/ferplus, sd 2\.00 pp over seeds; their own sd over seeds: stl 2\.00 pp, all-in-one 0\.00 pp, so stl's own spread is the larger part\); that spread is estimated from 3 seeds: 20 seeds/,
  );
  // The noisier side, yet not the larger part: all-in-one 82, 80, 83 % (sd 1.53 pp) moves against stl, the
  // differences 2, -2, 5 pp have sd 3.51 pp, variance 12.3 against stl's 4.0.
  const against = make([0.02, -0.02, 0.05]);
  assert.match(against.text, /stl 2\.00 pp, all-in-one 1\.53 pp\); that spread/);
});

Deno.test("fmtPctBeside shows the decimals that tell a value from the goal beside it", () => {
  // The committed thorough report's widest half-width, 2.0025 pp, beside "not met" must not read 2.00.
  assert.equal(fmtPctBeside(0.020024812, 0.02), "2.002");
  assert.equal(fmtPctBeside(0.0199999, 0.02), "1.99999");
  assert.equal(fmtPctBeside(0.0213, 0.02), "2.13", "two decimals already tell it apart");
  assert.equal(fmtPctBeside(0.02, 0.02), "2.00");
  assert.equal(fmtPctBeside(0.02 + 1e-12, 0.02), "2.000000", "no more than 6 decimals");
  assert.equal(fmtPctBeside(null, 0.02), "—");
});

Deno.test("fmtP keeps two digits, and more where they would read as the level the p is judged at", () => {
  // The 11-seed thorough report's sa-mtl pose Holm p, counted significant, printed "0.050" before.
  assert.equal(fmtP(0.04980539599202898, ALPHA), "0.0498");
  assert.equal(fmtP(0.0502, ALPHA), "0.0502");
  assert.equal(fmtP(0.05, ALPHA), "0.050");
  assert.equal(fmtP(0.0312, ALPHA), "0.031");
  assert.equal(fmtP(0.0998, 0.1), "0.0998");
  assert.equal(fmtP(0.0004, ALPHA), "<0.001");
});

Deno.test("verdict: the Holm line names the shorter side, the contrasts below alpha or the ones that are not", () => {
  const clear = [0.05, 0.051, 0.049];
  const noisy = [0.05, -0.04, 0.01];
  const text = (diffs: { a: number[][]; b: number[][] }) => {
    const f = fixture();
    f.runs = f.runs.filter((r) => r.method === "stl");
    const stl = { emotion: [0.8, 0.82, 0.78], pose: [0.5, 0.52, 0.48] };
    for (const [name, [de, dp]] of [["a", diffs.a], ["b", diffs.b]] as const) {
      for (const s of [0, 1, 2]) {
        f.runs.push(run(name, s, { emotion: stl.emotion[s] + de[s], pose: stl.pose[s] + dp[s] }));
      }
    }
    delete f.proposed;
    const lines = buildVerdict(f, summarize(f), analyze(f, summarize(f))).lines;
    return lines.find((l) => l.startsWith("- **Multiple comparisons**"))!;
  };
  assert.match(
    text({ a: [clear, clear], b: [clear, clear] }),
    /: all 4 contrasts with stl have .* below 0.05\.$/,
  );
  assert.match(
    text({ a: [clear, clear], b: [clear, noisy] }),
    /: 3 of 4 contrasts with stl have .* below 0.05; not: b on pose\/aflw\.$/,
  );
  assert.match(
    text({ a: [clear, noisy], b: [noisy, noisy] }),
    /: 1 of 4 contrasts with stl have .* below 0.05 \(a on emotion\/ferplus\)\.$/,
  );
  assert.match(
    text({ a: [noisy, noisy], b: [noisy, noisy] }),
    /: 0 of 4 contrasts with stl have .* below 0.05\.$/,
  );
});

Deno.test("the verdict flags a method given another budget or scored on other test rows", () => {
  const flagged = (f: CompareResults) =>
    buildVerdict(f, summarize(f), analyze(f, summarize(f))).lines.filter((l) => l.startsWith("- **Unequal"));
  assert.deepEqual(flagged(fixture()), []);
  const f = fixture();
  for (const r of f.runs) {
    if (r.method !== "all-in-one") continue;
    // As the as-coded split did: 4/5 of the rows to train on, scored on the validation fold.
    r.imagesSeen = 6000;
    const t = r.results.find((x) => x.task === "emotion")!;
    t.confusion = t.confusion.map((row) => row.map((v) => v * 2));
  }
  const [budget, rows, ...rest] = flagged(f);
  assert.deepEqual(rest, []);
  assert.match(
    budget,
    /^- \*\*Unequal budgets\*\*: all-in-one saw 6,000 training images .* against 3,000 for stl:/,
  );
  assert.match(
    rows,
    /^- \*\*Unequal test sets\*\*: emotion\/ferplus has 1000 to 2000 labelled test rows across runs/,
  );
});

Deno.test("validateResultsFile checks what scripts read and tolerates fields it does not know", async () => {
  const dir = await Deno.makeTempDir({ prefix: "report_test_" });
  try {
    await writeReport(fixture(), dir, { figures: false });
    const file = JSON.parse(await Deno.readTextFile(join(dir, "results.json")));
    assert.equal(validateResultsFile(file), 4);
    assert.equal(file.dataSeed, null);
    assert.deepEqual(file.teachers, []);
    assert.deepEqual(file.failedRuns, []);
    // A later version may add fields anywhere: still valid.
    file.somethingNew = [{ task: "pose" }];
    file.contrasts[0].extra = "x";
    file.input.dataSeed = 7;
    assert.equal(validateResultsFile(file), 4);
    // From format 4 on the verdict's validity is checked: a pass with a failed check contradicts itself.
    const validity = structuredClone(file);
    validity.verdict.validity.passes = true;
    validity.verdict.validity.checks[0].ok = false;
    assert.throws(
      () => validateResultsFile(validity),
      /verdict\.validity\.passes: true, yet a check did not pass/,
    );
    const noValidity = structuredClone(file);
    delete noValidity.verdict.validity;
    assert.throws(
      () => validateResultsFile(noValidity),
      /results\.json\.verdict\.validity: expected an object/,
    );
    // A format-3 file, written before the validity line, is read without it.
    noValidity.format = "sa-mtl-compare-report/3";
    assert.equal(validateResultsFile(noValidity), 3);
    const teacher = structuredClone(file);
    teacher.teachers = [{
      task: "pose",
      dataset: "a",
      teacherDataset: "b",
      teacherAcc: 1.2,
      teacherAccInDomain: 0.8,
    }];
    assert.throws(
      () => validateResultsFile(teacher),
      /results\.json\.teachers\[0\]\.teacherAcc: expected a fraction/,
    );
    // A version-1 file only needs its input.
    assert.equal(validateResultsFile({ format: "sa-mtl-compare-report/1", input: file.input }), 1);
    const bad = structuredClone(file);
    bad.contrasts[1].ci95Low = "0.1";
    assert.throws(
      () => validateResultsFile(bad),
      /results\.json\.contrasts\[1\]\.ci95Low: expected a finite number or null/,
    );
    const swapped = structuredClone(file);
    const c = swapped.contrasts.find((x: { ci95Low: number | null }) => x.ci95Low !== null);
    [c.ci95Low, c.ci95High] = [c.ci95High + 0.1, c.ci95Low];
    assert.throws(() => validateResultsFile(swapped), /ci95Low: .* is above ci95High/);
    const noWall = structuredClone(file);
    delete noWall.wallSeconds;
    assert.throws(() => validateResultsFile(noWall), /results\.json\.wallSeconds: expected seconds >= 0/);
    const flag = structuredClone(file);
    flag.runs[3].stillImproving = "yes";
    assert.throws(() => validateResultsFile(flag), /results\.json\.runs\[3\]\.stillImproving/);
    assert.throws(() => validateResultsFile({ format: "other/2" }), /results\.json\.format/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("machineInfo describes this host", () => {
  const m = machineInfo();
  assert.equal(m.arch, Deno.build.arch);
  assert.ok(m.cpus >= 1);
  assert.ok(m.os.startsWith(Deno.build.os));
  validateCompareResults({ ...fixture(), machine: m });
});

Deno.test("the teachers' table says which seeds have no transfer score", () => {
  const f = fixture();
  const teacher = (seed: number) => ({
    task: "pose",
    dataset: "ferplus",
    teacherDataset: "aflw",
    seed,
    teacherAcc: 0.6,
    teacherAccInDomain: 0.8,
  });
  f.teachers = [teacher(0), teacher(1), teacher(2)];
  assert.match(teacherSection(f).join("\n"), /\| 60\.00 ± 0\.00 \| 80\.00 \| 20\.00 \| 3 \|/);
  f.teachers = [teacher(0), teacher(2)];
  assert.match(teacherSection(f).join("\n"), /\| 20\.00 \| 2 of 3 \(none for seed 1\) \|/);
});

Deno.test("each of the reference's single-task runs keeps its own selected epoch when merged", () => {
  const emotion = { ...run("stl", 1, { emotion: 0.8 }), selectedEpoch: 29 };
  const pose = { ...run("stl", 1, { pose: 0.8 }), selectedEpoch: 10 };
  const [merged] = mergeStl([emotion, pose], "stl");
  assert.equal(merged.selectedEpoch, undefined);
  assert.deepEqual(merged.results.map((t) => [t.task, t.selectedEpoch]), [["emotion", 29], ["pose", 10]]);
  const joint = { ...run("sa-mtl", 1, { emotion: 0.8, pose: 0.8 }), selectedEpoch: 40 };
  const s = summarize({ ...fixture([1]), runs: [merged, joint] });
  assert.equal(s.methodStats.find((m) => m.method === "stl")!.selectedEpoch.mean, 19.5);
  assert.equal(s.methodStats.find((m) => m.method === "sa-mtl")!.selectedEpoch.mean, 40);
});

Deno.test("curves draw an alternating run's cycles, not its sawtooth", () => {
  const f = fixture([0]);
  const sa = f.runs.find((r) => r.method === "sa-mtl")!;
  // Six evaluations, high after the column's own epoch and low after the other's: three cycles of mean 0.8.
  sa.curves = sa.curves.filter((c) => c.metric !== "emotion/ferplus/val/acc").concat(
    [0.75, 0.85, 0.75, 0.85, 0.75, 0.85].map((value, i) => ({
      epoch: i + 1,
      split: "val" as const,
      metric: "emotion/ferplus/val/acc",
      value,
      imagesSeen: 500 * (i + 1),
    })),
  );
  sa.evalsPerCycle = 2;
  const s = summarize(f);
  const spec = curvesSpec(f, s, s.columns.find((c) => c.task === "emotion")!) as unknown as {
    title: { subtitle: string };
    data: { values: { method: string; x: number; mean: number }[] };
  };
  const drawn = spec.data.values.filter((v) => v.method === "sa-mtl");
  assert.deepEqual(drawn.map((v) => v.x), [1000, 2000, 3000]);
  for (const v of drawn) assert.ok(Math.abs(v.mean - 80) < 1e-9, `${v.mean}`);
  assert.match(spec.title.subtitle, /alternating methods: mean of each cycle/);
});

Deno.test("the report prints the claim's contrasts (proposed − each other method) that its verdict reads", async () => {
  const dir = await Deno.makeTempDir({ prefix: "report_test_" });
  try {
    await writeReport(fixture(), dir, { figures: false });
    const md = await Deno.readTextFile(join(dir, "report.md"));
    const file = JSON.parse(await Deno.readTextFile(join(dir, "results.json"))) as ResultsFile;
    assert.ok(file.claimContrasts.length > 0);
    const section = md.split("### sa-mtl against each other method (the paper's claim)")[1]?.split(
      "\n## ",
    )[0];
    assert.ok(section, "the claim table's section");
    for (const c of file.claimContrasts) {
      const diff = (c.diffMean! * 100).toFixed(2);
      assert.match(
        section,
        new RegExp(
          `\\| ${c.other} \\| ${c.column.replace("/", "\\/")} \\| [+-]?${diff.replace("-", "")} \\|`,
        ),
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the differences figure draws each contrast with its intervals; one seed has only the bootstrap", () => {
  for (const seeds of [[0, 1, 2], [0]]) {
    const f = fixture(seeds);
    const s = summarize(f);
    const a = analyze(f, s);
    const spec = differencesSpec(s, a.contrasts) as unknown as {
      data: { values: { method: string; column: string; diff: number; tLo: number | null; bLo: number }[] };
    };
    assert.equal(spec.data.values.length, a.contrasts.length);
    for (const c of a.contrasts) {
      const v = spec.data.values.find((x) => x.method === c.method && x.column === c.column)!;
      close(v.diff, c.diffMean! * 100);
      assert.equal(v.tLo === null, seeds.length === 1);
      close(v.bLo, c.bootCi95Low! * 100);
    }
  }
  assert.equal(differencesSpec(summarize(fixture()), []), null);
});

/** STL, All-in-one and SA-MTL with the given per-seed accuracies (seeds 0-2), as the runner records them. */
function claimFixture(sa: Record<Task, number[]>, aio: Record<Task, number[]>): CompareResults {
  const f = fixture();
  const runs = f.runs.filter((r) => r.method === "stl");
  for (const s of [0, 1, 2]) {
    runs.push(run("all-in-one", s, { emotion: aio.emotion[s], pose: aio.pose[s] }));
    runs.push(run("sa-mtl", s, { emotion: sa.emotion[s], pose: sa.pose[s] }));
  }
  return { ...f, runs };
}

Deno.test("the paper's claim holds, or does not hold, when the intervals say so", async (t) => {
  const verdictOf = (f: CompareResults) => {
    const s = summarize(f);
    return buildVerdict(f, s, analyze(f, s));
  };
  await t.step("SA-MTL above STL and All-in-one on every seed and column: holds", () => {
    // STL: emotion 80/82/78, pose 50/52/48; All-in-one 81/80/79 and 53/55/51.
    const v = verdictOf(claimFixture(
      { emotion: [0.86, 0.875, 0.835], pose: [0.58, 0.605, 0.56] },
      { emotion: [0.81, 0.80, 0.79], pose: [0.53, 0.55, 0.51] },
    ));
    assert.equal(v.claim.status, "holds");
    assert.equal(v.claim.holdsInMeans, true);
    for (const c of v.claim.columns) {
      assert.deepEqual([...c.better].sort(), ["all-in-one", "stl"], c.column);
      assert.deepEqual(c.worse, []);
    }
    assert.match(v.lines.join("\n"), /\*\*holds\*\*: sa-mtl is measurably better than every other method/);
  });
  await t.step("All-in-one above SA-MTL on every seed on pose: does not hold, and says where", () => {
    const v = verdictOf(claimFixture(
      { emotion: [0.86, 0.875, 0.835], pose: [0.48, 0.505, 0.46] },
      { emotion: [0.81, 0.80, 0.79], pose: [0.53, 0.55, 0.51] },
    ));
    assert.equal(v.claim.status, "does not hold");
    const pose = v.claim.columns.find((c) => c.column === "pose/aflw")!;
    assert.deepEqual(pose.worse, ["stl", "all-in-one"]);
    assert.match(
      v.lines.join("\n"),
      /\*\*does not hold\*\*: measurably better than sa-mtl: stl, all-in-one on pose\/aflw/,
    );
    // Against STL the same runs are a "worse" call.
    assert.deepEqual(v.worse, [{ method: "sa-mtl", column: "pose/aflw" }]);
  });
});

Deno.test("a difference is called only when the seeds' t interval and the rows' bootstrap agree", () => {
  // SA-MTL gains 2, 3 and 2 of 1,000 test rows on STL's emotion column on each seed: a consistent gain, so the
  // t interval over seeds excludes zero, but it wins 102-103 rows and loses 100, so the bootstrap
  // over rows spans zero and the call must be "cannot tell".
  const f = fixture();
  const net = [2, 3, 2];
  for (const r of f.runs) {
    if (r.method !== "sa-mtl") continue;
    const t = r.results.find((x) => x.task === "emotion")!;
    const stl = f.runs.find((x) => x.method === "stl" && x.seed === r.seed && x.tasks.includes("emotion"))!
      .results[0];
    const bits = [...stl.testCorrect!];
    const hits = bits.filter((b) => b === "1").length;
    // Lose rows 0-99 (right for STL), win rows hits .. hits + 99 + net (wrong for STL).
    for (let i = 0; i < 100; i++) bits[i] = "0";
    for (let i = hits; i < hits + 100 + net[r.seed]; i++) bits[i] = "1";
    t.testCorrect = bits.join("");
    t.testAcc = (hits + net[r.seed]) / 1000;
  }
  const s = summarize(f);
  const c = analyze(f, s).contrasts.find((x) => x.method === "sa-mtl" && x.column === "emotion/ferplus")!;
  assert.ok(c.ci95Low! > 0, `t interval [${c.ci95Low}, ${c.ci95High}] excludes zero`);
  assert.ok(
    c.bootCi95Low! < 0 && c.bootCi95High! > 0,
    `bootstrap [${c.bootCi95Low}, ${c.bootCi95High}] spans zero`,
  );
  assert.equal(c.call, "cannot tell");
});
