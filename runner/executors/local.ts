/**
 * The local executor (the default): every run of the sweep in its own `deno run runner/main.ts`
 * process, `jobs` at a time on this machine. Runs already finished in the output directory are skipped
 * and interrupted ones resume from their last checkpoint (see `run_state.ts`).
 * @module
 */
import {
  INTERRUPTED_EXIT,
  launchArgs,
  RUN_ERROR_FILE,
  runFraction,
  runLabel,
  runState,
  type SweepRun,
} from "./run_state.ts";
import { progressText, runWork } from "./progress.ts";
import { join } from "node:path";
import { writeFileAtomic } from "../../core/fs.ts";

/** Options of {@link runLocal}. */
export interface LocalOptions {
  /** Processes at once. */
  jobs: number;
  /** Progress lines (nothing when quiet). */
  log: (s: string) => void;
  /** Called when a run has finished, while its checkpoints are still there (e.g. to score it further). */
  onFinished?: (run: SweepRun) => Promise<void>;
  /**
   * Stop on SIGINT or SIGTERM: start no further run, pass SIGTERM to the running ones (they finish their step,
   * checkpoint and exit 130) and return once they have exited. Without it a signal ends only this process.
   */
  stopOnSignal?: boolean;
}

/** What {@link runLocal} did. */
export interface LocalOutcome {
  /** Runs that failed (each left its error in `<dir>/error.txt`). */
  failed: FailedRun[];
  /** Stopped by a signal (see {@link LocalOptions.stopOnSignal}): the runs not finished resume with --resume. */
  interrupted: boolean;
}

const MAIN = new URL("../main.ts", import.meta.url).pathname;

/**
 * Runs one, tracked in `live` while it runs; its wall seconds, or null when it was interrupted (it
 * checkpointed and resumes later).
 */
async function runOne(run: SweepRun, args: string[], live: Set<Deno.ChildProcess>): Promise<number | null> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const t0 = performance.now();
  live.add(child);
  const out = await child.output().finally(() => live.delete(child));
  if (out.code === INTERRUPTED_EXIT) return null;
  if (!out.success) {
    const err = failureText(new TextDecoder().decode(out.stderr), out.code, out.signal);
    throw new Error(`run ${run.method} seed ${run.seed}${run.task ? ` (${run.task})` : ""} failed: ${err}`);
  }
  return (performance.now() - t0) / 1000;
}

/**
 * The last five lines of a failed run's output, led by its last `error: ...` line (an uncaught exception's
 * message comes before its stack frames, which alone would fill the five lines); repeated lines once. The
 * Slurm array script writes the same.
 */
export function errorTail(output: string): string {
  const lines = output.trim().split("\n");
  const message = lines.findLast((l) => l.startsWith("error: "));
  return [...new Set([...(message === undefined ? [] : [message]), ...lines.slice(-5)])].join(" | ");
}

/**
 * Why a run's process failed: the tail of its stderr ({@link errorTail}), or, when it wrote nothing there, how
 * it ended, since a process killed from outside (the kernel's out-of-memory killer, a user's `kill -9`) leaves
 * no message of its own and "failed: " alone tells a user nothing.
 */
export function failureText(stderr: string, code: number, signal: Deno.Signal | null): string {
  const tail = errorTail(stderr);
  if (tail !== "") return tail;
  return signal !== null
    ? `killed by ${signal} with nothing on stderr (out of memory, or stopped from outside)`
    : `exit code ${code} with nothing on stderr`;
}

/** A run that did not finish: the sweep goes on without it. */
export interface FailedRun {
  run: SweepRun;
  /** The last lines of its error output. */
  error: string;
}

/**
 * Bring every run to its end on this machine. A run that fails is logged, leaves its error in
 * `<dir>/error.txt` and is returned; the others go on. Runs already finished are skipped and left out of
 * the progress count, so the ETA covers only the work left.
 */
export async function runLocal(runs: SweepRun[], opts: LocalOptions): Promise<LocalOutcome> {
  const todo: SweepRun[] = [];
  for (const r of runs) if ((await runState(r.dir)) !== "done") todo.push(r);
  if (todo.length < runs.length) opts.log(`${runs.length - todo.length} runs already finished`);
  const t0 = performance.now();
  let done = 0;
  const failed: FailedRun[] = [];
  const queue = [...todo];
  // The work of this sitting, each run by its size and what it has left (a resumed run brings epochs of an
  // earlier sitting, which this sitting's pace must not count).
  const startAt = new Map<SweepRun, number>();
  for (const r of todo) startAt.set(r, await runFraction(r));
  const work = { done: 0, total: todo.reduce((a, r) => a + runWork(r.args) * (1 - startAt.get(r)!), 0) };
  const running = new Set<SweepRun>();
  const inFlight = async () => {
    let sum = 0;
    for (const r of running) sum += runWork(r.args) * Math.max(0, (await runFraction(r)) - startAt.get(r)!);
    return sum;
  };
  const live = new Set<Deno.ChildProcess>();
  let stopping = false;
  const onSignal = () => {
    // A terminal's Ctrl-C reaches the runs too; the runs count signals within 2 s as one.
    if (stopping) return;
    stopping = true;
    queue.length = 0;
    opts.log(
      `stopping: ${live.size} running run(s) checkpoint after their current step; continue with --resume`,
    );
    for (const c of live) {
      try {
        c.kill("SIGTERM");
      } catch { /* already exited */ }
    }
  };
  const signals: Deno.Signal[] = opts.stopOnSignal ? ["SIGINT", "SIGTERM"] : [];
  for (const s of signals) Deno.addSignalListener(s, onSignal);
  const workers = Array.from({ length: Math.min(opts.jobs, todo.length) }, async () => {
    while (queue.length > 0 && !stopping) {
      const r = queue.shift()!;
      await Deno.remove(join(r.dir, RUN_ERROR_FILE)).catch(() => {});
      let sec: number | null = 0, error: string | null = null;
      try {
        const args = await launchArgs(r);
        running.add(r);
        if (args) sec = stopping ? null : await runOne(r, args, live);
      } catch (e) {
        // A run that dies of the job's own stop signal (before it could checkpoint) is unfinished, not failed.
        if (stopping) sec = null;
        else error = (e as Error).message;
      }
      running.delete(r);
      done++;
      // A failed or interrupted run's work is counted as done too: it is not waiting to be done here.
      work.done += runWork(r.args) * (1 - startAt.get(r)!);
      if (sec === null) {
        // Stopped by a signal of its own (not a failure): it is unfinished, as after a Ctrl-C of the whole job.
        opts.log(`interrupted ${runLabel(r)}: it checkpointed and resumes with --resume`);
        continue;
      }
      const progress = progressText(
        done,
        todo.length,
        (performance.now() - t0) / 1000,
        await inFlight(),
        work,
      );
      if (error === null) {
        opts.log(`done ${runLabel(r)} in ${sec.toFixed(0)} s (${progress})`);
        await opts.onFinished?.(r);
        continue;
      }
      failed.push({ run: r, error });
      opts.log(`FAILED ${runLabel(r)}: ${error} (${progress}; the other runs go on)`);
      await Deno.mkdir(r.dir, { recursive: true }).catch(() => {});
      await writeFileAtomic(join(r.dir, RUN_ERROR_FILE), error + "\n").catch(() => {});
    }
  });
  try {
    await Promise.all(workers);
  } finally {
    for (const s of signals) Deno.removeSignalListener(s, onSignal);
  }
  return { failed, interrupted: stopping };
}
