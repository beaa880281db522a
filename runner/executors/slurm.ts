/**
 * The Slurm executor: the sweep becomes one job array (array task i trains planned run i with exactly
 * the command line the local executor runs) and one report job that depends on the array
 * (`afterany`, so it also runs when some task failed: a failed run leaves error.txt, as under the local
 * executor, and the report covers the others; a run stopped unfinished leaves the report job listing it). The
 * submitting process then follows the jobs (`squeue`, the run directories, `sacct` where accounting
 * exists) with the same `k/N runs done, ETA` line as local runs, until the report job has written
 * report.md and results.json.
 *
 * Run directories live under `--out`, which must be on a filesystem the compute nodes share. A task
 * that is cancelled or hits its time limit gets SIGTERM (`--signal=B:TERM@120` gives two minutes'
 * notice before the limit); the run then writes its last checkpoint, and `--resume` resubmits only
 * the runs without `summary.json`, which continue from that checkpoint.
 * @module
 */
import { join } from "node:path";
import { writeFileAtomic, writeJsonAtomic } from "../../core/fs.ts";
import { OptionError } from "../../core/options.ts";
import {
  INTERRUPTED_EXIT,
  LAST_CHECKPOINT_MANIFEST,
  RUN_ERROR_FILE,
  runFraction,
  runLabel,
  runState,
  type SweepRun,
} from "./run_state.ts";
import { formatSeconds, progressText } from "./progress.ts";

/** sbatch settings of the sweep; undefined ones are left to the cluster's defaults. */
export interface SlurmOptions {
  partition?: string;
  time?: string;
  mem?: string;
  cpusPerTask: number;
  gres?: string;
  account?: string;
  qos?: string;
  /** Further sbatch options, one `#SBATCH` line each (`--sbatch_extra`). */
  extra: string[];
  /** Array tasks running at once (`%N`); undefined: as many as the cluster allows. */
  maxParallel?: number;
}

/** What the scripts need to know about the sweep. */
export interface SlurmSweep {
  /** Every planned run; array task i trains runs[i]. */
  runs: SweepRun[];
  /** The comparison's output directory (shared filesystem). */
  outDir: string;
  /** Job name of the array (the report job appends `-report`). */
  jobName: string;
  /** `runner/main.ts` arguments of the report job. */
  reportArgs: string[];
  /** Working directory of the jobs (relative paths such as `--data_dir=data` resolve against it). */
  cwd: string;
  /** The Deno executable the jobs run (override on the nodes with `SA_MTL_DENO`). */
  deno: string;
  /** Absolute path of `runner/main.ts`. */
  main: string;
}

/** One submission, recorded in `<out>/slurm/jobs.json`. */
export interface Submission {
  /** Slurm job id of the array of runs. */
  arrayJob: string;
  /** Slurm job id of the report job (runs after the array). */
  reportJob: string;
  /** Indices into the plan of the runs this array trains. */
  indices: number[];
  /** When it was submitted (ISO timestamp). */
  submittedAt: string;
}

/** The folder under `--out` that holds the scripts, jobs.json and the job logs. */
export function slurmDir(outDir: string): string {
  return join(outDir, "slurm");
}

/**
 * An array task's log under `logs/`, as sbatch `--output` names it (`%A`, `%a`), as the task's script finds it,
 * and as the follower reads it: one name for all three.
 */
function taskLogName(job: string, task: string | number): string {
  return `run_${job}_${task}.out`;
}

/** Quote one word for bash (plain words stay as they are, so the script reads like a command line). */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** Check a single-valued sbatch setting: it becomes one `#SBATCH` line, so no spaces or newlines. */
export function checkSbatchValue(flag: string, value: string): string {
  if (value === "" || /\s/.test(value)) {
    throw new OptionError(`--${flag}: "${value}" is not a single sbatch value (no spaces)`);
  }
  return value;
}

/** Split `--sbatch_extra` into sbatch options; each must start with "-". */
export function parseSbatchExtra(text: string): string[] {
  const words = text.split(/\s+/).filter((w) => w.length > 0);
  for (const w of words) {
    if (!w.startsWith("-")) {
      throw new OptionError(
        `--sbatch_extra: "${w}" is not an sbatch option; write options as --name=value, e.g. --constraint=a100`,
      );
    }
  }
  return words;
}

/** `0-10` / `0-3,7,9` for sbatch `--array` (runs of consecutive indices collapse to ranges). */
export function arraySpec(indices: number[]): string {
  const sorted = [...new Set(indices)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(",");
}

function sbatchLines(opts: SlurmOptions, gpu: boolean): string[] {
  const lines: string[] = [];
  const add = (name: string, v: string | undefined) => {
    if (v !== undefined) lines.push(`#SBATCH --${name}=${v}`);
  };
  add("partition", opts.partition);
  add("time", opts.time);
  add("mem", opts.mem);
  if (gpu) add("gres", opts.gres);
  add("account", opts.account);
  add("qos", opts.qos);
  for (const e of opts.extra) lines.push(`#SBATCH ${e}`);
  return lines;
}

function header(sweep: SlurmSweep): string[] {
  return [
    "set -euo pipefail",
    "export NO_COLOR=1 # plain job logs",
    `DENO="\${SA_MTL_DENO:-${sweep.deno}}"`,
    `MAIN=${shellQuote(sweep.main)}`,
  ];
}

/** The job array's script: array task i trains planned run i; `indices` are the tasks submitted. */
export function arrayScript(sweep: SlurmSweep, indices: number[], opts: SlurmOptions): string {
  const logs = join(slurmDir(sweep.outDir), "logs");
  const cases = sweep.runs.map((r, i) =>
    `  ${i}) train ${[r.dir, ...r.args].map(shellQuote).join(" ")} ;;  # ${runLabel(r)}`
  );
  return [
    "#!/bin/bash",
    "# One array task per training run of `deno task compare` (generated; see README, Running on a Slurm",
    "# cluster). Task i runs exactly what the local executor runs for planned run i.",
    `#SBATCH --job-name=${sweep.jobName}`,
    `#SBATCH --array=${arraySpec(indices)}${opts.maxParallel ? `%${opts.maxParallel}` : ""}`,
    `#SBATCH --output=${logs}/${taskLogName("%A", "%a")}`,
    `#SBATCH --chdir=${sweep.cwd}`,
    "#SBATCH --nodes=1",
    "#SBATCH --ntasks=1",
    `#SBATCH --cpus-per-task=${opts.cpusPerTask}`,
    // SIGTERM to the batch shell two minutes before the time limit; train() passes it on to the run, which
    // writes its last checkpoint and stops, and --resume continues from there.
    "#SBATCH --signal=B:TERM@120",
    ...sbatchLines(opts, true),
    ...header(sweep),
    // The task's log, as --output names it (a task run by hand, without Slurm's job id, names no real file).
    `LOG=${shellQuote(logs)}/${taskLogName("${SLURM_ARRAY_JOB_ID:-manual}", "${SLURM_ARRAY_TASK_ID}")}`,
    "",
    "# train DIR ARGS...: finish one run from where its directory stands: skip it when summary.json",
    "# exists, resume it from its last checkpoint, else start it afresh in a clean directory. The run goes",
    "# in the background so that this shell can pass Slurm's SIGTERM (time limit, scancel) on to it and",
    `# see how it ended: a run that fails leaves DIR/${RUN_ERROR_FILE}, which the report lists as failed; one`,
    `# stopped at its checkpoint (exit ${INTERRUPTED_EXIT}) leaves none, and compare --resume continues it.`,
    "train() {",
    '  local dir="$1"',
    "  shift",
    '  if [[ -f "$dir/summary.json" ]]; then',
    '    echo "already finished: $dir"',
    "    exit 0",
    "  fi",
    `  if [[ -f "$dir/${LAST_CHECKPOINT_MANIFEST}" ]]; then`,
    '    set -- run --resume --run="$dir"',
    "  else",
    '    rm -rf "$dir"',
    "  fi",
    `  rm -f "$dir/${RUN_ERROR_FILE}"`,
    // The trap is set before the run starts, so a signal at the very start is not lost (or the run orphaned).
    '  RUN_PID="" STOPPED=0',
    `  trap 'STOPPED=1; [[ -z "$RUN_PID" ]] || kill -TERM "$RUN_PID" 2>/dev/null || true' TERM INT`,
    '  "$DENO" run -A "$MAIN" "$@" &',
    "  RUN_PID=$!",
    '  if (( STOPPED )); then kill -TERM "$RUN_PID" 2>/dev/null || true; fi',
    "  # A trapped signal ends wait early: wait until the run has ended, then read its status (bash keeps it).",
    '  while kill -0 "$RUN_PID" 2>/dev/null; do wait "$RUN_PID" || true; done',
    "  local code=0",
    '  wait "$RUN_PID" || code=$?',
    "  # A run stopped by Slurm is unfinished, not failed, whatever its status: it resumes or starts again.",
    "  # The error: the last five lines of the log, led by its last `error: ...` line (an uncaught exception's",
    "  # message comes before its stack frames); repeated lines once. Failing to write it keeps the run's status.",
    `  if (( code != 0 && code != ${INTERRUPTED_EXIT} && STOPPED == 0 )); then`,
    "    {",
    '      mkdir -p "$dir" &&',
    `        { printf 'array task %s_%s exited with status %s: ' "\${SLURM_ARRAY_JOB_ID:-manual}" "$SLURM_ARRAY_TASK_ID" "$code"`,
    `          { grep -E '^error: ' "$LOG" | tail -n 1; tail -n 5 "$LOG"; } 2>/dev/null |`,
    `            awk '!seen[$0]++ { printf "%s%s", (n++ ? " | " : ""), $0 }' || true`,
    `          printf ' (log %s)\\n' "$LOG"; } > "$dir/${RUN_ERROR_FILE}.tmp" &&`,
    `        mv -f "$dir/${RUN_ERROR_FILE}.tmp" "$dir/${RUN_ERROR_FILE}"`,
    "    } || true",
    "  fi",
    '  exit "$code"',
    "}",
    "",
    'case "$SLURM_ARRAY_TASK_ID" in',
    ...cases,
    '  *) echo "no planned run for array task $SLURM_ARRAY_TASK_ID" >&2; exit 2 ;;',
    "esac",
    "",
  ].join("\n");
}

/** The report job's script (submitted with `--dependency=afterany:<array job>`). */
export function reportScript(sweep: SlurmSweep, opts: SlurmOptions): string {
  return [
    "#!/bin/bash",
    "# Writes report.md and results.json once every array task of the sweep has ended (generated).",
    `#SBATCH --job-name=${sweep.jobName}-report`,
    `#SBATCH --output=${join(slurmDir(sweep.outDir), "logs")}/report_%j.out`,
    `#SBATCH --chdir=${sweep.cwd}`,
    "#SBATCH --nodes=1",
    "#SBATCH --ntasks=1",
    "#SBATCH --cpus-per-task=1",
    ...sbatchLines(opts, false),
    ...header(sweep),
    `exec "$DENO" run -A "$MAIN" ${sweep.reportArgs.map(shellQuote).join(" ")}`,
    "",
  ].join("\n");
}

/** Run a Slurm client command; throws with its stderr when it fails. */
export async function slurmCommand(cmd: string, args: string[]): Promise<string> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new OptionError(`--executor=slurm: ${cmd} not found; run on a Slurm login node`);
    }
    throw e;
  }
  const dec = new TextDecoder();
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")}: ${dec.decode(out.stderr).trim() || `exit ${out.code}`}`);
  }
  return dec.decode(out.stdout);
}

async function sbatch(args: string[]): Promise<string> {
  let text: string;
  try {
    text = await slurmCommand("sbatch", ["--parsable", ...args]);
  } catch (e) {
    // sbatch rejects bad --partition/--time/--gres/... values: that is the user's to fix.
    if (e instanceof OptionError) throw e;
    throw new OptionError(`--executor=slurm: ${(e as Error).message.split("\n")[0]}`);
  }
  const id = text.trim().split(";")[0];
  if (!/^\d+$/.test(id)) throw new Error(`sbatch printed no job id: ${text.trim()}`);
  return id;
}

/**
 * States of the given jobs' tasks still known to squeue: keys are `JOB_TASK` for array tasks and
 * `JOB` for plain jobs; null when squeue cannot answer (slurmctld busy): the caller waits and asks again.
 */
export async function queueStates(jobs: string[]): Promise<Map<string, string> | null> {
  let text: string;
  try {
    text = await slurmCommand("squeue", ["-h", "-r", "-j", jobs.join(","), "-o", "%i|%T"]);
  } catch (e) {
    // Jobs that left the queue long ago are unknown to squeue: nothing is queued.
    if (/Invalid job id/i.test((e as Error).message)) return new Map();
    return null;
  }
  const m = new Map<string, string>();
  for (const line of text.split("\n")) {
    const [id, state] = line.trim().split("|");
    if (id && state) m.set(id, state);
  }
  return m;
}

/** Final states of array tasks from `sacct`, or null where the cluster keeps no accounting. */
export async function accountingStates(job: string): Promise<Map<string, string> | null> {
  try {
    const text = await slurmCommand("sacct", ["-n", "-X", "-P", "-j", job, "-o", "JobID,State,ExitCode"]);
    const m = new Map<string, string>();
    for (const line of text.split("\n")) {
      const [id, state, exit] = line.trim().split("|");
      if (id && state) m.set(id, `${state.split(" ")[0]} (exit ${exit})`);
    }
    return m;
  } catch {
    return null;
  }
}

/** The submissions recorded in `<out>/slurm/jobs.json` (empty when none). */
export async function readSubmissions(outDir: string): Promise<Submission[]> {
  try {
    return JSON.parse(await Deno.readTextFile(join(slurmDir(outDir), "jobs.json"))).submissions ?? [];
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
}

/** Refuse to resubmit while an earlier submission of the same sweep is still queued or running. */
export async function assertNoActiveSubmission(outDir: string): Promise<void> {
  const subs = await readSubmissions(outDir);
  const last = subs.at(-1);
  if (!last) return;
  const states = await queueStates([last.arrayJob, last.reportJob]);
  if (states === null) throw new Error("squeue did not answer; try again");
  if (states.size > 0) {
    throw new OptionError(
      `--resume: jobs ${last.arrayJob} and ${last.reportJob} of --out=${outDir} are still queued or running; ` +
        `wait for them or scancel them first`,
    );
  }
}

/** Write the scripts and submit the array and the report job. */
export async function submitSweep(
  sweep: SlurmSweep,
  indices: number[],
  opts: SlurmOptions,
): Promise<Submission> {
  const dir = slurmDir(sweep.outDir);
  await Deno.mkdir(join(dir, "logs"), { recursive: true });
  const arrayPath = join(dir, "array.sbatch");
  const reportPath = join(dir, "report.sbatch");
  await writeFileAtomic(arrayPath, arrayScript(sweep, indices, opts));
  await writeFileAtomic(reportPath, reportScript(sweep, opts));
  // A resubmitted run's error of an earlier submission no longer stands: a task cancelled before it starts
  // (which is where its script clears it) must not leave the report calling it failed.
  for (const i of indices) await Deno.remove(join(sweep.runs[i].dir, RUN_ERROR_FILE)).catch(() => {});
  const submittedAt = new Date().toISOString();
  const arrayJob = await sbatch([arrayPath]);
  let reportJob: string;
  try {
    reportJob = await sbatch([`--dependency=afterany:${arrayJob}`, reportPath]);
  } catch (e) {
    // Without its report job the array would train for nothing: take it back.
    await slurmCommand("scancel", [arrayJob]).catch(() => {});
    throw e;
  }
  const sub: Submission = { arrayJob, reportJob, indices, submittedAt };
  const subs = await readSubmissions(sweep.outDir);
  await writeJsonAtomic(join(dir, "jobs.json"), { submissions: [...subs, sub] });
  return sub;
}

/** Options of {@link followSweep}. */
export interface FollowOptions {
  log: (s: string) => void;
  /** Longest wait between two looks at the queue (the first looks come faster). */
  maxPollSeconds?: number;
}

/**
 * Follow a submission until its report job has left the queue; returns true when the report job
 * wrote results.json. Progress: `k/N runs done, ETA ...` whenever k changes, and one line per run
 * whose task ended without summary.json.
 */
export async function followSweep(sweep: SlurmSweep, sub: Submission, opts: FollowOptions): Promise<boolean> {
  const t0 = Date.parse(sub.submittedAt);
  const total = sub.indices.length;
  const reported = new Set<number>();
  let lastDone = -1;
  let lastPending = -1;
  // How far each task was when first seen running (a resumed run brings epochs of an earlier submission).
  const startedAt = new Map<number, number>();
  while (true) {
    // Queue first, then the run directories: a task that leaves the queue between the two looks has
    // already written summary.json, so it is never mistaken for a failed one.
    const states = await queueStates([sub.arrayJob, sub.reportJob]);
    if (states !== null) {
      let done = 0;
      let running = 0;
      let pending = 0;
      let inFlight = 0;
      for (const i of sub.indices) {
        const st = states.get(`${sub.arrayJob}_${i}`) ?? (states.has(sub.arrayJob) ? "PENDING" : undefined);
        if ((await runState(sweep.runs[i].dir)) === "done") done++;
        else if (st === "RUNNING" || st === "COMPLETING") {
          running++;
          const now = await runFraction(sweep.runs[i]);
          if (!startedAt.has(i)) startedAt.set(i, now);
          inFlight += Math.max(0, now - startedAt.get(i)!);
        } else if (st !== undefined) pending++;
        else if (!reported.has(i)) {
          reported.add(i);
          // The task's script leaves error.txt when the run failed; without it the run was stopped (scancel,
          // time limit, node failure) and --resume continues it.
          const error = await Deno.readTextFile(join(sweep.runs[i].dir, RUN_ERROR_FILE)).catch(() => null);
          opts.log(
            error === null
              ? `unfinished ${runLabel(sweep.runs[i])}: array task ${sub.arrayJob}_${i} ended without ` +
                `summary.json (log ${join(slurmDir(sweep.outDir), "logs", taskLogName(sub.arrayJob, i))})`
              : `FAILED ${runLabel(sweep.runs[i])}: ${error.trim()}`,
          );
        }
      }
      if (done !== lastDone || (pending !== lastPending && done === 0)) {
        const elapsed = (Date.now() - t0) / 1000;
        opts.log(
          `${progressText(done, total, elapsed, inFlight)} (${running} running, ${pending} pending, ` +
            `${reported.size} ended without finishing; ${formatSeconds(elapsed)})`,
        );
        lastDone = done;
        lastPending = pending;
      }
      if (!states.has(sub.reportJob) && ![...states.keys()].some((k) => k.startsWith(`${sub.arrayJob}_`))) {
        break;
      }
    }
    const waitSec = Math.min(opts.maxPollSeconds ?? 15, Math.max(1, (Date.now() - t0) / 30_000));
    await new Promise((r) => setTimeout(r, waitSec * 1000));
  }
  let written = false;
  try {
    written = (await Deno.stat(join(sweep.outDir, "results.json"))).mtime!.getTime() >= t0 - 1000;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  if (!written) {
    const acct = await accountingStates(sub.arrayJob);
    for (const i of reported) {
      const st = acct?.get(`${sub.arrayJob}_${i}`);
      if (st) opts.log(`  ${runLabel(sweep.runs[i])}: ${st}`);
    }
    const reportLog = join(slurmDir(sweep.outDir), "logs", `report_${sub.reportJob}.out`);
    const tail = await Deno.readTextFile(reportLog).then(
      (t) => t.trim().split("\n").slice(-5).join(" | "),
      () => "no log",
    );
    opts.log(`report job ${sub.reportJob} wrote no results.json: ${tail}`);
  }
  return written;
}
