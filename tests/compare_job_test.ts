/**
 * The comparison as a job: the data fixed across training seeds (`--data_seed`), a list of seeds, held-out
 * rows generated beyond the training set, the STL teachers scored on the other dataset's hidden truth, and a
 * failed run that is reported while the others make the report (exit 1), then rerun by `--resume`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  compare,
  freshCommand,
  LOCK_FILE,
  lockOut,
  parseSeeds,
  PROFILES,
  runCompare,
} from "../runner/compare.ts";
import type { TeacherTransfer } from "../runner/report/results.ts";
import { withHiddenTruth } from "../runner/eval_command.ts";
import { RUN_ERROR_FILE, runLocal, runState } from "../runner/executors/mod.ts";
import type { ImageSet, TaskSpec } from "../core/types.ts";

async function readJson(path: string) {
  return JSON.parse(await Deno.readTextFile(path));
}

Deno.test("compare: fixed data, a seed list, teacher transfer, a failed run reported then resumed", async () => {
  const out = await Deno.makeTempDir({ prefix: "compare_job_" });
  const lines: string[] = [];
  const log = (s: string) => lines.push(s);
  const code = await runCompare([
    "--profile=quick",
    "--methods=stl,all-in-one",
    "--train_size=60",
    "--val_rows=20",
    "--test_rows=30",
    "--passes=1",
    "--seeds=4,5",
    "--data_seed=7",
    "--jobs=2",
    "--backend=wasm",
    `--out=${out}`,
  ], log);
  assert.equal(code, 0, lines.join("\n"));
  assert.ok(lines.some((l) => /\d\/6 runs done, ETA/.test(l)), "progress with an ETA");
  const results = (await readJson(join(out, "results.json"))).input;
  assert.deepEqual(results.seeds, [4, 5]);
  assert.equal(results.dataSeed, 7);
  for (const r of results.runs) {
    for (const dir of String(r.runDir).split(", ")) {
      const cfg = await readJson(join(dir, "config.json"));
      assert.equal(cfg.options.data_seed, 7, `${dir}: the data seed is fixed`);
      assert.equal(cfg.options.seed, r.seed, `${dir}: the training seed varies`);
    }
    for (const t of r.results) {
      const n = t.confusion.flat().reduce((a: number, b: number) => a + b, 0);
      assert.equal(n, 30, `${r.method} ${t.task}: the 30 held-out test rows`);
    }
  }
  // Each STL teacher on the other dataset's hidden truth, per seed, next to its own test accuracy.
  const teachers = results.teachers as TeacherTransfer[];
  assert.deepEqual(
    teachers.map((t) => `${t.task}:${t.teacherDataset}->${t.dataset}:${t.seed}`).sort(),
    [
      "emotion:synth-emotion->synth-pose:4",
      "emotion:synth-emotion->synth-pose:5",
      "pose:synth-pose->synth-emotion:4",
      "pose:synth-pose->synth-emotion:5",
    ],
  );
  for (const t of teachers) {
    assert.ok(t.teacherAcc >= 0 && t.teacherAcc <= 1);
    const stl = results.runs.find((r: { method: string; seed: number }) =>
      r.method === "stl" && r.seed === t.seed
    );
    const own = stl.results.find((x: { task: string }) => x.task === t.task);
    assert.equal(t.teacherAccInDomain, own.testAcc);
  }

  // Break one run so that resuming it fails: the others still make a report, the exit status is 1.
  const broken = join(out, "runs", "all-in-one-seed5");
  await Deno.remove(join(broken, "summary.json"));
  await Deno.mkdir(join(broken, "checkpoint", "last"), { recursive: true });
  await Deno.writeTextFile(join(broken, "checkpoint", "last", "manifest.json"), "{ not json");
  lines.length = 0;
  assert.equal(await runCompare(["--resume", `--out=${out}`], log), 1);
  assert.ok(lines.some((l) => /FAILED all-in-one/.test(l)), lines.join("\n"));
  assert.ok(lines.some((l) => /1 of 6 runs failed/.test(l)), lines.join("\n"));
  const partial = (await readJson(join(out, "results.json"))).input;
  assert.equal(partial.failedRuns.length, 1);
  assert.equal(partial.failedRuns[0].method, "all-in-one");
  assert.equal(partial.failedRuns[0].seed, 5);
  assert.ok(
    !partial.runs.some((r: { method: string; seed: number }) => r.method === "all-in-one" && r.seed === 5),
  );
  await Deno.stat(join(broken, "error.txt"));
  assert.match(await Deno.readTextFile(join(out, "report.md")), /Failed runs/);

  // Repaired, --resume reruns only that run and the report is whole again.
  await Deno.remove(join(broken, "checkpoint"), { recursive: true });
  lines.length = 0;
  assert.equal(await runCompare(["--resume", `--out=${out}`], log), 0, lines.join("\n"));
  assert.ok(lines.some((l) => /5 runs already finished/.test(l)), lines.join("\n"));
  const whole = (await readJson(join(out, "results.json"))).input;
  assert.equal(whole.failedRuns.length, 0);
  await assert.rejects(Deno.stat(join(broken, "error.txt")));

  // --resume --seeds adds seeds to the plan (never drops one); other plan flags stay refused.
  await assert.rejects(
    runCompare(["--resume", "--seeds=4", `--out=${out}`], log),
    /--seeds: .*5 would be dropped/,
  );
  await assert.rejects(
    runCompare(["--resume", "--passes=2", `--out=${out}`], log),
    /--passes: not with --resume/,
  );
  lines.length = 0;
  assert.equal(await runCompare(["--resume", "--seeds=4,5,6", `--out=${out}`], log), 0, lines.join("\n"));
  assert.ok(lines.some((l) => /6 runs already finished/.test(l)), lines.join("\n"));
  const grown = (await readJson(join(out, "results.json"))).input;
  assert.deepEqual(grown.seeds, [4, 5, 6]);
  assert.deepEqual(
    grown.runs.filter((r: { seed: number }) => r.seed === 6).map((r: { method: string }) => r.method),
    [
      "stl",
      "all-in-one",
    ],
  );
  // The wall time sums the sittings: it only grows as seeds are added.
  assert.ok(grown.wallSeconds >= whole.wallSeconds, `${grown.wallSeconds} >= ${whole.wallSeconds}`);
  // Three sittings finished runs: the plan's, the repaired resume and the one that added seed 6 (the resume
  // whose only run failed finished none). The comparison started with the first; the report gives the one
  // command that reruns it all afresh, with the seeds as grown, not the command that planned two seeds.
  assert.equal(grown.sittings, 3);
  assert.equal(grown.startedAt, results.startedAt);
  assert.ok(grown.finishedAt > whole.finishedAt);
  assert.match(grown.command, / --seeds=4,5,6 /);
  assert.doesNotMatch(grown.command, /--seeds=4,5 /);
  const report = await Deno.readTextFile(join(out, "report.md"));
  assert.match(report, /--seeds=4,5,6 /);
  assert.match(report, /- Started: .*; finished: .*; wall time .* s, summed over 3 sittings/);
  // Resuming a finished comparison runs nothing and changes none of that.
  assert.equal(await runCompare(["--resume", `--out=${out}`], log), 0, lines.join("\n"));
  const again = (await readJson(join(out, "results.json"))).input;
  for (const k of ["sittings", "startedAt", "finishedAt", "wallSeconds", "command"]) {
    assert.equal(again[k], grown[k], k);
  }
  // A plan resumed before sittings were counted keeps its summed wall time but cannot say how many sittings
  // there were or when the first began, so the report states neither.
  const planPath = join(out, "compare_plan.json");
  const { sittings: _s, firstStartedAt: _f, ...legacy } = await readJson(planPath);
  await Deno.writeTextFile(planPath, JSON.stringify(legacy));
  assert.equal(await runCompare(["--resume", `--out=${out}`], log), 0, lines.join("\n"));
  const old = (await readJson(join(out, "results.json"))).input;
  assert.equal(old.sittings, undefined);
  assert.equal(old.startedAt, undefined);
  assert.equal(old.wallSeconds, grown.wallSeconds);
  assert.equal(old.finishedAt, grown.finishedAt);
  // The plan records the version of each embedded dataset's rows: a resume on a toolkit that would generate
  // other rows is refused (and writes nothing); one on a plan from before the record adds it.
  const recorded = await readJson(planPath);
  assert.deepEqual(Object.keys(recorded.dataVersions).sort(), ["synth-emotion", "synth-pose"]);
  const other = { ...recorded, dataVersions: { ...recorded.dataVersions, "synth-pose": "0" } };
  await Deno.writeTextFile(planPath, JSON.stringify(other));
  await assert.rejects(
    runCompare(["--resume", `--out=${out}`], log),
    /--resume: this toolkit would generate synth-pose differently from the data the runs in/,
  );
  await assert.rejects(
    runCompare(["--report_only", `--out=${out}`], log),
    /--report_only: this toolkit would generate synth-pose differently/,
  );
  assert.deepEqual(await readJson(planPath), other);
  const { dataVersions: _v, ...unrecorded } = recorded;
  await Deno.writeTextFile(planPath, JSON.stringify(unrecorded));
  assert.equal(await runCompare(["--resume", `--out=${out}`], log), 0, lines.join("\n"));
  assert.deepEqual((await readJson(planPath)).dataVersions, recorded.dataVersions);
  // Seed 6 runs exactly as a fresh plan with that seed would run it.
  const plan = await readJson(join(out, "compare_plan.json"));
  // (--out already holds a plan, so the fresh plan is made elsewhere and its paths mapped back.)
  const elsewhere = join(await Deno.makeTempDir(), "c");
  const freshPlan = await compare({
    profile: "quick",
    methods: ["stl", "all-in-one"],
    train_size: 60,
    val_rows: 20,
    test_rows: 30,
    passes: 1,
    seeds: [4, 5, 6],
    data_seed: 7,
    jobs: 2,
    backend: "wasm",
    out: elsewhere,
    dry_run: true,
  });
  const argsOf = (runs: { seed: number; args: string[] }[], root: string) =>
    runs.filter((r) => r.seed === 6).map((r) => r.args.map((a) => a.replace(root, "OUT")));
  assert.deepEqual(argsOf(plan.runs, out), argsOf(freshPlan.runs, freshPlan.out));

  // A comparison moved elsewhere (off a scratch disk, onto another machine) is read and resumed where it is
  // now, even with its finished runs' checkpoints left behind: their summaries, predictions and cached teacher
  // transfers are what the report reads.
  const moved = join(await Deno.makeTempDir(), "moved");
  await Deno.rename(out, moved);
  for await (const e of Deno.readDir(join(moved, "runs"))) {
    await Deno.remove(join(moved, "runs", e.name, "checkpoint"), { recursive: true });
  }
  await Deno.remove(join(moved, "runs", "stl-emotion-seed6"), { recursive: true });
  // Before it is resumed: the full report is refused, an interim one covers the seeds that are complete.
  lines.length = 0;
  assert.equal(await runCompare(["--report_only", `--out=${moved}`], log), 1);
  assert.match(lines.join("\n"), /1 of 9 runs have not finished \(stl\/emotion seed 6\)/);
  assert.equal(await runCompare(["--report_only", "--interim", `--out=${moved}`], log), 0, lines.join("\n"));
  const interim = await readJson(join(moved, "results.json"));
  assert.deepEqual(interim.interim, { plannedSeeds: [4, 5, 6], finishedRuns: 8, plannedRuns: 9 });
  assert.deepEqual(interim.input.seeds, [4, 5]);
  assert.deepEqual([...new Set(interim.runs.map((r: { seed: number }) => r.seed))], [4, 5]);
  const interimReport = await Deno.readTextFile(join(moved, "report.md"));
  assert.match(
    interimReport,
    /^# SA-MTL comparison report \(interim\)\n\n\*\*Interim\*\*: 2 of the 3 planned seeds \(4, 5; planned 4, 5, 6\)/,
  );
  assert.match(interimReport, /8 of 9 runs have finished in all/);
  // The verdict, the part a reader quotes, says so too.
  assert.match(interimReport, /\*\*Scope\*\*: .*seeds \(4, 5; \*\*interim\*\*: 2 of the 3 planned seeds/);
  await assert.rejects(runCompare(["--interim", `--out=${moved}`]), /--interim: only with --report_only/);
  const status = (await compare({ status: true, out: moved })).progress!;
  assert.deepEqual([status.finished, status.fresh], [8, 1]);
  lines.length = 0;
  assert.equal(await runCompare(["--resume", `--out=${moved}`], log), 0, lines.join("\n"));
  assert.ok(lines.some((l) => /8 runs already finished/.test(l)), lines.join("\n"));
  await assert.rejects(Deno.stat(out), "nothing is written where the comparison was");
  const there = (await readJson(join(moved, "results.json"))).input;
  for (const r of there.runs) {
    for (const dir of String(r.runDir).split(", ")) assert.ok(dir.startsWith(moved), dir);
  }
  assert.equal(there.teachers.length, grown.teachers.length);
  await Deno.stat(join(moved, "runs", "stl-emotion-seed6", "summary.json"));
  const movedPlan = await readJson(join(moved, "compare_plan.json"));
  assert.ok(movedPlan.runs.every((r: { dir: string }) => r.dir.startsWith(moved)));
  // A copy or a git checkout resets the runs' file times; the times the runs wrote are what count.
  const later = new Date(Date.now() + 3_600_000);
  for await (const e of Deno.readDir(join(moved, "runs"))) {
    await Deno.utime(join(moved, "runs", e.name, "summary.json"), later, later);
  }
  assert.equal(await runCompare(["--report_only", `--out=${moved}`], log), 0, lines.join("\n"));
  const copied = (await readJson(join(moved, "results.json"))).input;
  assert.equal(copied.wallSeconds, there.wallSeconds);
  assert.equal(copied.finishedAt, there.finishedAt);

  // A finished run trained with other settings than its plan (left from an earlier plan, copied in from
  // another comparison) is refused by --resume and --report_only, which write nothing, and named by --status.
  const stray = join(moved, "runs", "all-in-one-seed5", "config.json");
  const kept = await Deno.readTextFile(stray);
  const cfg = JSON.parse(kept);
  await Deno.writeTextFile(
    stray,
    JSON.stringify({ ...cfg, options: { ...cfg.options, epoch: 7, threads: 9 } }),
  );
  const before = await Deno.readTextFile(join(moved, "results.json"));
  for (const flag of ["--resume", "--report_only"]) {
    await assert.rejects(
      runCompare([flag, `--out=${moved}`], log),
      new RegExp(
        `${flag}: 1 finished run was trained with other settings than the plan in .*runs/all-in-one-seed5 \\(--epoch=7 \\(planned 1\\), --epoch=7 \\(seed 4.s run: 1\\)\\)`,
      ),
    );
  }
  assert.equal(await Deno.readTextFile(join(moved, "results.json")), before);
  const off = (await compare({ status: true, out: moved })).progress!.offPlan!;
  // How a run was executed (threads here) may differ; what it trained may not.
  assert.deepEqual(off.map((r) => r.differences), [["--epoch=7 (planned 1)", "--epoch=7 (seed 4's run: 1)"]]);
  await Deno.writeTextFile(stray, kept);
  assert.equal(await runCompare(["--report_only", `--out=${moved}`], log), 0, lines.join("\n"));
  // A teacher's transfer score lost with its checkpoint (a run copied in without either): --status names the
  // run, and the report's teachers table the seed it lacks.
  await Deno.remove(join(moved, "runs", "stl-pose-seed4", "transfer.json"));
  assert.deepEqual((await compare({ status: true, out: moved })).progress!.withoutTransfer, [
    "stl/pose seed 4",
  ]);
  assert.equal(await runCompare(["--report_only", `--out=${moved}`], log), 0, lines.join("\n"));
  assert.match(
    await Deno.readTextFile(join(moved, "report.md")),
    /\| pose \| synth-pose \| synth-emotion \|.*\| 2 of 3 \(none for seed 4\) \|/,
  );
  // A second sitting in the same directory while one runs is refused before it starts a run.
  const release = await lockOut(moved);
  await Deno.remove(join(moved, "runs", "stl-pose-seed6", "summary.json"));
  await assert.rejects(
    runCompare(["--resume", `--out=${moved}`], log),
    /another compare \(pid \d+ since .*\) is running there/,
  );
  assert.equal(await runState(join(moved, "runs", "stl-pose-seed6")), "fresh");
  await release();
});

/** A planned STL pose run on 40 synthetic rows, into `root/name`. */
function stlPoseRun(root: string, name: string, opts: { epochs?: number; extra?: string[] } = {}) {
  const dir = join(root, name);
  return {
    method: "stl",
    seed: 1,
    task: "pose",
    dir,
    args: [
      "run",
      "stl",
      "--dataset=synth-pose",
      "--task=pose",
      `--epoch=${opts.epochs ?? 1}`,
      "--train_size=40",
    ]
      .concat(opts.epochs ? ["--image_size=16"] : [])
      .concat(["--quiet", "--backend=wasm", `--out=${dir}`, ...opts.extra ?? []]),
  };
}

/** Waits (up to 2 minutes) until a run has written its first checkpoint. */
async function firstCheckpoint(dir: string): Promise<void> {
  const t0 = Date.now();
  while (!(await Deno.stat(join(dir, "checkpoint", "last", "manifest.json")).then(() => true, () => false))) {
    assert.ok(Date.now() - t0 < 120_000, "the run checkpoints");
    await new Promise((r) => setTimeout(r, 100));
  }
}

Deno.test("the local executor hands each finished run, with its checkpoint, to onFinished; a failed one is not", async () => {
  // compare scores each STL teacher there, so a comparison copied without checkpoints keeps its transfer.
  const root = await Deno.makeTempDir();
  const run = (name: string, extra: string[]) => stlPoseRun(root, name, { extra });
  const finished: string[] = [];
  const { failed } = await runLocal([run("ok", []), run("bad", ["--passes_per_refresh=2"])], {
    jobs: 1,
    log: () => {},
    onFinished: async (r) => {
      await Deno.stat(join(r.dir, "checkpoint", "best", "manifest.json"));
      finished.push(r.dir);
    },
  });
  assert.deepEqual(finished, [join(root, "ok")]);
  assert.deepEqual(failed.map((f) => f.run.dir), [join(root, "bad")]);
});

Deno.test("the local executor counts a run stopped by a signal after its checkpoint as unfinished, not failed", async () => {
  const root = await Deno.makeTempDir();
  const planned = stlPoseRun(root, "stopped", { epochs: 60 });
  const dir = planned.dir;
  const lines: string[] = [];
  const job = runLocal([planned], { jobs: 1, log: (s) => lines.push(s) });
  await firstCheckpoint(dir);
  // Its process, found by its own --out (it was started by runLocal, not here).
  let pid = 0;
  for await (const e of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    const cmdline = await Deno.readTextFile(`/proc/${e.name}/cmdline`).catch(() => "");
    if (cmdline.includes(`--out=${dir}\0`) || cmdline.endsWith(`--out=${dir}`)) pid = Number(e.name);
  }
  assert.ok(pid > 0, "the run's process");
  Deno.kill(pid, "SIGINT");
  const { failed } = await job;
  assert.deepEqual(failed, []);
  assert.ok(
    lines.some((l) => /^interrupted stl\/pose seed 1: it checkpointed and resumes/.test(l)),
    lines.join("\n"),
  );
  await assert.rejects(Deno.stat(join(dir, RUN_ERROR_FILE)));
  assert.equal(await runState(dir), "resumable");
  // A summary.json that a crash left empty does not make the run done.
  await Deno.writeTextFile(join(dir, "summary.json"), "");
  assert.equal(await runState(dir), "resumable");
  await Deno.writeTextFile(join(dir, "summary.json"), "{}");
  assert.equal(await runState(dir), "done");
  await Deno.remove(root, { recursive: true });
});

Deno.test("compare on SIGTERM starts no further run and stops the running ones at a checkpoint", async () => {
  const root = await Deno.makeTempDir();
  const run = (name: string) => stlPoseRun(root, name, { epochs: 60 });
  const lines: string[] = [];
  const job = runLocal([run("first"), run("second")], {
    jobs: 1,
    log: (s) => lines.push(s),
    stopOnSignal: true,
  });
  await firstCheckpoint(join(root, "first"));
  // As `kill -TERM <compare pid>` from another shell: only the compare process gets it.
  Deno.kill(Deno.pid, "SIGTERM");
  const outcome = await job;
  assert.deepEqual(outcome, { failed: [], interrupted: true });
  assert.ok(lines.some((l) => /^stopping: 1 running run\(s\) checkpoint/.test(l)), lines.join("\n"));
  assert.equal(await runState(join(root, "first")), "resumable");
  await assert.rejects(Deno.stat(join(root, "second")), "the queued run was not started");
  await Deno.remove(root, { recursive: true });
});

Deno.test("one compare at a time in a directory: a live holder is refused, a dead one's lock is taken over", async () => {
  const out = await Deno.makeTempDir();
  const lock = join(out, LOCK_FILE);
  const release = await lockOut(out);
  const held = JSON.parse(await Deno.readTextFile(lock));
  assert.equal(held.pid, Deno.pid);
  await assert.rejects(
    lockOut(out),
    new RegExp(`another compare \\(pid ${Deno.pid} since .*\\) is running there`),
  );
  await release();
  await assert.rejects(Deno.stat(lock));
  // A process that is gone (pid beyond the kernel's pid range) left its lock: taken over.
  await Deno.writeTextFile(lock, JSON.stringify({ pid: 1 << 23, host: held.host, startedAt: "then" }));
  const again = await lockOut(out);
  assert.equal(JSON.parse(await Deno.readTextFile(lock)).pid, Deno.pid);
  await again();
  // Another host's process cannot be checked from here.
  await Deno.writeTextFile(lock, JSON.stringify({ pid: 1 << 23, host: "elsewhere", startedAt: "then" }));
  await assert.rejects(
    lockOut(out),
    /a compare on elsewhere \(pid 8388608 since then\) holds it; if it no longer runs, delete/,
  );
  await Deno.remove(out, { recursive: true });
});

Deno.test("the report's command reruns a grown comparison in one go", () => {
  const plan = (command: string, seeds: number | number[], profileName = "thorough") => ({
    command,
    profileName,
    profile: { ...PROFILES[profileName], seeds },
  });
  // A flag given when planning is replaced by the plan's seeds now, a count stays a count.
  assert.equal(
    freshCommand(plan("deno task compare --profile=thorough --seeds=2 --out=d", 11)),
    "deno task compare --profile=thorough --seeds=11 --out=d",
  );
  assert.equal(
    freshCommand(plan("deno task compare --seeds=4,5 --out=d", [4, 5, 6], "default")),
    "deno task compare --seeds=4,5,6 --out=d",
  );
  assert.equal(
    freshCommand(plan("deno task compare --seeds 2 --out=d", 5, "default")),
    "deno task compare --seeds=5 --out=d",
  );
  // No flag and the profile's own seeds: the command as it was; seeds added since: the flag is added.
  assert.equal(freshCommand(plan("deno task compare --out=d", 3, "default")), "deno task compare --out=d");
  assert.equal(
    freshCommand(plan("deno task compare --profile=thorough --out=d", 25)),
    "deno task compare --seeds=25 --profile=thorough --out=d",
  );
  // A profile changed since the plan: the fields as planned become flags, so the command still reruns the
  // plan; a flag the command gave keeps its place and takes the plan's value; equal fields add nothing.
  const passes = PROFILES.thorough.passes + 1;
  const older = {
    command: "deno task compare --profile=thorough --batch_size=16 --out=d",
    profileName: "thorough",
    profile: { ...PROFILES.thorough, passes, lrSchedule: "cosine" as const, domainShift: 0.6 },
  };
  assert.equal(
    freshCommand(older),
    `deno task compare --domain_shift=0.6 --passes=${passes} --lr_schedule=cosine --profile=thorough --batch_size=16 --out=d`,
  );
  assert.equal(freshCommand({ ...older, profile: PROFILES.thorough }), older.command);
});

Deno.test("compare --seeds takes a count or a list; bad values name the flag", async () => {
  assert.equal(parseSeeds(["3"]), 3);
  assert.deepEqual(parseSeeds(["4", "5", "6"]), [4, 5, 6]);
  assert.throws(() => parseSeeds(["0"]), /--seeds: a count must be in \[1, 100\]/);
  assert.throws(() => parseSeeds(["4", "4"]), /--seeds: a seed is listed twice/);
  assert.throws(() => parseSeeds(["x", "2"]), /--seeds: expected a count or a comma-separated list/);
  const out = join(await Deno.makeTempDir(), "c");
  const planned = await compare({ profile: "quick", seeds: [4, 6], data_seed: 9, dry_run: true, out });
  assert.deepEqual([...new Set(planned.runs.map((r) => r.seed))], [4, 6]);
  assert.ok(planned.runs.every((r) => r.args.includes("--data_seed=9")));
  const counted = await compare({ profile: "quick", seeds: 2, dry_run: true, out });
  assert.deepEqual([...new Set(counted.runs.map((r) => r.seed))], [1, 2]);
});

Deno.test("compare --synth_difficulty reaches every planned run; a bad knob names the flag", async () => {
  const out = join(await Deno.makeTempDir(), "c");
  const planned = await compare({
    profile: "quick",
    synth_difficulty: ["pitch=12", "roll=12"],
    dry_run: true,
    out,
  });
  assert.ok(planned.runs.length > 2);
  for (const r of planned.runs) {
    assert.ok(r.args.includes("--synth_difficulty=pitch=12,roll=12"), r.args.join(" "));
  }
  assert.deepEqual(planned.profile.synthDifficulty, ["pitch=12", "roll=12"]);
  // Without the flag the runs keep each dataset's calibrated knobs (no flag, so earlier plans stay as they were).
  const plain = await compare({ profile: "quick", dry_run: true, out });
  assert.ok(plain.runs.every((r) => !r.args.some((a) => a.startsWith("--synth_difficulty"))));
  await assert.rejects(
    () => compare({ profile: "quick", synth_difficulty: ["pitch=-1"], dry_run: true, out }),
    /--synth_difficulty: got "pitch=-1"/,
  );
  await assert.rejects(
    () => compare({ profile: "quick", synth_difficulty: ["tilt=3"], dry_run: true, out }),
    /--synth_difficulty: got "tilt=3"/,
  );
});

Deno.test("eval --truth=hidden labels the set with every head's hidden truth, or names what is missing", () => {
  const set = {
    name: "synth-pose",
    tasks: [{ name: "pose", classes: 5, labels: ["a", "b", "c", "d", "e"] }],
    n: 3,
    height: 1,
    width: 1,
    channels: 1,
    images: new Float32Array(3),
    labels: { pose: Int32Array.from([0, 1, 2]) },
    split: { train: new Int32Array(), val: new Int32Array(), test: Int32Array.from([0, 1, 2]) },
  } as unknown as ImageSet;
  const emotion = { name: "emotion", classes: 7, labels: ["0", "1", "2", "3", "4", "5", "6"] } as TaskSpec;
  const truth = {
    dataset: "synth-pose",
    labels: { emotion: Int32Array.from([3, 6, 0]), pose: set.labels.pose },
  };
  const hidden = withHiddenTruth(set, truth, [emotion]);
  assert.deepEqual(hidden.tasks, [emotion]);
  assert.deepEqual([...hidden.labels.emotion!], [3, 6, 0]);
  assert.throws(
    () => withHiddenTruth(set, null, [emotion]),
    /--truth=hidden: synth-pose has no hidden truth/,
  );
  assert.throws(
    () => withHiddenTruth(set, { dataset: "x", labels: { age: Int32Array.from([1, 1, 1]) } }, [emotion]),
    /hidden truth has none of the run's tasks \(emotion\)/,
  );
});
