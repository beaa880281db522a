import assert from "node:assert/strict";
import {
  analyze,
  buildVerdict,
  type CompareResults,
  judgeValidity,
  methodColumnGains,
  type RunResult,
  summarize,
  validitySummary,
} from "../runner/report/mod.ts";

const DATASET = { emotion: "ferplus", pose: "aflw" } as const;
type Task = keyof typeof DATASET;
const CLASSES = ["a", "b", "c"];

/**
 * A run whose validation curve has four points over 4,000 images: flat at `acc` up to the third, then `gain`
 * higher at the fourth, so its last-quarter gain is exactly `gain` (q3 holds the third point, q4 the fourth).
 * `curve: false` logs no curve at all.
 */
function run(
  method: string,
  seed: number,
  cols: Partial<Record<Task, { acc: number; gain: number }>>,
  curve = true,
): RunResult {
  const tasks = Object.keys(cols) as Task[];
  return {
    method,
    seed,
    datasets: tasks.map((t) => DATASET[t]),
    tasks,
    results: tasks.map((t) => ({
      task: t,
      dataset: DATASET[t],
      testAcc: cols[t]!.acc,
      testMeanClassAcc: cols[t]!.acc,
      classNames: CLASSES,
      confusion: [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
      nVal: 1000,
    })),
    curves: curve
      ? tasks.flatMap((t) =>
        [1, 2, 3, 4].map((k) => ({
          epoch: k,
          split: "val",
          metric: `${t}/${DATASET[t]}/val/acc`,
          value: cols[t]!.acc + (k === 4 ? cols[t]!.gain : 0),
          imagesSeen: 1000 * k,
        }))
      )
      : [],
    selectedEpoch: 4,
    trainSeconds: 10,
    imagesSeen: 4000 * tasks.length,
    runDir: `runs/${method}-seed${seed}`,
    command: `deno task ${method} --seed=${seed}`,
    backend: { name: "cpu", threads: 1 },
    versions: { deno: "2.9.6" },
  };
}

/**
 * STL and two joint methods; each joint method sits a constant 1 pp below STL on every seed (paired-t
 * half-width 0), so only the gains passed decide the convergence checks. `gains[method][task]` lists one
 * last-quarter gain per seed.
 */
function fixture(
  seeds: number[],
  gains: Record<string, Partial<Record<Task, number[]>>> = {},
  curve = true,
): CompareResults {
  const g = (m: string, t: Task, i: number) => gains[m]?.[t]?.[i] ?? 0;
  const runs: RunResult[] = [];
  seeds.forEach((s, i) => {
    const base = { emotion: 0.8 + 0.01 * i, pose: 0.7 + 0.01 * i };
    runs.push(run("stl", s, { emotion: { acc: base.emotion, gain: g("stl", "emotion", i) } }, curve));
    runs.push(run("stl", s, { pose: { acc: base.pose, gain: g("stl", "pose", i) } }, curve));
    for (const m of ["all-in-one", "sa-mtl"]) {
      runs.push(run(m, s, {
        emotion: { acc: base.emotion - 0.01, gain: g(m, "emotion", i) },
        pose: { acc: base.pose - 0.01, gain: g(m, "pose", i) },
      }, curve));
    }
  });
  return {
    profile: "test",
    command: "deno task compare --profile=test",
    datasets: ["ferplus", "aflw"],
    model: "mini_xception",
    budget: { epochs: 4 },
    seeds,
    runs,
    machine: { os: "linux", arch: "x86_64", cpus: 2 },
    wallSeconds: 1,
    baseline: "stl",
    proposed: "sa-mtl",
  };
}

function judge(f: CompareResults) {
  const s = summarize(f);
  return judgeValidity(f, s, analyze(f, s));
}

const check = (v: ReturnType<typeof judge>, name: string) =>
  v.validity.checks.find((c) => c.name === name)!.ok;

Deno.test("validity passes when the reference has plateaued, the intervals are narrow and every run finished", () => {
  // One STL emotion seed crosses the 1 pp line (+1.5 pp), its mean over the seeds (+0.5 pp) does not: the
  // plateau is judged on the mean, as one run's gain can be the epoch-to-epoch noise of a flat curve.
  const v = judge(fixture([1, 2, 3], {
    stl: { emotion: [0.015, 0, 0] },
    "all-in-one": { emotion: [0.03, 0.03, 0.03] },
  }));
  assert.equal(v.validity.passes, true);
  assert.deepEqual(v.validity.checks.map((c) => [c.name, c.ok]), [
    ["seeds", true],
    ["referencePlateau", true],
    ["precision", true],
    ["complete", true],
  ]);
  // A method still improving on average is named, not failed.
  assert.equal(v.validity.improvingOnAverage.length, 1);
  assert.equal(v.validity.improvingOnAverage[0].method, "all-in-one");
  assert.equal(v.validity.improvingOnAverage[0].column, "emotion/ferplus");
  assert.ok(Math.abs(v.validity.improvingOnAverage[0].meanGain - 0.03) < 1e-12);
  assert.match(
    v.line,
    /^- \*\*Validity\*\*: the report's 4 checks \*\*pass\*\*: at least 3 seeds \(3\); stl at its plateau/,
  );
  assert.match(v.line, /\+0\.50 pp on emotion\/ferplus, \+0\.00 pp on pose\/aflw/);
  assert.match(v.line, /Still improving on average .*: all-in-one on emotion\/ferplus \(\+3\.00 pp\)/);
  assert.doesNotMatch(v.line, /not yet/);
});

Deno.test("validity fails, and says why, when the reference still learns", () => {
  const v = judge(fixture([1, 2, 3], { stl: { pose: [0.02, 0.01, 0.015] } }));
  assert.equal(v.validity.passes, false);
  assert.equal(check(v, "referencePlateau"), false);
  assert.equal(check(v, "precision"), true);
  assert.match(
    v.line,
    /\*\*not yet a measurement to cite\*\*\. Failed: stl at its plateau \(mean last-quarter gain over the seeds at most 1\.00 pp: \+0\.00 pp on emotion\/ferplus, \+1\.50 pp on pose\/aflw\)\. Passed: at least 3 seeds \(3\);/,
  );
  assert.match(v.line, /While stl still learns, the calls below rank methods as much by how fast they learn/);
});

Deno.test("validity fails with too few seeds, with failed runs, or on an interim report", () => {
  const two = judge(fixture([1, 2]));
  assert.equal(check(two, "seeds"), false);
  assert.equal(two.validity.passes, false);
  assert.match(two.line, /Failed: at least 3 seeds \(2\)\./);

  const failed = fixture([1, 2, 3]);
  failed.failedRuns = [{ method: "sa-mtl", seed: 4, dir: "runs/sa-mtl-seed4", error: "boom" }];
  const f = judge(failed);
  assert.equal(check(f, "complete"), false);
  assert.match(f.line, /Failed: every planned run finished \(1 failed run\)\./);

  const interim = fixture([1, 2, 3]);
  interim.interim = { plannedSeeds: [1, 2, 3, 4, 5], finishedRuns: 12, plannedRuns: 20 };
  assert.match(judge(interim).line, /every planned run finished \(interim: 3 of 5 planned seeds\)/);
});

Deno.test("validity cannot check a plateau without curves and does not pass then", () => {
  const v = judge(fixture([1, 2, 3], {}, false));
  assert.equal(check(v, "referencePlateau"), null);
  assert.equal(v.validity.passes, false);
  assert.match(v.line, /Not checked: stl at its plateau \(no validation curve to check\)\./);
});

Deno.test("the verdict opens with the validity line and results carry its checks", () => {
  const f = fixture([1, 2, 3], { stl: { emotion: [0.05, 0.05, 0.05] } });
  const s = summarize(f);
  const verdict = buildVerdict(f, s, analyze(f, s));
  assert.match(verdict.lines[1], /^- \*\*Validity\*\*: \*\*not yet a measurement to cite\*\*/);
  assert.equal(verdict.validity.passes, false);
  assert.equal(verdict.validity.checks.length, 4);
});

Deno.test("methodColumnGains averages each method's known gains per column and counts the runs over the line", () => {
  const f = fixture([1, 2, 3], { "sa-mtl": { emotion: [0.02, 0, 0.005] } });
  const s = summarize(f);
  const gains = methodColumnGains(analyze(f, s).convergence, ["sa-mtl", "nobody"], s.columns);
  assert.equal(gains.length, 2, "a method without runs has no rows");
  const emo = gains.find((g) => g.task === "emotion")!;
  assert.ok(Math.abs(emo.meanGain! - 0.025 / 3) < 1e-12);
  assert.deepEqual([emo.runs, emo.checked, emo.improving], [3, 3, 1]);
});

Deno.test("validitySummary names each failed or unchecked check by its requirement", () => {
  assert.equal(validitySummary(judge(fixture([1, 2, 3])).validity), "the report's 4 checks pass");
  const two = fixture([1, 2], { stl: { emotion: [0.05, 0.05] } });
  assert.equal(
    validitySummary(judge(two).validity),
    "not yet a measurement to cite (failed: at least 3 seeds, stl at its plateau)",
  );
  assert.equal(
    validitySummary(judge(fixture([1, 2, 3], {}, false)).validity),
    "not yet a measurement to cite (not checked: stl at its plateau)",
  );
});

Deno.test("a reference column too short to check leaves the plateau unknown, one over the line fails it", () => {
  const f = fixture([1, 2, 3]);
  for (const r of f.runs) if (r.method === "stl" && r.tasks[0] === "pose") r.curves = [];
  const v = judge(f);
  assert.equal(check(v, "referencePlateau"), null);
  assert.match(
    v.line,
    /Not checked: stl at its plateau \(.*\+0\.00 pp on emotion\/ferplus, 1 column\(s\) too short to check\)/,
  );
  for (const r of f.runs) {
    if (r.method === "stl" && r.tasks[0] === "emotion") r.curves.at(-1)!.value! += 0.05;
  }
  assert.equal(check(judge(f), "referencePlateau"), false);
});
