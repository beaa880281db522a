/**
 * `compare --executor=slurm`: the generated sbatch scripts (pass-through flags, bash syntax, dry run
 * writes nothing) everywhere, and on a real one-node Slurm (munged + slurmctld + slurmd started here,
 * see `_slurm_cluster.ts`) the whole sweep: results.json equals the local executor's for the same seeds
 * and threads (up to wall times, timestamps, host names and paths), also after one array task was
 * cancelled mid-run, resubmitted with a broken checkpoint (it fails: error.txt, a report of the others, exit 1)
 * and resubmitted again repaired, when it continued from its checkpoint. Without root or Debian's slurm-wlm/munge the cluster test is skipped with a printed line;
 * `.ci/run` installs them.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runCompare } from "../runner/compare.ts";
import { OptionError } from "../core/options.ts";
import { arrayScript, arraySpec, parseSbatchExtra, shellQuote } from "../runner/executors/slurm.ts";
import { LAST_CHECKPOINT_MANIFEST, RUN_ERROR_FILE } from "../runner/executors/run_state.ts";
import { exists } from "../core/fs.ts";
import { clusterUnavailable, startCluster } from "./_slurm_cluster.ts";
import { skipWithout } from "./_required_tools.ts";
import { stdoutOf } from "./_stdout.ts";

/** Run compare with console.log captured; returns the exit code, the printed lines and its progress log. */
async function capture(args: string[]): Promise<{ code: number; out: string; log: string[] }> {
  const log: string[] = [];
  const { code, out } = await stdoutOf(() => runCompare(args, (s) => log.push(s)));
  return { code, out, log };
}

async function bashSyntaxOk(script: string): Promise<string> {
  const p = new Deno.Command("bash", { args: ["-n"], stdin: "piped", stderr: "piped" }).spawn();
  const w = p.stdin.getWriter();
  await w.write(new TextEncoder().encode(script));
  await w.close();
  const out = await p.output();
  return out.success ? "" : new TextDecoder().decode(out.stderr);
}

Deno.test("slurm dry run: one array task per run, pass-through flags, valid bash, nothing written", async () => {
  const out = join(await Deno.makeTempDir({ prefix: "slurm_dry_" }), "cmp");
  const { code, out: text } = await capture([
    "--profile=quick",
    "--methods=stl,sa-mtl",
    "--seeds=2",
    "--executor=slurm",
    "--partition=gpu",
    "--time=0:30:00",
    "--mem=4G",
    "--cpus_per_task=2",
    "--threads=2",
    "--gres=gpu:1",
    "--account=lab",
    "--qos=high",
    "--sbatch_extra=--constraint=a100 --exclusive",
    "--backend=webgpu",
    "--jobs=3",
    "--dry_run",
    `--out=${out}`,
  ]);
  assert.equal(code, 0);
  const [array, report] = text.split(/\n(?=#!\/bin\/bash)/);
  assert.match(report, /^#!\/bin\/bash/);
  // 2 seeds x (STL per task x 2 + SA-MTL) = 6 runs -> tasks 0-5, at most 3 at once.
  assert.match(array, /^#SBATCH --array=0-5%3$/m);
  for (
    const line of [
      "--partition=gpu",
      "--time=0:30:00",
      "--mem=4G",
      "--cpus-per-task=2",
      "--gres=gpu:1",
      "--account=lab",
      "--qos=high",
      "--constraint=a100",
      "--exclusive",
      "--signal=B:TERM@120",
    ]
  ) {
    assert.match(array, new RegExp(`^#SBATCH ${line.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`, "m"), line);
  }
  const cases = [...array.matchAll(/^ {2}(\d+)\) train (\S+) run (\S+) (.*) ;; {2}# (.*)$/gm)];
  assert.equal(cases.length, 6);
  for (const [, i, dir, method, rest] of cases) {
    assert.ok(dir.startsWith(join(out, "runs")), `task ${i} dir ${dir}`);
    assert.ok(["stl", "sa-mtl"].includes(method));
    // --backend and --threads pass through unchanged to every run.
    assert.match(rest, /--backend=webgpu/);
    assert.match(rest, /--threads=2/);
    assert.match(rest, new RegExp(`--out=${dir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}( |$)`));
  }
  // The report job needs no GPU and runs the report of --out.
  assert.doesNotMatch(report, /--gres/);
  assert.match(report, /--partition=gpu/);
  assert.match(
    report,
    new RegExp(`compare --report_only --out=${out.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`),
  );
  assert.equal(await bashSyntaxOk(array), "");
  assert.equal(await bashSyntaxOk(report), "");
  await assert.rejects(Deno.stat(out), Deno.errors.NotFound, "a dry run writes nothing");
});

Deno.test("slurm flags are refused where they would be ignored or break the script", async () => {
  const cases: [string[], RegExp][] = [
    [["--partition=gpu"], /--partition: only with --executor=slurm/],
    [["--executor=slurm", "--time=1 day"], /--time: "1 day" is not a single sbatch value/],
    [["--executor=slurm", "--sbatch_extra=exclusive"], /--sbatch_extra: "exclusive" is not an sbatch option/],
    [["--resume"], /--resume: needs --out=DIR/],
    [["--report_only"], /--report_only: needs --out=DIR/],
  ];
  for (const [args, msg] of cases) {
    await assert.rejects(runCompare(["--profile=quick", "--dry_run", ...args], () => {}), (e: Error) => {
      assert.ok(e instanceof OptionError, `${args.join(" ")}: ${e.message}`);
      assert.match(e.message, msg);
      return true;
    });
  }
  assert.equal(arraySpec([0, 1, 2, 5, 7, 8]), "0-2,5,7-8");
  assert.equal(arraySpec([3]), "3");
  assert.deepEqual(parseSbatchExtra("  --a=1   --b "), ["--a=1", "--b"]);
  assert.equal(shellQuote("--datasets=a,b"), "--datasets=a,b");
  assert.equal(shellQuote("it's x"), `'it'\\''s x'`);
});

Deno.test("an array task: a failing run leaves error.txt with its log's last lines; one stopped by Slurm's SIGTERM leaves none", async () => {
  // The generated script with a stand-in for Deno (SA_MTL_DENO), run the way Slurm runs a task: the batch
  // shell's output goes to the task's log, and --signal=B:TERM signals that shell only.
  const root = await Deno.makeTempDir({ prefix: "slurm_task_" });
  const fake = join(root, "fake_deno");
  await Deno.writeTextFile(
    fake,
    [
      "#!/bin/bash",
      "shift 3 # run -A MAIN",
      'case "$1" in',
      // An uncaught exception: its message, then more stack frames than the five lines kept.
      '  fail) echo "epoch 1 done"; echo "error: Uncaught Error: the loader broke" >&2',
      '    for f in a b c d e; do echo "    at $f (file:///x.ts:1:1)" >&2; done; exit 3 ;;',
      "  slow) trap 'echo \"interrupted: checkpoint written\"; exit 130' TERM",
      '    touch "$2.started"; while true; do sleep 0.05; done ;;',
      // A run killed by the signal before it could install its handler: status 143, still not a failure.
      '  early) touch "$2.started"; exec sleep 1000 ;;',
      "esac",
      "",
    ].join("\n"),
  );
  await Deno.chmod(fake, 0o755);
  const run = (name: string) => ({
    method: name,
    seed: 1,
    dir: join(root, "runs", name),
    args: [name, join(root, name)],
  });
  const sweep = {
    runs: [run("fail"), run("slow"), run("early")],
    outDir: root,
    jobName: "t",
    reportArgs: [],
    cwd: root,
    deno: "/nonexistent/deno",
    main: "/nonexistent/main.ts",
  };
  const script = join(root, "array.sbatch");
  await Deno.writeTextFile(script, arrayScript(sweep, [0, 1, 2], { cpusPerTask: 1, extra: [] }));
  await Deno.mkdir(join(root, "slurm", "logs"), { recursive: true });
  const task = (i: number) =>
    new Deno.Command("bash", {
      args: ["-c", `exec bash ${script} > ${join(root, "slurm", "logs", `run_7_${i}.out`)} 2>&1`],
      env: { SA_MTL_DENO: fake, SLURM_ARRAY_JOB_ID: "7", SLURM_ARRAY_TASK_ID: String(i) },
    }).spawn();

  assert.equal((await task(0).output()).code, 3);
  const error = await Deno.readTextFile(join(sweep.runs[0].dir, RUN_ERROR_FILE));
  assert.equal(
    error,
    "array task 7_0 exited with status 3: error: Uncaught Error: the loader broke | " +
      ["a", "b", "c", "d", "e"].map((f) => `    at ${f} (file:///x.ts:1:1)`).join(" | ") +
      ` (log ${join(root, "slurm", "logs", "run_7_0.out")})\n`,
  );

  const slow = task(1);
  await waitFor("the stand-in run", () => exists(join(root, "slow.started")), 30);
  slow.kill("SIGTERM");
  assert.equal((await slow.output()).code, 130, "the run's own status: interrupted");
  assert.match(
    await Deno.readTextFile(join(root, "slurm", "logs", "run_7_1.out")),
    /interrupted: checkpoint written/,
  );
  assert.equal(await exists(join(sweep.runs[1].dir, RUN_ERROR_FILE)), false, "stopped is not failed");

  const early = task(2);
  await waitFor("the stand-in run", () => exists(join(root, "early.started")), 30);
  early.kill("SIGTERM");
  assert.equal((await early.output()).code, 143, "the run's own status: killed by the signal");
  assert.equal(await exists(join(sweep.runs[2].dir, RUN_ERROR_FILE)), false, "stopped is not failed");
  await Deno.remove(root, { recursive: true });
});

Deno.test("local --resume reruns only unfinished runs; the report equals the uninterrupted one", async () => {
  const out = join(await Deno.makeTempDir({ prefix: "compare_resume_" }), "cmp");
  const args = [
    "--profile=quick",
    "--train_size=100",
    "--passes=1",
    "--methods=stl,sa-mtl",
    "--backend=wasm",
  ];
  const first = await capture([...args, "--quiet", `--out=${out}`]);
  assert.equal(first.code, 0, first.log.join("\n"));
  const before = JSON.parse(await Deno.readTextFile(join(out, "results.json")));
  await assert.rejects(runCompare([...args, `--out=${out}`], () => {}), /already holds a comparison/);
  await assert.rejects(
    runCompare(["--resume", "--passes=2", `--out=${out}`], () => {}),
    /--passes: not with --resume/,
  );
  // --seeds may only add seeds on resume (tests/compare_job_test.ts adds one).
  await assert.rejects(
    runCompare(["--resume", "--seeds=3,4", `--out=${out}`], () => {}),
    /--seeds: with --resume the seeds can only be added to; .* 1 would be dropped/,
  );
  // As if the STL pose run had been interrupted before its first checkpoint and the rest had finished.
  await Deno.remove(join(out, "runs", "stl-pose-seed1", "summary.json"));
  await Deno.remove(join(out, "runs", "stl-pose-seed1", "checkpoint"), { recursive: true });
  const again = await capture(["--resume", `--out=${out}`]);
  assert.equal(again.code, 0, again.log.join("\n"));
  assert.match(again.log.join("\n"), /2 runs already finished/);
  assert.match(again.log.join("\n"), /done stl\/pose seed 1 .*\(1\/1 runs done\)/);
  const after = JSON.parse(await Deno.readTextFile(join(out, "results.json")));
  assert.deepEqual(normalized(after, out), normalized(before, out));
  await Deno.remove(join(out, ".."), { recursive: true });
});

/** results.json without what legitimately differs between executors: times, hosts and paths. */
function normalized(results: unknown, outDir: string): unknown {
  const drop = new Set([
    "wallSeconds",
    "startedAt",
    "finishedAt",
    "sittings", // a resume starts a sitting
    "hostname",
    "trainSeconds",
    "imagesPerSecond",
    "ms", // backend self-check time
  ]);
  const walk = (v: unknown): unknown => {
    if (typeof v === "string") {
      return v.replaceAll(outDir, "<out>").replace(/ --(executor|follow|out)=\S+/g, "");
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === "object") {
      return Object.fromEntries(
        Object.entries(v).filter(([k]) => !drop.has(k)).map(([k, x]) => [k, walk(x)]),
      );
    }
    return v;
  };
  return walk(results);
}

const unavailable = await clusterUnavailable();

async function waitFor(what: string, cond: () => Promise<boolean>, seconds = 300): Promise<void> {
  const t0 = performance.now();
  while (!(await cond())) {
    if (performance.now() - t0 > seconds * 1000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function sh(cmd: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  const dec = new TextDecoder();
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")}: ${dec.decode(out.stderr)}`);
  return dec.decode(out.stdout);
}

Deno.test({
  name:
    "compare --profile=quick --executor=slurm on a one-node Slurm: cancel, a failed run, --resume, equals local executor",
  ignore: skipWithout(unavailable === null, `the one-node Slurm test: ${unavailable}`),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const cluster = await startCluster(2);
    const prevConf = Deno.env.get("SLURM_CONF");
    Deno.env.set("SLURM_CONF", cluster.conf);
    const tmp = await Deno.makeTempDir({ prefix: "slurm_compare_" });
    try {
      const args = [
        "--profile=quick",
        "--train_size=200",
        "--passes=2",
        "--seeds=1",
        "--methods=stl,all-in-one,sa-mtl",
        "--backend=wasm",
        "--threads=1",
      ];
      const local = join(tmp, "local");
      const slurm = join(tmp, "slurm");
      const t0 = performance.now();
      const l = await capture([...args, `--out=${local}`]);
      const localSec = (performance.now() - t0) / 1000;
      assert.equal(l.code, 0, l.log.join("\n"));

      // Submit and leave; cancel the SA-MTL task (array task 3) once it has written a checkpoint.
      const s = await capture([...args, "--executor=slurm", "--follow=False", `--out=${slurm}`]);
      assert.equal(s.code, 0, s.log.join("\n"));
      console.log(s.log.map((x) => `  slurm: ${x}`).join("\n"));
      const [sub] = JSON.parse(await Deno.readTextFile(join(slurm, "slurm", "jobs.json"))).submissions;
      const samtl = join(slurm, "runs", "sa-mtl-seed1");
      await waitFor("the SA-MTL run's first checkpoint", () => exists(join(samtl, LAST_CHECKPOINT_MANIFEST)));
      await sh("scancel", [`${sub.arrayJob}_3`]);
      const queued = async () =>
        (await sh("squeue", ["-h", "-j", `${sub.arrayJob},${sub.reportJob}`])).trim();
      await waitFor("the report job", async () => (await queued()) === "");
      const taskLog = await Deno.readTextFile(join(slurm, "slurm", "logs", `run_${sub.arrayJob}_3.out`));
      console.log(taskLog.trim().split("\n").map((x) => `  cancelled task: ${x}`).join("\n"));
      assert.match(taskLog, /CANCELLED/);
      assert.match(taskLog, /interrupted: checkpoint written/);
      assert.equal(await exists(join(samtl, "summary.json")), false);
      const reportLog = await Deno.readTextFile(join(slurm, "slurm", "logs", `report_${sub.reportJob}.out`));
      assert.match(reportLog, /error: 1 of 4 runs have not finished \(sa-mtl seed 1\)/);
      assert.equal(await exists(join(slurm, "results.json")), false);

      // A run that fails (here: its checkpoint broken) leaves error.txt; the report job then reports it and
      // covers the other runs, and compare exits 1, as with the local executor.
      const kept = join(tmp, "kept_checkpoint");
      await Deno.rename(join(samtl, "checkpoint"), kept);
      await Deno.mkdir(join(samtl, "checkpoint", "last"), { recursive: true });
      await Deno.writeTextFile(join(samtl, LAST_CHECKPOINT_MANIFEST), "{ not json");
      const f = await capture(["--resume", "--executor=slurm", `--out=${slurm}`]);
      console.log(f.log.map((x) => `  slurm --resume, broken checkpoint: ${x}`).join("\n"));
      assert.equal(f.code, 1, f.log.join("\n"));
      assert.match(
        f.log.join("\n"),
        /FAILED sa-mtl seed 1: array task \d+_3 exited with status 2: error: checkpoint .*unreadable manifest/,
      );
      assert.match(
        f.log.join("\n"),
        /error: 1 of 4 runs failed \(sa-mtl seed 1\); the report covers the others/,
      );
      const partial = JSON.parse(await Deno.readTextFile(join(slurm, "results.json"))).input;
      assert.deepEqual(partial.failedRuns.map((x: { method: string }) => x.method), ["sa-mtl"]);
      assert.equal(partial.runs.length, 2, "the report covers the three other runs (STL's two as one row)");
      assert.match(await Deno.readTextFile(join(slurm, "report.md")), /Failed runs/);
      await Deno.remove(join(samtl, "checkpoint"), { recursive: true });
      await Deno.rename(kept, join(samtl, "checkpoint"));

      // Repaired, --resume resubmits only that run, which continues from its checkpoint; follow to the report.
      const r = await capture(["--resume", "--executor=slurm", `--out=${slurm}`]);
      console.log(r.log.map((x) => `  slurm --resume: ${x}`).join("\n"));
      assert.equal(r.code, 0, r.log.join("\n"));
      assert.match(r.log[0], /1 of 4 runs submitted/);
      assert.match(r.log.join("\n"), /1\/1 runs done/);
      assert.match(r.out, /report: .*report\.md/);
      const subs = JSON.parse(await Deno.readTextFile(join(slurm, "slurm", "jobs.json"))).submissions;
      assert.deepEqual(subs.map((x: { indices: number[] }) => x.indices), [[0, 1, 2, 3], [3], [3]]);
      const resumedLog = await Deno.readTextFile(
        join(slurm, "slurm", "logs", `run_${subs[2].arrayJob}_3.out`),
      );
      await assert.rejects(
        Deno.stat(join(samtl, RUN_ERROR_FILE)),
        Deno.errors.NotFound,
        "cleared on the retry",
      );
      assert.doesNotMatch(resumedLog, /interrupted/);
      const slurmSec = (Date.now() - Date.parse(sub.submittedAt)) / 1000;
      console.log(
        `  wall time: local executor ${localSec.toFixed(1)} s; slurm executor, submit to report with the ` +
          `cancel and resubmission, ${slurmSec.toFixed(1)} s`,
      );

      const read = async (dir: string) => JSON.parse(await Deno.readTextFile(join(dir, "results.json")));
      const lr = await read(local);
      const sr = await read(slurm);
      assert.equal(sr.input.runs.length, 3);
      assert.deepEqual(normalized(sr, slurm), normalized(lr, local));
    } finally {
      if (prevConf === undefined) Deno.env.delete("SLURM_CONF");
      else Deno.env.set("SLURM_CONF", prevConf);
      await cluster.stop();
      await Deno.remove(tmp, { recursive: true }).catch(() => {});
    }
  },
});
