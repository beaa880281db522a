/**
 * `compare --executor=slurm`: the generated sbatch scripts (pass-through flags, bash syntax, dry run
 * writes nothing) everywhere, and on a real one-node Slurm (munged + slurmctld + slurmd started here,
 * see `_slurm_cluster.ts`) the whole sweep: results.json equals the local executor's for the same seeds
 * and threads (up to wall times, timestamps, host names and paths), and `--resume` resubmits only the
 * missing run. Without root or Debian's slurm-wlm/munge the cluster test is skipped with a printed line;
 * `.ci/run` installs them.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runCompare } from "../core/compare.ts";
import { OptionError } from "../core/options.ts";
import { arraySpec, parseSbatchExtra, shellQuote } from "../core/executors/slurm.ts";
import { clusterUnavailable, startCluster } from "./_slurm_cluster.ts";

/** Run compare with console.log captured; returns the exit code and the printed lines. */
async function capture(args: string[]): Promise<{ code: number; out: string; log: string[] }> {
  const printed: string[] = [];
  const log: string[] = [];
  const orig = console.log;
  console.log = (...a: unknown[]) => printed.push(a.join(" "));
  try {
    const code = await runCompare(args, (s) => log.push(s));
    return { code, out: printed.join("\n"), log };
  } finally {
    console.log = orig;
  }
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

/** results.json without what legitimately differs between executors: times, hosts and paths. */
function normalized(results: unknown, outDir: string): unknown {
  const drop = new Set([
    "wallSeconds",
    "startedAt",
    "finishedAt",
    "hostname",
    "trainSeconds",
    "imagesPerSecond",
    "ms", // backend self-check time
  ]);
  const walk = (v: unknown): unknown => {
    if (typeof v === "string") {
      return v.replaceAll(outDir, "<out>").replace(/ --executor=slurm| --out=\S+/g, "");
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
if (unavailable) console.log(`slurm_test: SKIPPED the one-node Slurm test: ${unavailable}`);

Deno.test({
  name: "compare --profile=quick --executor=slurm on a one-node Slurm equals the local executor; --resume",
  ignore: unavailable !== null,
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
        "--train_size=100",
        "--passes=1",
        "--seeds=1",
        "--methods=stl,all-in-one,sa-mtl",
        "--backend=wasm",
        "--threads=1",
      ];
      const local = join(tmp, "local");
      const slurm = join(tmp, "slurm");
      let t0 = performance.now();
      const l = await capture([...args, `--out=${local}`]);
      const localSec = (performance.now() - t0) / 1000;
      assert.equal(l.code, 0, l.log.join("\n"));
      t0 = performance.now();
      const s = await capture([...args, "--executor=slurm", `--out=${slurm}`]);
      const slurmSec = (performance.now() - t0) / 1000;
      console.log(s.log.map((x) => `  slurm: ${x}`).join("\n"));
      assert.equal(s.code, 0, s.log.join("\n"));
      assert.match(s.out, /report: .*report\.md/);
      assert.match(s.log.join("\n"), /4\/4 runs done/);
      console.log(
        `  wall time: local executor ${localSec.toFixed(1)} s, slurm executor ${slurmSec.toFixed(1)} s`,
      );

      const read = async (dir: string) => JSON.parse(await Deno.readTextFile(join(dir, "results.json")));
      const lr = await read(local);
      const sr = await read(slurm);
      assert.equal(sr.input.runs.length, 3);
      assert.deepEqual(normalized(sr, slurm), normalized(lr, local));
      // One log per array task, and the report job's.
      const logs = [...Deno.readDirSync(join(slurm, "slurm", "logs"))].map((e) => e.name);
      assert.equal(logs.filter((n) => n.startsWith("run_")).length, 4);
      assert.equal(logs.filter((n) => n.startsWith("report_")).length, 1);

      // --resume resubmits only what is missing: here the SA-MTL run (as if its task had failed).
      await Deno.remove(join(slurm, "runs", "sa-mtl-seed1"), { recursive: true });
      await Deno.remove(join(slurm, "results.json"));
      const r = await capture(["--resume", "--executor=slurm", `--out=${slurm}`]);
      console.log(r.log.map((x) => `  slurm --resume: ${x}`).join("\n"));
      assert.equal(r.code, 0, r.log.join("\n"));
      assert.match(r.log[0], /1 of 4 runs submitted/);
      const subs = JSON.parse(await Deno.readTextFile(join(slurm, "slurm", "jobs.json"))).submissions;
      assert.equal(subs.length, 2);
      assert.deepEqual(subs[1].indices, [3]);
      assert.deepEqual(normalized(await read(slurm), slurm), normalized(lr, local));
    } finally {
      if (prevConf === undefined) Deno.env.delete("SLURM_CONF");
      else Deno.env.set("SLURM_CONF", prevConf);
      await cluster.stop();
      await Deno.remove(tmp, { recursive: true }).catch(() => {});
    }
  },
});
