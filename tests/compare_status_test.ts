/**
 * `deno task compare --status`: read on a copy of part of the 45-pass comparison as its first sitting left it
 * (tests/fixtures/compare_status: its plan and two finished runs' files, from docs/compare_thorough_45 before it
 * restarted on 2026-12-02), so every number is known.
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { compare, runCompare } from "../runner/compare.ts";
import { remainingSeconds, type RunStatus, seedRanges, statusText } from "../runner/compare_status.ts";
import { progressText, runFraction, runWork } from "../runner/executors/mod.ts";
import { errorTail, failureText } from "../runner/executors/local.ts";
import { plateauRows } from "../bench/plateau.ts";
import { stdoutOf } from "./_stdout.ts";

const SOURCE = new URL("./fixtures/compare_status/", import.meta.url).pathname;

/** The plan, two finished runs (an STL teacher and a joint method) and one run with a checkpoint. */
async function fixture(): Promise<string> {
  const out = join(await Deno.makeTempDir(), "cmp");
  await Deno.mkdir(join(out, "runs"), { recursive: true });
  // The plan as its first sitting left it: later sittings of the committed comparison rewrite its start.
  const plan = JSON.parse(await Deno.readTextFile(join(SOURCE, "compare_plan.json")));
  for (const k of ["earlierSeconds", "sittings", "firstStartedAt"]) delete plan[k];
  plan.startedAt = "2026-12-01T15:11:31.446Z";
  await Deno.writeTextFile(join(out, "compare_plan.json"), JSON.stringify(plan));
  for (const run of ["stl-emotion-seed1", "dml-lwf-seed1"]) {
    const from = join(SOURCE, "runs", run);
    await Deno.mkdir(join(out, "runs", run));
    for await (const e of Deno.readDir(from)) {
      if (e.isFile) await Deno.copyFile(join(from, e.name), join(out, "runs", run, e.name));
    }
  }
  await Deno.mkdir(join(out, "runs", "sa-mtl-seed1", "checkpoint", "last"), { recursive: true });
  await Deno.writeTextFile(join(out, "runs", "sa-mtl-seed1", "checkpoint", "last", "manifest.json"), "{}");
  return out;
}

async function listing(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for await (const e of Deno.readDir(d)) {
      out.push(join(d, e.name));
      if (e.isDirectory) await walk(join(d, e.name));
    }
  };
  await walk(dir);
  return out.sort();
}

Deno.test("compare --status reads each run's state, numbers and teacher transfer, and writes nothing", async () => {
  const out = await fixture();
  const before = await listing(out);
  const outcome = await compare({ status: true, out });
  assert.equal(outcome.status, "status");
  const s = outcome.progress!;
  assert.deepEqual([s.total, s.finished, s.resumable, s.fresh], [110, 2, 1, 107]);
  assert.equal(outcome.todo.length, 108);
  const stl = s.runs.find((r) => r.method === "stl" && r.task === "emotion" && r.seed === 1)!;
  assert.equal(stl.state, "done");
  assert.equal(stl.dir, join(out, "runs", "stl-emotion-seed1"), "the plan's run directories follow the copy");
  assert.equal(stl.columns!.length, 1);
  assert.equal(stl.columns![0].testAcc, 0.84025);
  // Validation accuracy of epochs 34-45 (last quarter) minus epochs 23-33, from its log.csv.
  assert.ok(
    Math.abs(stl.columns![0].lastQuarterGain! - -0.00891) < 5e-5,
    String(stl.columns![0].lastQuarterGain),
  );
  assert.equal(stl.columns![0].stillImproving, false);
  assert.deepEqual(stl.transfer, { "synth-pose": 0.7195 });
  assert.equal(stl.bestEpoch, 29);
  const dml = s.runs.find((r) => r.method === "dml-lwf" && r.seed === 1)!;
  assert.deepEqual(dml.columns!.map((c) => `${c.task}/${c.dataset}`), [
    "emotion/synth-emotion",
    "pose/synth-pose",
  ]);
  assert.equal(dml.columns![0].stillImproving, true, "dml-lwf emotion gains 1.2 pp in its last quarter");
  assert.equal(dml.transfer, undefined);
  assert.equal(s.runs.find((r) => r.method === "sa-mtl" && r.seed === 1)!.state, "resumable");
  // One sitting, from the plan's start (15:11:31.446) to the later of the two runs' finishedAt (16:01:06.511).
  assert.equal(s.sittings, 1);
  assert.ok(Math.abs(s.wallSeconds - 2975.065) < 1e-6, String(s.wallSeconds));
  assert.ok(s.remainingSeconds! > 0);
  const text = statusText(s);
  assert.match(
    text,
    /2 of 110 runs finished, 1 part-way \(running, or interrupted: [^)]*\), 107 not started/,
  );
  assert.match(text, /wall time so far 49 min 35 s over 1 sitting; about \d+ h \d+ min left/);
  assert.match(
    text,
    /\| stl \(emotion\) +\| +1 \| +84\.03 \(-0\.89\) \| +\| +29 \| +400 \| 71\.95 on synth-pose +\|/,
  );
  assert.match(text, /\| dml-lwf +\| +1 \| +79\.7\d \(\+1\.\d\d\) \| +93\.\d\d \(\+0\.0\d\) \| +83 \|/);
  assert.match(text, /part-way \(1\): sa-mtl seed 1\n/);
  assert.match(
    text,
    /not started \(107\): stl\/pose seeds 1-10; all-in-one seeds 1-10; .*; sa-mtl seeds 2-10$/,
  );
  assert.deepEqual(await listing(out), before, "--status writes nothing");

  // The command: JSON on stdout; plan-shaping flags and a missing --out name the flag.
  const printed = await stdoutOf(() => runCompare(["--status", `--out=${out}`, "--json"], () => {}));
  assert.equal(printed.code, 0);
  assert.equal(JSON.parse(printed.out).status.finished, 2);
  const errors: string[] = [];
  await assert.rejects(runCompare(["--status"], (l) => errors.push(l)), /--status: needs --out=DIR/);
  await assert.rejects(
    runCompare(["--status", `--out=${out}`, "--passes=3"], (l) => errors.push(l)),
    /--passes: not with --status/,
  );
  await assert.rejects(runCompare(["--status", `--out=${out}`, "--resume"]), /--resume: not with --status/);
  // No seed has all its runs: an interim report has nothing to cover, and says how far the runs are.
  await assert.rejects(
    runCompare(["--report_only", "--interim", `--out=${out}`]),
    /--interim: no seed has all its runs finished yet \(2 of 110 runs\)/,
  );
  assert.deepEqual(await listing(out), before, "nothing written by the refused commands");
});

Deno.test("compare --status estimates the rest from each method's training time at the pace so far", () => {
  const run = (method: string, state: RunStatus["state"], trainSeconds?: number): RunStatus => ({
    method,
    seed: 1,
    dir: "",
    state,
    ...(trainSeconds === undefined ? {} : { trainSeconds }),
  });
  // 400 training seconds took 1,000 wall seconds; to come: one more `a` (100 s) and a `c` at the mean (200 s).
  const runs = [run("a", "done", 100), run("a", "fresh"), run("b", "done", 300), run("c", "resumable")];
  assert.equal(remainingSeconds(runs, 1000), 750);
  assert.equal(remainingSeconds([run("a", "fresh")], 0), null, "nothing finished: no estimate");
  assert.equal(remainingSeconds([run("a", "done", 5)], 60), 0);
  // A run that finished before the comparison's first sitting (copied in) sets its method's mean, not the pace.
  const copied = { ...run("b", "done", 300), finishedAt: "2026-01-01T00:00:00Z" };
  const since = Date.parse("2026-06-01T00:00:00Z");
  const later = { ...run("a", "done", 100), finishedAt: "2026-06-02T00:00:00Z" };
  // 100 training seconds took 1,000 wall seconds; to come: `a` at 100 s and `c` at the mean of 100 and 300.
  assert.equal(remainingSeconds([later, run("a", "fresh"), copied, run("c", "fresh")], 1000, since), 3000);
  assert.equal(remainingSeconds([copied, run("c", "fresh")], 1000, since), null, "none finished here");
  assert.equal(
    seedRanges([
      { method: "stl", task: "pose", seed: 3 },
      { method: "stl", task: "pose", seed: 2 },
      { method: "x", seed: 1 },
      { method: "stl", task: "pose", seed: 5 },
    ]),
    "stl/pose seeds 2-3, 5; x seed 1",
  );
});

Deno.test("the progress line's ETA counts the work done on runs still running", async () => {
  // One run done and two half-way after 100 s: two runs' work in 100 s, two left.
  assert.equal(progressText(1, 4, 100, 1), "1/4 runs done, ETA 1 min 40 s");
  assert.equal(
    progressText(1, 4, 100),
    "1/4 runs done, ETA 5 min 0 s",
    "without in-flight work: 3 left at 100 s each",
  );
  // By size: an STL run (1 dataset) done and a joint run (2 datasets) half-way of 1 + 2 + 2 after 100 s: 2 of
  // 5 done, 3 left at 50 s each; counted by runs, the joint runs left would be taken for STL-sized ones.
  assert.deepEqual([runWork(["run", "stl", "--dataset=a"]), runWork(["run", "x", "--datasets=a,b"])], [1, 2]);
  assert.equal(progressText(1, 3, 100, 1, { done: 1, total: 5 }), "1/3 runs done, ETA 2 min 30 s");
  assert.equal(progressText(0, 4, 100, 1), "0/4 runs done");
  assert.equal(progressText(4, 4, 100), "4/4 runs done");
  // A run resumed at its last epoch ends first: no work of this sitting is measured yet (was "ETA Infinity h").
  assert.equal(progressText(1, 84, 14, 0, { done: 0, total: 150 }), "1/84 runs done");
  // How far a run is: the epochs its log.csv has rows for, over its planned --epoch.
  const dir = await Deno.makeTempDir();
  const run = { method: "stl", seed: 1, dir, args: ["run", "stl", "--epoch=6", `--out=${dir}`] };
  assert.equal(await runFraction(run), 0, "no log yet");
  await Deno.writeTextFile(join(dir, "log.csv"), "epoch,x\n1,0.5\n2,0.6\n3,0.7\n");
  assert.equal(await runFraction(run), 0.5);
  assert.equal(await runFraction({ ...run, args: ["run", "stl"] }), 0, "no planned epoch count");
});

Deno.test("bench/plateau.ts cuts a run's validation curve at budgets and finds where it stops improving", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(
    join(dir, "config.json"),
    JSON.stringify({ datasets: ["synth-emotion"], options: { train_size: 100 } }),
  );
  // One pass an epoch; accuracy climbs for four passes, then stays.
  const acc = [0.2, 0.4, 0.6, 0.8, 0.8, 0.8, 0.8, 0.8];
  await Deno.writeTextFile(
    join(dir, "log.csv"),
    "epoch,emotion/synth-emotion/val/acc,all/all/val/acc,images_seen\n" +
      acc.map((a, i) => `${i + 1},${a},${a},${(i + 1) * 100}`).join("\n") + "\n",
  );
  const { cuts, rows } = await plateauRows(dir, 2);
  assert.deepEqual(cuts, [2, 4, 6, 8]);
  assert.equal(rows.length, 1, "the all/all column is not a task");
  assert.equal(rows[0].column, "emotion/synth-emotion");
  // Cut at 2: no point in (1, 1.5], so no gain; at 4: pass 4 over pass 3; at 6 and 8: flat.
  assert.equal(rows[0].gains[0], null);
  assert.ok(Math.abs(rows[0].gains[1]! - 0.2) < 1e-12);
  assert.deepEqual(rows[0].gains.slice(2), [0, 0]);
  assert.equal(rows[0].plateau, 6);
  assert.equal(rows[0].budget, 8);
});

Deno.test("a failed run's error keeps an uncaught exception's message ahead of its stack frames, and says how a silent process ended", () => {
  const frames = ["a", "b", "c", "d", "e"].map((f) => `    at ${f} (file:///x.ts:1:1)`);
  assert.equal(
    errorTail(["epoch 1", "error: Uncaught Error: boom", ...frames].join("\n")),
    ["error: Uncaught Error: boom", ...frames].join(" | "),
  );
  // A one-line user error is not repeated; output without one is its last five lines.
  assert.equal(errorTail("epoch 1\nerror: --lr: not a number\n"), "error: --lr: not a number | epoch 1");
  assert.equal(errorTail("1\n2\n3\n4\n5\n6"), "2 | 3 | 4 | 5 | 6");
  // A process killed from outside writes nothing: the failure says how it ended instead of nothing.
  assert.equal(errorTail(""), "");
  assert.equal(
    failureText("", 137, "SIGKILL"),
    "killed by SIGKILL with nothing on stderr (out of memory, or stopped from outside)",
  );
  assert.equal(failureText("\n", 3, null), "exit code 3 with nothing on stderr");
  assert.equal(failureText("error: boom\n", 1, null), "error: boom");
});
